"""A household's facts, computed from every member's data-pool records. Pure: no database, no clock.

The input is plain data (members and their records), the output frozen dataclasses that the rules
read. Every fact keeps the records it used, and says when data is missing or conflicting, so a
report can explain itself and a person can check it. The definitions (which records count, the
12-month window, who is counted) are written down in docs/eligibility-rules.md; keep the two in step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple, Protocol

from assist_center.identity import age_on

# The categories that show a member has work or income (no record of any: income data missing).
INCOME_EVIDENCE = frozenset(
    {
        "wage",
        "income_tax",
        "social_insurance",
        "employment",
        "unemployment",
        "civil_servant",
        "pension",
        "business_income",
        "business_licence",
        "provident_fund",
    }
)
WINDOW_DAYS = 365  # "the last 12 months": records dated in (as_of - 365 days, as_of]
RECENT_WAGE_DAYS = 92  # a wage paid in the last three months means the member is working
WORKING_AGE = (18, 60)  # [18, 60): expected to have work or income unless a record explains why
CENT = Decimal("0.01")
ZERO = Decimal("0")

# Vehicles that do not count as assets (domain.md): motorcycles, vehicles for disabled drivers,
# farm vehicles. Matched as substrings of the registration's vehicle type.
EXEMPT_VEHICLE_MARKERS = ("摩托", "残疾人专用", "农用", "拖拉机")
ENDED_STATUSES = frozenset(
    {
        "注销",
        "报废",
        "终止",
        "退出",
        "离职",
        "离任",
        "吊销",
        "已终止",
        "迁出",
        "停保",
        "销户",
        "已履行",
        "已康复",
        "已就业",
        "已注销",
        "毕业",
        "退学",
    }
)
ASSET_CATEGORIES = {"deposit": "balance", "securities": "market_value", "wealth_product": "value"}
RECIPIENT_ITEMS = ("dibao", "low_income_edge", "extreme_poverty")
HOUSEHOLD_ROLES = frozenset({"applicant", "member"})


class RecordLike(Protocol):
    """What eligibility.pool.selectors.records_for_persons returns for each record."""

    @property
    def category(self) -> str: ...
    @property
    def department(self) -> str: ...
    @property
    def source_record_id(self) -> str: ...
    @property
    def effective_date(self) -> dt.date: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class RecordRow:
    category: str
    department: str
    source_record_id: str
    effective_date: dt.date
    data: Mapping[str, Any]


class MemberInput(NamedTuple):
    """One person named in the application; `key` ("m1", ...) names them in reports, not the hash.

    A tuple rather than a frozen dataclass: a bulk re-check builds one per registered person.
    """

    key: str
    person_hash: str
    role: str  # applicant / member / supporter
    relation: str
    birth_date: dt.date
    sex: str
    name: str = ""


@dataclass(frozen=True)
class RecordRef:
    member: str
    category: str
    department: str
    source_record_id: str
    effective_date: dt.date

    def as_dict(self) -> dict[str, str]:
        return {
            "member": self.member,
            "category": self.category,
            "department": self.department,
            "source_record_id": self.source_record_id,
            "effective_date": self.effective_date.isoformat(),
        }


@dataclass(frozen=True)
class Fact:
    value: Any
    unit: str = ""
    sources: tuple[RecordRef, ...] = ()
    # Plain-Chinese sentences saying what is missing or contradicts; either makes the fact unknown.
    missing: tuple[str, ...] = ()
    conflict: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return not self.missing and not self.conflict

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": _plain(self.value),
            "unit": self.unit,
            "sources": [r.as_dict() for r in self.sources],
            "missing": list(self.missing),
            "conflict": list(self.conflict),
        }


@dataclass(frozen=True)
class MemberFacts:
    key: str
    name: str
    role: str
    relation: str
    sex: str
    age: int
    alive: bool
    counted: bool  # counted in the household's size (a living household member)
    monthly_income: Decimal
    employment: str  # employed / unemployed / retired / unknown
    disability_grade: int | None = None
    disability_kind: str = ""
    is_student: bool = False
    student_stage: str = ""
    in_pension_insurance: bool = False
    serious_illness: bool = False
    state_employee: bool = False
    label: str = ""  # "m2（配偶）" style, for reasons

    def as_dict(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class HouseholdFacts:
    as_of: dt.date
    members: tuple[MemberFacts, ...]
    supporters: tuple[MemberFacts, ...]
    counted_members: Fact
    household_income_month: Fact
    income_per_person_month: Fact
    financial_assets: Fact
    vehicles: Fact
    exempt_vehicles: Fact
    housing_count: Fact
    housing_area_per_person: Fact
    commercial_property: Fact
    unsafe_housing: Fact
    business: Fact
    pension: Fact
    tax: Fact
    medical_spending: Fact
    disability: Fact
    employment: Fact
    students: Fact
    state_employee: Fact
    recipient_items: Fact
    disaster: Fact
    serious_illness: Fact
    electricity: Fact
    pension_insurance: Fact
    supporter_income: Fact
    deaths: Fact
    enforcement: Fact

    def living_members(self) -> tuple[MemberFacts, ...]:
        # Computed once per instance (the rules ask for it several times); the dataclass is frozen,
        # so the cache goes straight into __dict__, outside the fields (eq, repr, as_dict ignore it).
        cached: tuple[MemberFacts, ...] | None = self.__dict__.get("_living")
        if cached is None:
            cached = tuple(m for m in self.members if m.counted)
            self.__dict__["_living"] = cached
        return cached

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"as_of": self.as_of.isoformat()}
        for name, value in self.__dict__.items():
            if isinstance(value, Fact):
                out[name] = value.as_dict()
        out["members"] = [m.as_dict() for m in self.members]
        out["supporters"] = [m.as_dict() for m in self.supporters]
        return out


def _plain(value: Any) -> Any:
    """A JSON-ready copy: Decimal as a string with two places, dates ISO, tuples as lists."""
    if isinstance(value, Decimal):
        return str(value.quantize(CENT))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


# --- reading record values ------------------------------------------------------------------


def dec(value: Any) -> Decimal | None:
    """A record's amount as Decimal; departments send "1,234.50", 1234.5 or "1234.50元"."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    text = str(value).strip().replace(",", "").replace("，", "").removesuffix("元")
    try:
        result = Decimal(text)
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _int(value: Any, default: int | None = None) -> int | None:
    d = dec(value)
    return int(d) if d is not None else default


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "y", "是", "t"}


def _status(rec: RecordLike) -> str:
    return str(rec.data.get("status", "")).strip()


def _active(rec: RecordLike) -> bool:
    return _status(rec) not in ENDED_STATUSES


_MONEY: dict[Decimal, str] = {}


def money(value: Decimal) -> str:
    """1234.5 -> "1,234.50" (how amounts read in the reasons)."""
    # Equal Decimals format alike (quantize depends on the value only), and the same thresholds
    # and amounts recur across a bulk re-check, so remember a bounded number of them.
    if type(value) is not Decimal:
        return f"{value.quantize(CENT):,}"
    try:
        return _MONEY[value]
    except KeyError:
        if len(_MONEY) > 65536:
            _MONEY.clear()
        text = _MONEY[value] = f"{value.quantize(CENT):,}"
        return text


# --- computing ------------------------------------------------------------------------------

RELATION_LABELS = {
    "self": "本人",
    "spouse": "配偶",
    "child": "子女",
    "parent": "父母",
    "grandchild": "孙子女",
    "grandparent": "祖父母",
    "sibling": "兄弟姐妹",
    "other": "其他",
}


class _Member:
    """One member's records, grouped by category once (records dated after `as_of` left out).

    The facts ask for the same categories many times per member; grouping once and remembering
    each category's latest snapshots replaces a scan of every record per question.
    """

    __slots__ = ("_by_category", "_latest", "_latest_each", "as_of", "inp", "label", "records", "refs")

    def __init__(self, inp: MemberInput, records: list[RecordLike], as_of: dt.date) -> None:
        self.inp = inp
        self.records = records
        self.as_of = as_of
        self.refs: dict[int, RecordRef] = {}
        by_category: dict[str, list[RecordLike]] = {}
        for r in records:
            if r.effective_date <= as_of:
                group = by_category.get(r.category)
                if group is None:
                    by_category[r.category] = [r]
                else:
                    group.append(r)
        self._by_category = by_category
        self._latest_each: dict[str, list[RecordLike]] = {}
        self._latest: dict[str, RecordLike | None] = {}
        relation = RELATION_LABELS.get(inp.relation, inp.relation)
        self.label = f"{inp.name or inp.key}（{relation}）"

    def ref(self, rec: RecordLike) -> RecordRef:
        key = id(rec)
        found = self.refs.get(key)
        if found is None:
            found = self.refs[key] = RecordRef(
                self.inp.key, rec.category, rec.department, str(rec.source_record_id), rec.effective_date
            )
        return found

    def has_any(self, categories: Iterable[str]) -> bool:
        """Whether any record (on or before as-of) is of one of these categories."""
        by_category = self._by_category
        return any(c in by_category for c in categories)

    def of(self, category: str) -> list[RecordLike]:
        """The category's records on or before as-of, in input order (do not mutate)."""
        return self._by_category.get(category) or []

    def latest_each(self, category: str) -> list[RecordLike]:
        """The latest record of each source record id (a balance or status snapshot)."""
        found = self._latest_each.get(category)
        if found is None:
            best: dict[str, RecordLike] = {}
            for r in self._by_category.get(category, ()):
                key = str(r.source_record_id)
                current = best.get(key)
                if current is None or r.effective_date > current.effective_date:
                    best[key] = r
            found = self._latest_each[category] = list(best.values())
        return found

    def latest(self, category: str) -> RecordLike | None:
        if category in self._latest:
            return self._latest[category]
        recs = self._by_category.get(category)
        found = max(recs, key=lambda r: (r.effective_date, str(r.source_record_id))) if recs else None
        self._latest[category] = found
        return found


@dataclass
class _Income:
    monthly: Decimal
    sources: list[RecordRef]
    has_any_record: bool
    conflict: str = ""


def _in_window(rec: RecordLike, as_of: dt.date) -> bool:
    return as_of - dt.timedelta(days=WINDOW_DAYS) < rec.effective_date <= as_of


def _member_income(m: _Member, as_of: dt.date) -> _Income:
    """Monthly income of one person over the 12-month window (docs/eligibility-rules.md)."""
    sources: list[RecordRef] = []
    wage_recs = [r for r in m.of("wage") if _in_window(r, as_of)]
    tax_recs = [r for r in m.of("income_tax") if _in_window(r, as_of)]
    wage_total = sum((dec(r.data.get("amount")) or ZERO for r in wage_recs), ZERO)
    tax_total = sum((dec(r.data.get("income")) or ZERO for r in tax_recs), ZERO)
    state = [r for r in m.latest_each("civil_servant") if _active(r)]
    state_total = sum((dec(r.data.get("monthly_salary")) or ZERO for r in state), ZERO) * 12
    # Payroll, tax declaration and the state payroll describe the same earnings: take the largest
    # rather than adding them, so a wage is neither counted twice nor missed when one source lags.
    options = [(wage_total, wage_recs), (tax_total, tax_recs), (state_total, state)]
    earned, used = max(options, key=lambda o: o[0])
    sources += [m.ref(r) for r in used if earned > 0]
    annual = earned
    for r in m.of("business_income"):
        if _in_window(r, as_of):
            annual += dec(r.data.get("amount")) or ZERO
            sources.append(m.ref(r))
    # Ongoing payments in force on the as-of date count at their current monthly rate.
    for category, amount_field in (
        ("pension", "monthly_amount"),
        ("rental_income", "monthly_rent"),
        ("unemployment", "benefit_monthly"),
    ):
        for r in m.latest_each(category):
            amount = dec(r.data.get(amount_field))
            if _active(r) and amount:
                annual += amount * 12
                sources.append(m.ref(r))
    has_any = m.has_any(INCOME_EVIDENCE)
    conflict = ""
    unemployment = m.latest("unemployment")
    insured = [r for r in m.latest_each("social_insurance") if _active(r)]
    if unemployment is not None and _active(unemployment) and insured:
        newest_insured = max(r.effective_date for r in insured)
        if newest_insured >= unemployment.effective_date:
            conflict = f"{m.label}有失业登记，同时社保显示单位正常缴费"
            sources += [m.ref(unemployment), *(m.ref(r) for r in insured)]
    return _Income((annual / 12).quantize(CENT), sources, has_any, conflict)


def _employment(m: _Member, as_of: dt.date) -> str:
    if any(_active(r) for r in m.latest_each("civil_servant")):
        return "employed"
    unemployment = m.latest("unemployment")
    if unemployment is not None and _active(unemployment):
        return "unemployed"
    if any(_active(r) for r in m.latest_each("employment")):
        return "employed"
    if any(_active(r) for r in m.latest_each("social_insurance")):
        return "employed"
    recent = as_of - dt.timedelta(days=RECENT_WAGE_DAYS)
    if any(r.effective_date > recent for r in m.of("wage")):
        return "employed"
    if any(_active(r) for r in m.latest_each("pension")):
        return "retired"
    return "unknown"


def _death(m: _Member, as_of: dt.date) -> tuple[dt.date | None, list[RecordRef], str]:
    """(date of death, records, conflict sentence). Two different death dates contradict."""
    dates: dict[dt.date, list[RecordRef]] = defaultdict(list)
    for r in m.of("death"):
        day = _date(r.data.get("death_date")) or r.effective_date
        dates[day].append(m.ref(r))
    cremations = m.of("funeral")
    refs = [ref for v in dates.values() for ref in v] + [m.ref(r) for r in cremations]
    if len(dates) > 1:
        shown = "、".join(d.isoformat() for d in sorted(dates))
        return min(dates), refs, f"{m.label}有两条死亡登记，日期不同（{shown}）"
    if dates:
        return next(iter(dates)), refs, ""
    if cremations:
        first = min(cremations, key=lambda r: r.effective_date)
        return _date(first.data.get("cremation_date")) or first.effective_date, refs, ""
    return None, [], ""


def _hukou(m: _Member, as_of: dt.date) -> tuple[list[RecordRef], str, str]:
    """(records, missing sentence, conflict sentence) of the member's household registration."""
    active = [r for r in m.latest_each("hukou") if _active(r)]
    if not active:
        return [], f"{m.label}没有有效的户籍登记记录", ""
    numbers = {str(r.data.get("household_number", "")).strip() for r in active}
    refs = [m.ref(r) for r in active]
    if len(numbers) > 1:
        return refs, "", f"{m.label}同时登记在两个户籍（户号不一致）"
    return refs, "", ""


@dataclass
class _MemberResult:
    facts: MemberFacts
    income: _Income
    refs: dict[str, list[RecordRef]]
    # Kept apart by what is missing, not told apart by words in the sentence: a name or relation
    # could contain those words.
    registration_missing: list[str]
    income_missing: list[str]
    conflicts: list[str]


def _member_facts(m: _Member, as_of: dt.date) -> _MemberResult:
    inp = m.inp
    age = age_on(inp.birth_date, as_of)
    refs: dict[str, list[RecordRef]] = defaultdict(list)
    registration_missing: list[str] = []
    income_missing: list[str] = []
    conflicts: list[str] = []
    death_day, death_refs, death_conflict = _death(m, as_of)
    refs["deaths"] += death_refs
    if death_conflict:
        conflicts.append(death_conflict)
    alive = death_day is None or death_day > as_of
    household = inp.role in HOUSEHOLD_ROLES
    if household and alive:
        hukou_refs, hukou_missing, hukou_conflict = _hukou(m, as_of)
        refs["members"] += hukou_refs
        if hukou_missing:
            registration_missing.append(hukou_missing)
        if hukou_conflict:
            conflicts.append(hukou_conflict)
    income = _member_income(m, as_of) if alive else _Income(ZERO, [], False)
    cert = m.latest("disability")
    grade = _int(cert.data.get("grade")) if cert is not None and _active(cert) else None
    if cert is not None and grade is not None:
        refs["disability"].append(m.ref(cert))
    student = m.latest("student")
    is_student = student is not None and _status(student) == "在读"
    if is_student and student is not None:
        refs["students"].append(m.ref(student))
    employment = _employment(m, as_of)
    insurance = m.latest("pension_insurance")
    insured = insurance is not None and _active(insurance)
    if insured and insurance is not None:
        refs["pension_insurance"].append(m.ref(insurance))
    illness = [r for r in m.latest_each("serious_illness") if _active(r)]
    refs["serious_illness"] += [m.ref(r) for r in illness]
    state = [r for r in m.latest_each("civil_servant") if _active(r)]
    refs["state_employee"] += [m.ref(r) for r in state]
    low, high = WORKING_AGE
    excused = is_student or (grade is not None and grade <= 2)
    if alive and low <= age < high and not excused and not income.has_any_record:
        income_missing.append(f"{m.label}处于劳动年龄，但数据池中没有就业、失业或收入记录")
    facts = MemberFacts(
        key=inp.key,
        name=inp.name,
        role=inp.role,
        relation=inp.relation,
        sex=inp.sex,
        age=age,
        alive=alive,
        counted=household and alive,
        monthly_income=income.monthly,
        employment=employment if alive else "deceased",
        disability_grade=grade,
        disability_kind=str(cert.data.get("kind", "")) if cert is not None and grade is not None else "",
        is_student=is_student,
        student_stage=str(student.data.get("stage", "")) if is_student and student is not None else "",
        in_pension_insurance=insured,
        serious_illness=bool(illness),
        state_employee=bool(state),
        label=m.label,
    )
    return _MemberResult(facts, income, refs, registration_missing, income_missing, conflicts)


def _sum_fact(values: Iterable[tuple[Decimal, RecordRef]], unit: str = "元") -> Fact:
    total = ZERO
    sources = []
    for amount, ref in values:
        total += amount
        sources.append(ref)
    return Fact(total.quantize(CENT), unit, tuple(sources))


def compute_facts(
    members: Sequence[MemberInput], records: Mapping[str, Sequence[RecordLike]], *, as_of: dt.date
) -> HouseholdFacts:
    """Every fact of the household on `as_of` from its members' records (keyed by person hash)."""
    ms = [_Member(inp, list(records.get(inp.person_hash, ())), as_of) for inp in members]
    results = [_member_facts(m, as_of) for m in ms]
    household = [(m, r) for m, r in zip(ms, results, strict=True) if m.inp.role in HOUSEHOLD_ROLES]
    supporters = [(m, r) for m, r in zip(ms, results, strict=True) if m.inp.role not in HOUSEHOLD_ROLES]
    living = [(m, r) for m, r in household if r.facts.counted]

    member_missing = tuple(s for _m, r in household for s in r.registration_missing)
    member_conflict = tuple(s for _m, r in household for s in r.conflicts)
    member_refs = tuple(ref for _m, r in household for key in ("members", "deaths") for ref in r.refs[key])
    counted = Fact(len(living), "人", member_refs, member_missing, member_conflict)
    if not living:
        counted = Fact(0, "人", member_refs, (*member_missing, "申请中没有在世的家庭成员"), member_conflict)

    income_sources = tuple(ref for _m, r in living for ref in r.income.sources)
    income_missing = tuple(s for _m, r in living for s in r.income_missing)
    income_conflict = tuple(r.income.conflict for _m, r in living if r.income.conflict)
    total_income = sum((r.facts.monthly_income for _m, r in living), ZERO).quantize(CENT)
    household_income = Fact(total_income, "元/月", income_sources, income_missing, income_conflict)
    if counted.value and counted.known:
        per_person = (total_income / counted.value).quantize(CENT)
        income_pp = Fact(per_person, "元/月", income_sources, income_missing, income_conflict)
    else:
        income_pp = Fact(
            None,
            "元/月",
            income_sources,
            (*income_missing, *counted.missing),
            (*income_conflict, *counted.conflict),
        )

    def assets() -> Fact:
        items: list[tuple[Decimal, RecordRef]] = []
        for m, _r in household:
            for category, amount_field in ASSET_CATEGORIES.items():
                for rec in m.latest_each(category):
                    amount = dec(rec.data.get(amount_field))
                    if amount:
                        items.append((amount, m.ref(rec)))
        return _sum_fact(items)

    vehicles: list[RecordRef] = []
    exempt: list[RecordRef] = []
    residential: list[tuple[Decimal, RecordRef]] = []
    commercial: list[RecordRef] = []
    unsafe: list[RecordRef] = []
    business: list[RecordRef] = []
    pension: list[tuple[Decimal, RecordRef]] = []
    tax: list[tuple[Decimal, RecordRef]] = []
    medical: list[tuple[Decimal, RecordRef]] = []
    recipient: dict[str, list[RecordRef]] = defaultdict(list)
    disasters: list[RecordRef] = []
    electricity: list[RecordRef] = []
    enforcement: list[RecordRef] = []
    for m, _r in household:
        for rec in m.latest_each("vehicle"):
            if not _active(rec) or str(rec.data.get("status", "")).strip() in {"注销", "报废"}:
                continue
            kind = str(rec.data.get("vehicle_type", ""))
            (exempt if any(x in kind for x in EXEMPT_VEHICLE_MARKERS) else vehicles).append(m.ref(rec))
        for rec in m.latest_each("real_estate"):
            if not _active(rec):
                continue
            if str(rec.data.get("property_kind", "")).strip() in {"住宅", "居住", ""}:
                share = dec(rec.data.get("share")) or Decimal(1)
                residential.append(((dec(rec.data.get("area")) or ZERO) * share, m.ref(rec)))
            else:
                commercial.append(m.ref(rec))
        latest_unsafe = m.latest("unsafe_housing")
        if latest_unsafe is not None and str(latest_unsafe.data.get("grade", "")).upper() in {"C", "D"}:
            unsafe.append(m.ref(latest_unsafe))
        business += [m.ref(r) for r in m.latest_each("business_licence") if _active(r)]
        business += [m.ref(r) for r in m.latest_each("company_officer") if _active(r)]
        for rec in m.latest_each("pension"):
            amount = dec(rec.data.get("monthly_amount"))
            if _active(rec) and amount:
                pension.append((amount, m.ref(rec)))
        for rec in m.of("income_tax"):
            amount = dec(rec.data.get("tax_paid"))
            if _in_window(rec, as_of) and amount:
                tax.append((amount, m.ref(rec)))
        for rec in m.of("medical_expense"):
            amount = dec(rec.data.get("out_of_pocket"))
            if _in_window(rec, as_of) and amount:
                medical.append((amount, m.ref(rec)))
        for rec in m.latest_each("existing_recipient"):
            if _active(rec):
                recipient[str(rec.data.get("item", "")).strip()].append(m.ref(rec))
        disasters += [m.ref(r) for r in m.of("disaster") if _in_window(r, as_of)]
        electricity += [m.ref(r) for r in m.latest_each("electricity")]
        enforcement += [m.ref(r) for r in m.latest_each("enforcement") if _active(r)]

    residential_area = sum((a for a, _ in residential), ZERO)
    if counted.value and counted.known:
        area_pp = Fact(
            (residential_area / counted.value).quantize(CENT),
            "平方米/人",
            tuple(ref for _, ref in residential),
        )
    else:
        area_pp = Fact(
            None, "平方米/人", tuple(ref for _, ref in residential), counted.missing, counted.conflict
        )

    supporter_income = Fact(
        max((r.facts.monthly_income for _m, r in supporters if r.facts.alive), default=ZERO),
        "元/月",
        tuple(ref for _m, r in supporters for ref in r.income.sources),
        tuple(s for _m, r in supporters for s in r.income_missing),
        tuple(r.income.conflict for _m, r in supporters if r.income.conflict),
    )
    this_year_deaths = tuple(
        ref for _m, r in household for ref in r.refs["deaths"] if _in_window_ref(ref, as_of)
    )

    def refs_of(key: str) -> tuple[RecordRef, ...]:
        return tuple(ref for _m, r in living for ref in r.refs[key])

    living_facts = [r.facts for _m, r in living]
    return HouseholdFacts(
        as_of=as_of,
        members=tuple(r.facts for _m, r in household),
        supporters=tuple(r.facts for _m, r in supporters),
        counted_members=counted,
        household_income_month=household_income,
        income_per_person_month=income_pp,
        financial_assets=assets(),
        vehicles=Fact(len(vehicles), "辆", tuple(vehicles)),
        exempt_vehicles=Fact(len(exempt), "辆", tuple(exempt)),
        housing_count=Fact(len(residential), "套", tuple(ref for _, ref in residential)),
        housing_area_per_person=area_pp,
        commercial_property=Fact(len(commercial), "处", tuple(commercial)),
        unsafe_housing=Fact(bool(unsafe), "", tuple(unsafe)),
        business=Fact(len(business), "个", tuple(business)),
        pension=_sum_fact(pension, "元/月"),
        tax=_sum_fact(tax),
        medical_spending=_sum_fact(medical),
        disability=Fact(
            tuple((f.key, f.disability_grade, f.disability_kind) for f in living_facts if f.disability_grade),
            "",
            refs_of("disability"),
        ),
        employment=Fact(tuple((f.key, f.employment) for f in living_facts), ""),
        students=Fact(sum(1 for f in living_facts if f.is_student), "人", refs_of("students")),
        state_employee=Fact(
            sum(1 for f in living_facts if f.state_employee), "人", refs_of("state_employee")
        ),
        recipient_items=Fact(
            tuple(sorted(recipient)), "", tuple(ref for v in recipient.values() for ref in v)
        ),
        disaster=Fact(len(disasters), "次", tuple(disasters)),
        serious_illness=Fact(
            sum(1 for f in living_facts if f.serious_illness), "人", refs_of("serious_illness")
        ),
        electricity=Fact(bool(electricity), "", tuple(electricity)),
        pension_insurance=Fact(
            sum(1 for f in living_facts if f.in_pension_insurance), "人", refs_of("pension_insurance")
        ),
        supporter_income=supporter_income,
        deaths=Fact(len(this_year_deaths), "人", this_year_deaths),
        enforcement=Fact(len(enforcement), "条", tuple(enforcement)),
    )


def _in_window_ref(ref: RecordRef, as_of: dt.date) -> bool:
    return as_of - dt.timedelta(days=WINDOW_DAYS) < ref.effective_date <= as_of


# --- reproducibility ------------------------------------------------------------------------


def canonical_inputs(
    members: Sequence[MemberInput], records: Mapping[str, Sequence[RecordLike]], *, as_of: dt.date
) -> dict[str, Any]:
    """The facts' inputs in a canonical, JSON-ready form: same inputs, same bytes."""
    return {
        "as_of": as_of.isoformat(),
        "members": [
            {
                "key": m.key,
                "person": m.person_hash,
                "role": m.role,
                "relation": m.relation,
                "birth_date": m.birth_date.isoformat(),
                "sex": m.sex,
                "records": sorted(
                    (
                        [
                            r.category,
                            r.department,
                            str(r.source_record_id),
                            r.effective_date.isoformat(),
                            _plain(dict(r.data)),
                        ]
                        for r in records.get(m.person_hash, ())
                    ),
                    key=lambda row: json.dumps(row, sort_keys=True, ensure_ascii=False),
                ),
            }
            for m in sorted(members, key=lambda m: m.key)
        ],
    }


def input_hash(payload: Mapping[str, Any]) -> str:
    """SHA-256 of canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
