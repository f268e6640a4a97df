"""Each item's outcome only, for bulk re-checks and the what-if: the same decisions as `evaluate`.

`evaluate` explains itself (criteria, values, records, Chinese reasons); a re-check of the whole
rolls only counts outcomes, so building those explanations is most of its cost. This module makes
the same decisions without them. It mirrors assistance.py and supplementary.py branch for branch;
tests/eligibility/test_outcomes.py proves the two agree (a property test over random facts and
every household of the demo data). Change both together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ..facts import RECIPIENT_ITEMS, HouseholdFacts
from .base import ITEMS, ItemOutcome, d, i, living_count

Params = Mapping[str, Any]

# A criterion's outcome as a small int, so an all-of item is the max and an any-of item the min.
_P, _U, _F = 0, 1, 2
_ALL_OF = (ItemOutcome.ELIGIBLE, ItemOutcome.NEEDS_PERSON, ItemOutcome.NOT_ELIGIBLE)  # by max
_ANY_OF = _ALL_OF  # by min: pass -> eligible, unknown -> needs a person, fail -> not eligible
_CENT = Decimal("0.01")
_NEEDS = ItemOutcome.NEEDS_PERSON
_ELIGIBLE = ItemOutcome.ELIGIBLE


def _members(facts: HouseholdFacts) -> int:
    return _P if facts.counted_members.known else _U


def _income_below(facts: HouseholdFacts, limit: Decimal) -> int:
    fact = facts.income_per_person_month
    if not fact.known or fact.value is None:
        return _U
    return _P if fact.value < limit else _F


def _assets(facts: HouseholdFacts, limit: Decimal) -> int:
    n = living_count(facts)
    if not facts.counted_members.known or n == 0:
        return _U
    per_person = (facts.financial_assets.value / n).quantize(_CENT)
    return _P if per_person <= limit else _F


def _property(facts: HouseholdFacts, p: Params) -> int:
    limit = d(p, "asset_limit_per_person")
    vehicles, houses, businesses = i(p, "vehicle_limit"), i(p, "house_limit"), i(p, "business_limit")
    worst = _assets(facts, limit)
    if (
        int(facts.vehicles.value) > vehicles
        or int(facts.housing_count.value) > houses
        or int(facts.business.value) + int(facts.commercial_property.value) > businesses
        or int(facts.state_employee.value) != 0
    ):
        return _F
    return worst


def _dibao(facts: HouseholdFacts, p: Params) -> int:
    return max(_members(facts), _income_below(facts, d(p, "amount_per_person_month")), _property(facts, p))


def _edge(facts: HouseholdFacts, p: Params, dibao_params: Params | None) -> int:
    if dibao_params is None:
        income = _U
    else:
        amount = d(dibao_params, "amount_per_person_month")
        upper = (amount * d(p, "multiple")).quantize(_CENT)
        fact = facts.income_per_person_month
        if not fact.known or fact.value is None:
            income = _U
        elif fact.value < amount:
            income = _F
        elif fact.value < upper:
            income = _P
        else:
            income = _F
    return max(_members(facts), income, _property(facts, p))


def _extreme(facts: HouseholdFacts, p: Params, dibao_params: Params | None) -> int:
    elderly, child = i(p, "age_elderly"), i(p, "age_child")
    grades = {int(g) for g in p["disability_grades"]}
    if not facts.counted_members.known or living_count(facts) == 0:
        capacity = _U
    else:
        able = any(
            not (
                m.age >= elderly
                or m.age < child
                or (m.disability_grade is not None and m.disability_grade in grades)
            )
            for m in facts.living_members()
        )
        capacity = _F if able else _P
    income = _U if dibao_params is None else _income_below(facts, d(dibao_params, "amount_per_person_month"))
    assets = _assets(facts, d(p, "asset_limit_per_person"))
    support = facts.supporter_income
    limit = d(p, "supporter_income_limit")
    if not support.known:
        supporter = _U
    elif not facts.supporters:
        supporter = _P
    else:
        supporter = _P if support.value <= limit else _F
    return max(capacity, income, assets, supporter)


def _recipient(facts: HouseholdFacts, base: Mapping[str, ItemOutcome]) -> int:
    if any(item in RECIPIENT_ITEMS for item in facts.recipient_items.value):
        return _P
    # An item without a standard counts as needing a person, as in `evaluate`.
    outcomes = [base.get(item, _NEEDS) for item in RECIPIENT_ITEMS]
    if _ELIGIBLE in outcomes:
        return _P
    return _U if _NEEDS in outcomes else _F


def _medical(facts: HouseholdFacts, p: Params, recipient: int) -> ItemOutcome:
    ratio, minimum = d(p, "spending_ratio"), d(p, "min_spending")
    income = facts.household_income_month
    if not income.known:
        burden = _U
    else:
        limit = max(minimum, (income.value * 12 * ratio).quantize(_CENT))
        burden = _P if facts.medical_spending.value >= limit else _F
    return _ANY_OF[min(recipient, burden)]


def _education(facts: HouseholdFacts, p: Params) -> int:
    stages = set(p["stages"])
    found = any(m.is_student and (not stages or m.student_stage in stages) for m in facts.living_members())
    return _P if found else _F


def _housing(facts: HouseholdFacts, p: Params) -> int:
    minimum = d(p, "area_per_person_min")
    area = facts.housing_area_per_person
    if facts.unsafe_housing.value or int(facts.housing_count.value) == 0:
        return _P
    if not area.known or area.value is None:
        return _U
    return _P if area.value < minimum else _F


def _employment(facts: HouseholdFacts, p: Params) -> int:
    low, high = i(p, "age_min"), i(p, "age_max")
    unclear = False
    for m in facts.living_members():
        if low <= m.age <= high and not m.is_student and not (m.disability_grade and m.disability_grade <= 2):
            if m.employment == "unemployed":
                return _P
            if m.employment == "unknown":
                unclear = True
    return _U if unclear else _F


def _disability(facts: HouseholdFacts, p: Params) -> int:
    grades = {int(g) for g in p["grades"]}
    found = any(
        m.disability_grade is not None and m.disability_grade in grades for m in facts.living_members()
    )
    return _P if found else _F


def _pension(facts: HouseholdFacts, p: Params) -> int:
    low, high = i(p, "age_min"), i(p, "age_max")
    found = any(m.in_pension_insurance and low <= m.age <= high for m in facts.living_members())
    return _P if found else _F


def _recent_count(facts: HouseholdFacts, sources: Iterable[Any], days: int) -> bool:
    as_of = facts.as_of
    return any((as_of - r.effective_date).days <= days for r in sources)


def _temporary(facts: HouseholdFacts, p: Params, asked: bool) -> ItemOutcome:
    days = i(p, "window_days")
    trigger = d(p, "medical_spending_trigger")
    signs = (
        _recent_count(facts, facts.disaster.sources, days)
        or facts.medical_spending.value >= trigger
        or bool(int(facts.serious_illness.value))
        or _recent_count(facts, facts.deaths.sources, days)
    )
    return _NEEDS if signs or asked else ItemOutcome.NOT_ELIGIBLE


def _disaster(facts: HouseholdFacts, p: Params, asked: bool) -> ItemOutcome:
    days = i(p, "window_days")
    if _recent_count(facts, facts.disaster.sources, days) or asked:
        return _NEEDS  # a recent record still needs its loss assessed by a person
    return ItemOutcome.NOT_ELIGIBLE


def evaluate_outcomes(
    facts: HouseholdFacts, standards: Mapping[str, Params], *, asked: Iterable[str] = ()
) -> dict[str, ItemOutcome]:
    """Every item's outcome, as `evaluate` would decide it, in ITEMS order; no explanations."""
    asked_set = set(asked)
    out: dict[str, ItemOutcome] = {}
    dibao_params = standards.get("dibao")
    if dibao_params is not None:
        out["dibao"] = _ALL_OF[_dibao(facts, dibao_params)]
    if "low_income_edge" in standards:
        out["low_income_edge"] = _ALL_OF[_edge(facts, standards["low_income_edge"], dibao_params)]
    if "extreme_poverty" in standards:
        out["extreme_poverty"] = _ALL_OF[_extreme(facts, standards["extreme_poverty"], dibao_params)]
    recipient: int | None = None

    def basis() -> int:
        nonlocal recipient
        if recipient is None:
            recipient = _recipient(facts, out)
        return recipient

    p = standards.get("medical")
    if p is not None:
        out["medical"] = _medical(facts, p, basis())
    for item, fn in (
        ("education", _education),
        ("housing", _housing),
        ("employment", _employment),
        ("disability_living", _disability),
        ("pension_premium", _pension),
    ):
        p = standards.get(item)
        if p is not None:
            out[item] = _ALL_OF[max(basis(), fn(facts, p))]
    p = standards.get("disability_care")
    if p is not None:
        out["disability_care"] = _ALL_OF[_disability(facts, p)]
    if "utility_relief" in standards:
        out["utility_relief"] = _ALL_OF[max(basis(), _P if facts.electricity.value else _U)]
    if "temporary" in standards:
        out["temporary"] = _temporary(facts, standards["temporary"], "temporary" in asked_set)
    if "disaster" in standards:
        out["disaster"] = _disaster(facts, standards["disaster"], "disaster" in asked_set)
    return {item: out.get(item, _NEEDS) for item in ITEMS}
