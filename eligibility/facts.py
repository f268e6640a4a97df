"""A household's facts, computed from every member's data-pool records. Pure: no database, no clock.

The input is plain data (members and their records). One computation (`_household`) yields the
values the rules decide on (`LeanFacts`); `compute_facts` runs it collecting, for a report, the
records each fact used and the sentences saying what data is missing or conflicting
(`HouseholdFacts`), so a report can explain itself and a person can check it. A bulk run calls
`lean_facts`, the same computation without the collecting. The definitions (which records count, the
12-month window, who is counted) are written down in docs/eligibility-rules.md; keep the two in step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
    # The values the rules decide on, computed in the same pass (compute_facts); the Facts above
    # are what a report shows of them.
    lean: LeanFacts = field(repr=False, compare=False)

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
    # _status inlined: a bulk run asks this of most records.
    return str(rec.data.get("status", "")).strip() not in ENDED_STATUSES


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
ONE = Decimal(1)
_ONGOING_INCOME = (
    ("pension", "monthly_amount"),
    ("rental_income", "monthly_rent"),
    ("unemployment", "benefit_monthly"),
)
_INCOME_SOURCES = frozenset(
    {"wage", "income_tax", "civil_servant", "business_income", *(c for c, _f in _ONGOING_INCOME)}
)
_EMPLOYMENT_EVIDENCE = frozenset(
    {"civil_servant", "unemployment", "employment", "social_insurance", "wage", "pension"}
)
# The categories whose records add to a household's property, spending and recipient facts.
_HOUSEHOLD_CATEGORIES = frozenset(
    {
        *ASSET_CATEGORIES,
        "vehicle",
        "real_estate",
        "unsafe_housing",
        "business_licence",
        "company_officer",
        "medical_expense",
        "existing_recipient",
        "disaster",
    }
)
_RESIDENTIAL = frozenset({"住宅", "居住", ""})
_UNSAFE = frozenset({"C", "D"})  # the grades of dangerous housing
_NONE: tuple[RecordLike, ...] = ()
# Shared empty lists for a bulk run, which never appends to them (every append is under `ref`).
_NO_TEXT: list[str] = []
_NO_REFS: list[RecordRef] = []


class LeanMember(NamedTuple):
    """A living household member, as the rules decide on them (HouseholdFacts.living_members order)."""

    age: int
    disability_grade: int | None
    is_student: bool
    student_stage: str
    employment: str
    in_pension_insurance: bool


class LeanFacts(NamedTuple):
    """What the rules decide on; None for a value whose fact is not known (missing or conflicting).

    A tuple because a bulk run builds one per household. `compute_facts` computes the same values
    in the same pass and attaches them to the explained facts as `HouseholdFacts.lean`.
    """

    as_of: dt.date
    living: tuple[LeanMember, ...]
    members_known: bool
    counted: int
    income_month: Decimal | None
    income_per_person: Decimal | None
    financial_assets: Decimal
    vehicles: int
    housing_count: int
    housing_area_per_person: Decimal | None
    commercial_property: int
    unsafe_housing: bool
    business: int
    state_employees: int
    medical_spending: Decimal
    recipient_items: tuple[str, ...]
    newest_disaster: dt.date | None  # the latest effective date of the disaster fact's records
    newest_death: dt.date | None  # likewise of the deaths fact's records
    serious_illness: int
    electricity: bool
    has_supporters: bool
    supporter_income: Decimal | None


_AMOUNTS: dict[str, Decimal | None] = {}


def _amount(value: object) -> Decimal | None:
    """dec(value), remembered for text: the same amounts recur across a bulk run (a monthly wage)."""
    if type(value) is not str:
        return dec(value)
    try:
        return _AMOUNTS[value]
    except KeyError:
        if len(_AMOUNTS) > 65536:
            _AMOUNTS.clear()
        amount = _AMOUNTS[value] = dec(value)
        return amount


def group_records(records: Iterable[RecordLike], as_of: dt.date) -> dict[str, list[RecordLike]]:
    """One person's records on or before `as_of` by category, in input order (do not mutate).

    The facts ask for the same categories many times per person; grouping once replaces a scan of
    every record per question.
    """
    by_category: dict[str, list[RecordLike]] = {}
    for r in records:
        if r.effective_date <= as_of:
            group = by_category.get(r.category)
            if group is None:
                by_category[r.category] = [r]
            else:
                group.append(r)
    return by_category


def latest_each(recs: Sequence[RecordLike] | None) -> Sequence[RecordLike]:
    """The latest record of each source record id (a balance or status snapshot), first seen first."""
    if not recs:
        return _NONE
    if len(recs) == 1:
        return recs
    best: dict[str, RecordLike] = {}
    for r in recs:
        key = str(r.source_record_id)
        current = best.get(key)
        if current is None or r.effective_date > current.effective_date:
            best[key] = r
    return list(best.values())


def _latest_key(r: RecordLike) -> tuple[dt.date, str]:
    return r.effective_date, str(r.source_record_id)


def _latest(recs: Sequence[RecordLike]) -> RecordLike:
    return recs[0] if len(recs) == 1 else max(recs, key=_latest_key)


def latest(recs: Sequence[RecordLike] | None) -> RecordLike | None:
    """The latest of some records (by date, then source record id), or None."""
    return _latest(recs) if recs else None


def _effective(r: RecordLike) -> dt.date:
    return r.effective_date


class _Refs:
    """One person's record references, for the explained facts (a bulk run passes None instead)."""

    __slots__ = ("key", "label")

    def __init__(self, inp: MemberInput) -> None:
        self.key = inp.key
        relation = RELATION_LABELS.get(inp.relation, inp.relation)
        self.label = f"{inp.name or inp.key}（{relation}）"

    def __call__(self, r: RecordLike) -> RecordRef:
        return RecordRef(self.key, r.category, r.department, str(r.source_record_id), r.effective_date)

    def all(self, recs: Iterable[RecordLike]) -> list[RecordRef]:
        return [self(r) for r in recs]


def _income(
    by_category: Mapping[str, Sequence[RecordLike]], window_start: dt.date, sources: list[RecordLike] | None
) -> tuple[Decimal, bool, list[RecordLike] | None]:
    """(monthly income, has any work or income record, the contradicting records or None).

    The 12-month income of docs/eligibility-rules.md. Given `sources`, the records it used are appended
    to `sources` in the order the report lists them.
    """
    has_any = not by_category.keys().isdisjoint(INCOME_EVIDENCE)
    get = by_category.get
    if by_category.keys().isdisjoint(_INCOME_SOURCES):
        return (ZERO / 12).quantize(CENT), has_any, None  # a child, most elderly: nothing below
    wage_total = tax_total = state_total = ZERO
    for r in get("wage", _NONE):
        if r.effective_date > window_start:
            wage_total += _amount(r.data.get("amount")) or ZERO
    for r in get("income_tax", _NONE):
        if r.effective_date > window_start:
            tax_total += _amount(r.data.get("income")) or ZERO
    state: Sequence[RecordLike] = _NONE
    if recs := get("civil_servant"):
        state = [r for r in latest_each(recs) if _active(r)]
        for r in state:
            state_total += _amount(r.data.get("monthly_salary")) or ZERO
    # Payroll, tax declaration and the state payroll describe the same earnings: take the largest
    # rather than adding them, so a wage is neither counted twice nor missed when one source lags.
    annual = max(wage_total, tax_total, state_total * 12)
    if sources is not None and annual > 0:
        # The records of the largest (the first of equals), every one of them in the window.
        if wage_total == annual or tax_total == annual:
            category = "wage" if wage_total == annual else "income_tax"
            sources += [r for r in get(category, _NONE) if r.effective_date > window_start]
        else:
            sources += state
    for r in get("business_income", _NONE):
        if r.effective_date > window_start:
            annual += _amount(r.data.get("amount")) or ZERO
            if sources is not None:
                sources.append(r)
    # Ongoing payments in force on the as-of date count at their current monthly rate.
    for category, amount_field in _ONGOING_INCOME:
        if recs := get(category):
            for r in latest_each(recs):
                amount = _amount(r.data.get(amount_field))
                if _active(r) and amount:
                    annual += amount * 12
                    if sources is not None:
                        sources.append(r)
    conflict: list[RecordLike] | None = None
    unemployment = latest(recs) if (recs := get("unemployment")) else None
    if unemployment is not None and _active(unemployment):
        insured = [r for r in latest_each(get("social_insurance")) if _active(r)]
        if insured and max(r.effective_date for r in insured) >= unemployment.effective_date:
            conflict = [unemployment, *insured]
            if sources is not None:
                sources += conflict
    return (annual / 12).quantize(CENT), has_any, conflict


def _employment(by_category: Mapping[str, Sequence[RecordLike]], recent_wage: dt.date) -> str:
    if by_category.keys().isdisjoint(_EMPLOYMENT_EVIDENCE):
        return "unknown"
    get = by_category.get
    # Each category is looked up before it is read: most people have none of most of them.
    if (recs := get("civil_servant")) and any(_active(r) for r in latest_each(recs)):
        return "employed"
    if (recs := get("unemployment")) and _active(_latest(recs)):
        return "unemployed"
    for category in ("employment", "social_insurance"):
        if (recs := get(category)) and any(_active(r) for r in latest_each(recs)):
            return "employed"
    if (recs := get("wage")) and any(r.effective_date > recent_wage for r in recs):
        return "employed"
    if (recs := get("pension")) and any(_active(r) for r in latest_each(recs)):
        return "retired"
    return "unknown"


class _Explained:
    """What `compute_facts` attaches to the lean values: every fact's records and sentences."""

    def __init__(self) -> None:
        self.members: list[MemberFacts] = []
        self.supporters: list[MemberFacts] = []
        self.member_refs: list[RecordRef] = []
        self.member_missing: list[str] = []
        self.member_conflict: list[str] = []
        self.income_refs: list[RecordRef] = []
        self.income_missing: list[str] = []
        self.income_conflict: list[str] = []
        self.supporter_refs: list[RecordRef] = []
        self.supporter_missing: list[str] = []
        self.supporter_conflict: list[str] = []
        self.supporter_values: list[Decimal] = []
        self.total_income = ZERO
        self.lists: dict[str, list[RecordRef]] = defaultdict(list)
        self.amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.recipient: dict[str, list[RecordRef]] = defaultdict(list)

    def facts(self, lean: LeanFacts) -> HouseholdFacts:
        as_of = lean.as_of
        lists, amounts = self.lists, self.amounts
        counted_known = lean.members_known
        n = lean.counted
        missing = tuple(self.member_missing)
        if not n:
            missing = (*missing, "申请中没有在世的家庭成员")
        counted = Fact(n, "人", tuple(self.member_refs), missing, tuple(self.member_conflict))
        income_refs = tuple(self.income_refs)
        income_missing, income_conflict = tuple(self.income_missing), tuple(self.income_conflict)
        total = self.total_income.quantize(CENT)
        if n and counted_known:
            income_pp = Fact(
                (total / n).quantize(CENT), "元/月", income_refs, income_missing, income_conflict
            )
            area_pp = Fact(lean.housing_area_per_person, "平方米/人", tuple(lists["housing"]))
        else:
            income_pp = Fact(
                None,
                "元/月",
                income_refs,
                (*income_missing, *counted.missing),
                (*income_conflict, *counted.conflict),
            )
            area_pp = Fact(None, "平方米/人", tuple(lists["housing"]), counted.missing, counted.conflict)
        living = [m for m in self.members if m.counted]

        def refs(key: str) -> tuple[RecordRef, ...]:
            return tuple(lists[key])

        def total_of(key: str, unit: str = "元") -> Fact:
            return Fact(amounts[key].quantize(CENT), unit, refs(key))

        deaths = tuple(
            r for r in lists["deaths"] if as_of - dt.timedelta(days=WINDOW_DAYS) < r.effective_date
        )
        return HouseholdFacts(
            as_of=as_of,
            members=tuple(self.members),
            supporters=tuple(self.supporters),
            counted_members=counted,
            household_income_month=Fact(total, "元/月", income_refs, income_missing, income_conflict),
            income_per_person_month=income_pp,
            financial_assets=Fact(lean.financial_assets, "元", refs("financial_assets")),
            vehicles=Fact(lean.vehicles, "辆", refs("vehicles")),
            exempt_vehicles=Fact(len(lists["exempt_vehicles"]), "辆", refs("exempt_vehicles")),
            housing_count=Fact(lean.housing_count, "套", refs("housing")),
            housing_area_per_person=area_pp,
            commercial_property=Fact(lean.commercial_property, "处", refs("commercial")),
            unsafe_housing=Fact(lean.unsafe_housing, "", refs("unsafe")),
            business=Fact(lean.business, "个", refs("business")),
            pension=total_of("pension", "元/月"),
            tax=total_of("tax"),
            medical_spending=Fact(lean.medical_spending, "元", refs("medical")),
            disability=Fact(
                tuple((m.key, m.disability_grade, m.disability_kind) for m in living if m.disability_grade),
                "",
                refs("disability"),
            ),
            employment=Fact(tuple((m.key, m.employment) for m in living), ""),
            students=Fact(sum(1 for m in living if m.is_student), "人", refs("students")),
            state_employee=Fact(lean.state_employees, "人", refs("state_employee")),
            recipient_items=Fact(
                lean.recipient_items, "", tuple(r for v in self.recipient.values() for r in v)
            ),
            disaster=Fact(len(lists["disaster"]), "次", refs("disaster")),
            serious_illness=Fact(lean.serious_illness, "人", refs("serious_illness")),
            electricity=Fact(lean.electricity, "", refs("electricity")),
            pension_insurance=Fact(
                sum(1 for m in living if m.in_pension_insurance), "人", refs("pension_insurance")
            ),
            supporter_income=Fact(
                max(self.supporter_values, default=ZERO),
                "元/月",
                tuple(self.supporter_refs),
                tuple(self.supporter_missing),
                tuple(self.supporter_conflict),
            ),
            deaths=Fact(len(deaths), "人", deaths),
            enforcement=Fact(len(lists["enforcement"]), "条", refs("enforcement")),
            lean=lean,
        )


def _household(
    members: Sequence[MemberInput],
    records: Mapping[str, Sequence[RecordLike]],
    as_of: dt.date,
    x: _Explained | None,
) -> LeanFacts:
    """The one computation of a household's facts; with `x`, it also collects their explanations.

    Everything the rules decide on is computed whether or not `x` is given; the blocks under
    `if x is not None` only gather records and sentences (and the facts a report shows but no
    rule reads), so a bulk run and an explained report cannot disagree.
    """
    window_start = as_of - dt.timedelta(days=WINDOW_DAYS)
    recent_wage = as_of - dt.timedelta(days=RECENT_WAGE_DAYS)
    low_age, high_age = WORKING_AGE
    living: list[LeanMember] = []
    members_known = income_known = supporters_known = True
    has_supporters = unsafe = False
    income_total = assets = area = medical = ZERO
    vehicles = houses = commercial = business = state = illness = 0
    supporter_incomes: list[Decimal] = []
    recipients: set[str] = set()
    newest_disaster: dt.date | None = None
    newest_death: dt.date | None = None
    electricity = False
    # Never written to in a bulk run (every write is under `ref is not None`).
    lists: dict[str, list[RecordRef]] = x.lists if x is not None else {}
    for inp in members:
        by_category = group_records(records.get(inp.person_hash, _NONE), as_of)
        get = by_category.get
        household = inp.role in HOUSEHOLD_ROLES
        ref = _Refs(inp) if x is not None else None
        conflicts: list[str] = [] if ref is not None else _NO_TEXT  # the member's, in report order

        # Death: a `death` record (its death date), else a cremation. Two different death dates
        # contradict, and the member count is then unknown.
        death_day: dt.date | None = None
        deaths = get("death")
        funerals = get("funeral")
        if deaths:
            days: dict[dt.date, list[RecordLike]] = {}
            for r in deaths:
                days.setdefault(_date(r.data.get("death_date")) or r.effective_date, []).append(r)
            death_day = min(days)
            if len(days) > 1:
                if household:
                    members_known = False
                if ref is not None:
                    shown = "、".join(d.isoformat() for d in sorted(days))
                    conflicts.append(f"{ref.label}有两条死亡登记，日期不同（{shown}）")
        elif funerals:
            first = min(funerals, key=_effective)
            death_day = _date(first.data.get("cremation_date")) or first.effective_date
        alive = death_day is None or death_day > as_of
        death_refs: list[RecordRef] = [] if ref is not None else _NO_REFS
        if household and (deaths or funerals):
            for r in (*(deaths or _NONE), *(funerals or _NONE)):
                day = r.effective_date
                if day > window_start and (newest_death is None or day > newest_death):
                    newest_death = day
            if ref is not None:
                # Grouped by death date, as the report has always listed them, then cremations.
                death_refs = [ref(r) for group in (days.values() if deaths else ()) for r in group]
                death_refs += ref.all(funerals or _NONE)

        if household:
            if alive:
                # Household registration: none in force is missing data, two numbers contradict.
                hukou = get("hukou") or _NONE
                if len(hukou) != 1 or not _active(hukou[0]):  # one registration in force: the usual case
                    hukou = [r for r in latest_each(hukou) if _active(r)]
                if not hukou:
                    members_known = False
                    if x is not None and ref is not None:
                        x.member_missing.append(f"{ref.label}没有有效的户籍登记记录")
                elif (
                    len(hukou) > 1
                    and len({str(r.data.get("household_number", "")).strip() for r in hukou}) > 1
                ):
                    members_known = False
                    if ref is not None:
                        conflicts.append(f"{ref.label}同时登记在两个户籍（户号不一致）")
                if x is not None and ref is not None:
                    x.member_refs += ref.all(hukou)
            if x is not None:
                x.member_refs += death_refs
                x.member_conflict += conflicts
                lists["deaths"] += death_refs
            # Most members have none or a few of these categories: test before looking for each.
            if not by_category.keys().isdisjoint(_HOUSEHOLD_CATEGORIES):
                for category, amount_field in ASSET_CATEGORIES.items():
                    for r in latest_each(get(category)) if category in by_category else _NONE:
                        amount = _amount(r.data.get(amount_field))
                        if amount:
                            assets += amount
                            if ref is not None:
                                lists["financial_assets"].append(ref(r))
                for r in latest_each(get("vehicle")) if "vehicle" in by_category else _NONE:
                    if not _active(r):
                        continue
                    if not any(m in str(r.data.get("vehicle_type", "")) for m in EXEMPT_VEHICLE_MARKERS):
                        vehicles += 1
                        if ref is not None:
                            lists["vehicles"].append(ref(r))
                    elif ref is not None:
                        lists["exempt_vehicles"].append(ref(r))
                for r in latest_each(get("real_estate")) if "real_estate" in by_category else _NONE:
                    if not _active(r):
                        continue
                    if str(r.data.get("property_kind", "")).strip() in _RESIDENTIAL:
                        share = _amount(r.data.get("share")) or ONE
                        area += (_amount(r.data.get("area")) or ZERO) * share
                        houses += 1
                        if ref is not None:
                            lists["housing"].append(ref(r))
                    else:
                        commercial += 1
                        if ref is not None:
                            lists["commercial"].append(ref(r))
                found = latest(recs) if (recs := get("unsafe_housing")) else None
                if found is not None and str(found.data.get("grade", "")).upper() in _UNSAFE:
                    unsafe = True
                    if ref is not None:
                        lists["unsafe"].append(ref(found))
                for category in ("business_licence", "company_officer"):
                    for r in latest_each(get(category)) if category in by_category else _NONE:
                        if _active(r):
                            business += 1
                            if ref is not None:
                                lists["business"].append(ref(r))
                for r in get("medical_expense", _NONE):
                    amount = _amount(r.data.get("out_of_pocket"))
                    if r.effective_date > window_start and amount:
                        medical += amount
                        if ref is not None:
                            lists["medical"].append(ref(r))
                for r in (
                    latest_each(get("existing_recipient")) if "existing_recipient" in by_category else _NONE
                ):
                    if _active(r):
                        item = str(r.data.get("item", "")).strip()
                        recipients.add(item)
                        if x is not None and ref is not None:
                            x.recipient[item].append(ref(r))
                for r in get("disaster", _NONE):
                    if r.effective_date > window_start:
                        if newest_disaster is None or r.effective_date > newest_disaster:
                            newest_disaster = r.effective_date
                        if ref is not None:
                            lists["disaster"].append(ref(r))
            electricity = electricity or "electricity" in by_category
            if x is not None and ref is not None:
                # Shown in the report, read by no rule.
                for r in latest_each(get("pension")):
                    amount = _amount(r.data.get("monthly_amount"))
                    if _active(r) and amount:
                        x.amounts["pension"] += amount
                        x.lists["pension"].append(ref(r))
                for r in get("income_tax", _NONE):
                    amount = _amount(r.data.get("tax_paid"))
                    if r.effective_date > window_start and amount:
                        x.amounts["tax"] += amount
                        x.lists["tax"].append(ref(r))
                x.lists["electricity"] += ref.all(latest_each(get("electricity")))
                x.lists["enforcement"] += ref.all(r for r in latest_each(get("enforcement")) if _active(r))
        else:
            has_supporters = True
        if not alive and x is None:
            continue  # a bulk run reads nothing more of a dead member

        age = age_on(inp.birth_date, as_of)
        income_refs: list[RecordLike] | None = [] if x is not None else None
        if alive:
            monthly, has_income_record, conflict = _income(by_category, window_start, income_refs)
        else:
            monthly, has_income_record, conflict = ZERO, False, None
        cert = latest(recs) if (recs := get("disability")) else None
        grade = _int(cert.data.get("grade")) if cert is not None and _active(cert) else None
        student = latest(recs) if (recs := get("student")) else None
        is_student = student is not None and _status(student) == "在读"
        excused = is_student or (grade is not None and grade <= 2)
        unexplained = alive and low_age <= age < high_age and not excused and not has_income_record
        stage = str(student.data.get("stage", "")) if is_student and student is not None else ""
        if household or x is not None:
            insurance = latest(recs) if (recs := get("pension_insurance")) else None
            insured = insurance is not None and _active(insurance)
            illnesses = (
                [r for r in latest_each(recs) if _active(r)] if (recs := get("serious_illness")) else []
            )
            civil = [r for r in latest_each(recs) if _active(r)] if (recs := get("civil_servant")) else []
            employment = _employment(by_category, recent_wage)
        if x is not None and ref is not None:
            counted = household and alive
            x_facts = MemberFacts(
                key=inp.key,
                name=inp.name,
                role=inp.role,
                relation=inp.relation,
                sex=inp.sex,
                age=age,
                alive=alive,
                counted=counted,
                monthly_income=monthly,
                employment=employment if alive else "deceased",
                disability_grade=grade,
                disability_kind=str(cert.data.get("kind", ""))
                if cert is not None and grade is not None
                else "",
                is_student=is_student,
                student_stage=stage,
                in_pension_insurance=insured,
                serious_illness=bool(illnesses),
                state_employee=bool(civil),
                label=ref.label,
            )
            income_sources = ref.all(income_refs or ())
            income_missing = (
                [f"{ref.label}处于劳动年龄，但数据池中没有就业、失业或收入记录"] if unexplained else []
            )
            income_conflict = [f"{ref.label}有失业登记，同时社保显示单位正常缴费"] if conflict else []
            if household:
                x.members.append(x_facts)
                if counted:
                    x.income_refs += income_sources
                    x.income_missing += income_missing
                    x.income_conflict += income_conflict
                    x.total_income += monthly
                    if cert is not None and grade is not None:
                        x.lists["disability"].append(ref(cert))
                    if is_student and student is not None:
                        x.lists["students"].append(ref(student))
                    if insured and insurance is not None:
                        x.lists["pension_insurance"].append(ref(insurance))
                    x.lists["serious_illness"] += ref.all(illnesses)
                    x.lists["state_employee"] += ref.all(civil)
            else:
                x.supporters.append(x_facts)
                x.supporter_refs += income_sources
                x.supporter_missing += income_missing
                x.supporter_conflict += income_conflict
                if alive:
                    x.supporter_values.append(monthly)
        if not alive:
            continue
        if not household:
            supporter_incomes.append(monthly)
            if unexplained or conflict:
                supporters_known = False
            continue
        living.append(LeanMember(age, grade, is_student, stage, employment, insured))
        income_total += monthly
        if unexplained or conflict:
            income_known = False
        if illnesses:
            illness += 1
        if civil:
            state += 1

    counted_n = len(living)
    members_known = members_known and counted_n > 0  # no living member is itself missing data
    income_total = income_total.quantize(CENT)
    per_person = area_per_person = None
    if counted_n and members_known:
        if income_known:
            per_person = (income_total / counted_n).quantize(CENT)
        area_per_person = (area / counted_n).quantize(CENT)
    return LeanFacts(
        as_of=as_of,
        living=tuple(living),
        members_known=members_known,
        counted=counted_n,
        income_month=income_total if income_known else None,
        income_per_person=per_person,
        financial_assets=assets.quantize(CENT),
        vehicles=vehicles,
        housing_count=houses,
        housing_area_per_person=area_per_person,
        commercial_property=commercial,
        unsafe_housing=unsafe,
        business=business,
        state_employees=state,
        medical_spending=medical.quantize(CENT),
        recipient_items=tuple(sorted(recipients)),
        newest_disaster=newest_disaster,
        newest_death=newest_death,
        serious_illness=illness,
        electricity=electricity,
        has_supporters=has_supporters,
        supporter_income=max(supporter_incomes, default=ZERO) if supporters_known else None,
    )


def lean_facts(
    members: Sequence[MemberInput], records: Mapping[str, Sequence[RecordLike]], *, as_of: dt.date
) -> LeanFacts:
    """The values the rules decide on, without explanations (a bulk re-check, the what-if)."""
    return _household(members, records, as_of, None)


def compute_facts(
    members: Sequence[MemberInput], records: Mapping[str, Sequence[RecordLike]], *, as_of: dt.date
) -> HouseholdFacts:
    """Every fact of the household on `as_of` from its members' records (keyed by person hash).

    The same computation as `lean_facts`, collecting each fact's records and sentences on the way.
    """
    x = _Explained()
    lean = _household(members, records, as_of, x)
    return x.facts(lean)


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
