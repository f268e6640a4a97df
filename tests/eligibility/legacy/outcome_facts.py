"""The few facts the outcome-only rules read, computed straight from the records (issue 4).

`compute_facts` builds the explained facts: every value with its source records and the missing or
contradicting data as Chinese sentences, which reports show. A bulk re-check (every enrolled
household, the what-if) only counts outcomes (eligibility.rules.outcomes), which read a handful of
values and whether each is known; building the explanations was most of its cost. Two paths
therefore exist: `outcome_facts` computes those values from the same inputs without explanations,
and `project` takes them from explained facts, so the outcome rules are written once, over
`OutcomeFacts`. tests/eligibility/test_outcome_facts.py proves `outcome_facts(...)` equals
`project(compute_facts(...))` (a property test over random records and every demo household).
This module mirrors compute_facts step for step, in the same order of arithmetic: change both
together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import NamedTuple

from assist_center.identity import age_on

from .facts import (
    ASSET_CATEGORIES,
    CENT,
    ENDED_STATUSES,
    EXEMPT_VEHICLE_MARKERS,
    HOUSEHOLD_ROLES,
    INCOME_EVIDENCE,
    RECENT_WAGE_DAYS,
    WINDOW_DAYS,
    WORKING_AGE,
    ZERO,
    Fact,
    HouseholdFacts,
    MemberInput,
    RecordLike,
    _date,
    _int,
    dec,
)

ONE = Decimal(1)
_ONGOING_INCOME = (
    ("pension", "monthly_amount"),
    ("rental_income", "monthly_rent"),
    ("unemployment", "benefit_monthly"),
)
_INCOME_SOURCES = frozenset(
    {"wage", "income_tax", "civil_servant", "business_income", *(c for c, _f in _ONGOING_INCOME)}
)
_NO_INCOME = (ZERO / 12).quantize(CENT)
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


class OutcomeMember(NamedTuple):
    """A living household member, as the outcome rules see them."""

    age: int
    disability_grade: int | None
    is_student: bool
    student_stage: str
    employment: str
    in_pension_insurance: bool


class OutcomeFacts(NamedTuple):
    """What eligibility.rules.outcomes reads; None for a value whose fact is not known.

    A tuple because a bulk run builds one per household and compares them in tests.
    """

    as_of: dt.date
    living: tuple[OutcomeMember, ...]  # HouseholdFacts.living_members()
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


def _known(fact: Fact) -> Decimal | None:
    return fact.value if fact.known else None


def project(facts: HouseholdFacts) -> OutcomeFacts:
    """The outcome facts of explained facts."""
    counted = facts.counted_members.value
    return OutcomeFacts(
        as_of=facts.as_of,
        living=tuple(
            OutcomeMember(
                m.age,
                m.disability_grade,
                m.is_student,
                m.student_stage,
                m.employment,
                m.in_pension_insurance,
            )
            for m in facts.living_members()
        ),
        members_known=facts.counted_members.known,
        counted=int(counted) if isinstance(counted, int) else 0,
        income_month=_known(facts.household_income_month),
        income_per_person=_known(facts.income_per_person_month),
        financial_assets=facts.financial_assets.value,
        vehicles=int(facts.vehicles.value),
        housing_count=int(facts.housing_count.value),
        housing_area_per_person=_known(facts.housing_area_per_person),
        commercial_property=int(facts.commercial_property.value),
        unsafe_housing=bool(facts.unsafe_housing.value),
        business=int(facts.business.value),
        state_employees=int(facts.state_employee.value),
        medical_spending=facts.medical_spending.value,
        recipient_items=tuple(facts.recipient_items.value),
        newest_disaster=max((r.effective_date for r in facts.disaster.sources), default=None),
        newest_death=max((r.effective_date for r in facts.deaths.sources), default=None),
        serious_illness=int(facts.serious_illness.value),
        electricity=bool(facts.electricity.value),
        has_supporters=bool(facts.supporters),
        supporter_income=_known(facts.supporter_income),
    )


# --- straight from the records (facts._Member's queries, on one category's list) -----------------


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


def _active(rec: RecordLike) -> bool:
    return str(rec.data.get("status", "")).strip() not in ENDED_STATUSES


def _latest_each(recs: Sequence[RecordLike] | None) -> Sequence[RecordLike]:
    """The latest record of each source record id, in order of first appearance."""
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
    """The latest of some records (callers test for none first: most members have none)."""
    return recs[0] if len(recs) == 1 else max(recs, key=_latest_key)


def _effective(r: RecordLike) -> dt.date:
    return r.effective_date


def _income(
    by_category: Mapping[str, Sequence[RecordLike]], window_start: dt.date
) -> tuple[Decimal, bool, bool]:
    """(monthly income, has any work or income record, conflict), as facts._member_income."""
    has_any = not by_category.keys().isdisjoint(INCOME_EVIDENCE)
    if by_category.keys().isdisjoint(_INCOME_SOURCES):
        return _NO_INCOME, has_any, False  # a child, most elderly: nothing below would be found
    get = by_category.get
    wage_total = ZERO
    for r in get("wage", _NONE):
        if r.effective_date > window_start:
            wage_total += _amount(r.data.get("amount")) or ZERO
    tax_total = ZERO
    for r in get("income_tax", _NONE):
        if r.effective_date > window_start:
            tax_total += _amount(r.data.get("income")) or ZERO
    state_total = ZERO
    if recs := get("civil_servant"):
        for r in _latest_each(recs):
            if _active(r):
                state_total += _amount(r.data.get("monthly_salary")) or ZERO
    annual = max(wage_total, tax_total, state_total * 12)
    for r in get("business_income", _NONE):
        if r.effective_date > window_start:
            annual += _amount(r.data.get("amount")) or ZERO
    for category, amount_field in _ONGOING_INCOME:
        if recs := get(category):
            for r in _latest_each(recs):
                amount = _amount(r.data.get(amount_field))
                if _active(r) and amount:
                    annual += amount * 12
    conflict = False
    if recs := get("unemployment"):
        unemployment = _latest(recs)
        if _active(unemployment):
            insured = [r.effective_date for r in _latest_each(get("social_insurance")) if _active(r)]
            conflict = bool(insured) and max(insured) >= unemployment.effective_date
    return (annual / 12).quantize(CENT), has_any, conflict


def _employment(by_category: Mapping[str, Sequence[RecordLike]], recent_wage: dt.date) -> str:
    if by_category.keys().isdisjoint(_EMPLOYMENT_EVIDENCE):
        return "unknown"
    get = by_category.get
    if (recs := get("civil_servant")) and any(_active(r) for r in _latest_each(recs)):
        return "employed"
    if (recs := get("unemployment")) and _active(_latest(recs)):
        return "unemployed"
    for category in ("employment", "social_insurance"):
        if (recs := get(category)) and any(_active(r) for r in _latest_each(recs)):
            return "employed"
    if (recs := get("wage")) and any(r.effective_date > recent_wage for r in recs):
        return "employed"
    if (recs := get("pension")) and any(_active(r) for r in _latest_each(recs)):
        return "retired"
    return "unknown"


def outcome_facts(
    members: Sequence[MemberInput], records: Mapping[str, Sequence[RecordLike]], *, as_of: dt.date
) -> OutcomeFacts:
    """`project(compute_facts(members, records, as_of=as_of))`, without building the explanations."""
    window_start = as_of - dt.timedelta(days=WINDOW_DAYS)
    recent_wage = as_of - dt.timedelta(days=RECENT_WAGE_DAYS)
    low_age, high_age = WORKING_AGE
    living: list[OutcomeMember] = []
    members_known = income_known = supporters_known = True
    has_supporters = unsafe = False
    income_total = assets = area = medical = ZERO
    vehicles = houses = commercial = business = state = illness = 0
    supporter_incomes: list[Decimal] = []
    recipients: set[str] = set()
    newest_disaster: dt.date | None = None
    newest_death: dt.date | None = None
    electricity = False
    for inp in members:
        by_category: dict[str, list[RecordLike]] = {}
        for r in records.get(inp.person_hash, _NONE):
            if r.effective_date <= as_of:
                group = by_category.get(r.category)
                if group is None:
                    by_category[r.category] = [r]
                else:
                    group.append(r)
        get = by_category.get
        household = inp.role in HOUSEHOLD_ROLES

        # facts._death: two different death dates contradict (the member count is then unknown).
        death_day: dt.date | None = None
        deaths = get("death")
        funerals = get("funeral")
        if deaths:
            days = {_date(r.data.get("death_date")) or r.effective_date for r in deaths}
            death_day = min(days)
            if len(days) > 1 and household:
                members_known = False
        elif funerals:
            first = min(funerals, key=_effective)
            death_day = _date(first.data.get("cremation_date")) or first.effective_date
        alive = death_day is None or death_day > as_of

        if household:
            if deaths or funerals:
                for r in (*(deaths or _NONE), *(funerals or _NONE)):
                    day = r.effective_date
                    if day > window_start and (newest_death is None or day > newest_death):
                        newest_death = day
            if alive:
                # facts._hukou: no active registration is missing data, two household numbers conflict.
                registrations = get("hukou")
                if not registrations:
                    members_known = False
                elif len(registrations) == 1:  # as in the pool: one registration, one number
                    members_known = members_known and _active(registrations[0])
                else:
                    hukou = [r for r in _latest_each(registrations) if _active(r)]
                    numbers = {str(r.data.get("household_number", "")).strip() for r in hukou}
                    if not hukou or len(numbers) > 1:
                        members_known = False
            # Most members have none or a few of these categories: test before looking for each.
            if not by_category.keys().isdisjoint(_HOUSEHOLD_CATEGORIES):
                for category, amount_field in ASSET_CATEGORIES.items():
                    if recs := get(category):
                        for r in _latest_each(recs):
                            amount = _amount(r.data.get(amount_field))
                            if amount:
                                assets += amount
                if recs := get("vehicle"):
                    for r in _latest_each(recs):
                        if _active(r) and not any(
                            x in str(r.data.get("vehicle_type", "")) for x in EXEMPT_VEHICLE_MARKERS
                        ):
                            vehicles += 1
                if recs := get("real_estate"):
                    for r in _latest_each(recs):
                        if not _active(r):
                            continue
                        if str(r.data.get("property_kind", "")).strip() in _RESIDENTIAL:
                            share = _amount(r.data.get("share")) or ONE
                            area += (_amount(r.data.get("area")) or ZERO) * share
                            houses += 1
                        else:
                            commercial += 1
                if (recs := get("unsafe_housing")) and str(
                    _latest(recs).data.get("grade", "")
                ).upper() in _UNSAFE:
                    unsafe = True
                for category in ("business_licence", "company_officer"):
                    if recs := get(category):
                        business += sum(1 for r in _latest_each(recs) if _active(r))
                for r in get("medical_expense", _NONE):
                    amount = _amount(r.data.get("out_of_pocket"))
                    if r.effective_date > window_start and amount:
                        medical += amount
                if recs := get("existing_recipient"):
                    for r in _latest_each(recs):
                        if _active(r):
                            recipients.add(str(r.data.get("item", "")).strip())
                for r in get("disaster", _NONE):
                    if r.effective_date > window_start and (
                        newest_disaster is None or r.effective_date > newest_disaster
                    ):
                        newest_disaster = r.effective_date
            electricity = electricity or "electricity" in by_category
        else:
            has_supporters = True
        if not alive:
            continue

        age = age_on(inp.birth_date, as_of)
        monthly, has_income_record, conflict = _income(by_category, window_start)
        cert = _latest(recs) if (recs := get("disability")) else None
        grade = _int(cert.data.get("grade")) if cert is not None and _active(cert) else None
        student = _latest(recs) if (recs := get("student")) else None
        is_student = student is not None and str(student.data.get("status", "")).strip() == "在读"
        excused = is_student or (grade is not None and grade <= 2)
        unexplained = low_age <= age < high_age and not excused and not has_income_record
        if not household:
            supporter_incomes.append(monthly)
            if unexplained or conflict:
                supporters_known = False
            continue
        insurance = _latest(recs) if (recs := get("pension_insurance")) else None
        living.append(
            OutcomeMember(
                age,
                grade,
                is_student,
                str(student.data.get("stage", "")) if is_student and student is not None else "",
                _employment(by_category, recent_wage),
                insurance is not None and _active(insurance),
            )
        )
        income_total += monthly
        if unexplained or conflict:
            income_known = False
        if (recs := get("serious_illness")) and any(_active(r) for r in _latest_each(recs)):
            illness += 1
        if (recs := get("civil_servant")) and any(_active(r) for r in _latest_each(recs)):
            state += 1

    counted = len(living)
    members_known = members_known and counted > 0  # no living member is itself missing data
    income_total = income_total.quantize(CENT)
    per_person = area_per_person = None
    if counted and members_known:
        if income_known:
            per_person = (income_total / counted).quantize(CENT)
        area_per_person = (area / counted).quantize(CENT)
    return OutcomeFacts(
        as_of=as_of,
        living=tuple(living),
        members_known=members_known,
        counted=counted,
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
