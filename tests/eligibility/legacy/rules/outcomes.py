"""Each item's outcome only, for bulk re-checks and the what-if: the same decisions as `evaluate`.

`evaluate` explains itself (criteria, values, records, Chinese reasons); a re-check of the whole
rolls only counts outcomes, so building those explanations is most of its cost. This module makes
the same decisions without them, over the few values they read (eligibility.outcome_facts). It
mirrors assistance.py and supplementary.py branch for branch; tests/eligibility/test_outcomes.py
proves the two agree (a property test over random facts and every household of the demo data).
Change both together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ..facts import RECIPIENT_ITEMS, HouseholdFacts
from ..outcome_facts import OutcomeFacts, project
from .base import ITEMS, ItemOutcome, d, i

Params = Mapping[str, Any]

# A criterion's outcome as a small int, so an all-of item is the max and an any-of item the min.
_P, _U, _F = 0, 1, 2
_ALL_OF = (ItemOutcome.ELIGIBLE, ItemOutcome.NEEDS_PERSON, ItemOutcome.NOT_ELIGIBLE)  # by max
_ANY_OF = _ALL_OF  # by min: pass -> eligible, unknown -> needs a person, fail -> not eligible
_CENT = Decimal("0.01")
_NEEDS = ItemOutcome.NEEDS_PERSON
_ELIGIBLE = ItemOutcome.ELIGIBLE


def _below(value: Decimal | None, limit: Decimal) -> int:
    """A known value under the limit passes; an unknown one cannot decide."""
    if value is None:
        return _U
    return _P if value < limit else _F


def _at_most(value: Decimal | None, limit: Decimal) -> int:
    if value is None:
        return _U
    return _P if value <= limit else _F


class _PropertyTest:
    """The assets, vehicles, housing, business and state-employee criteria of an item."""

    __slots__ = ("assets", "businesses", "houses", "vehicles")

    def __init__(self, p: Params) -> None:
        self.assets = d(p, "asset_limit_per_person")
        self.vehicles, self.houses = i(p, "vehicle_limit"), i(p, "house_limit")
        self.businesses = i(p, "business_limit")

    def __call__(self, facts: OutcomeFacts, assets_per_person: Decimal | None) -> int:
        if (
            facts.vehicles > self.vehicles
            or facts.housing_count > self.houses
            or facts.business + facts.commercial_property > self.businesses
            or facts.state_employees != 0
        ):
            return _F
        return _at_most(assets_per_person, self.assets)


def _edge_income(facts: OutcomeFacts, amount: Decimal, upper: Decimal) -> int:
    value = facts.income_per_person
    if value is None:
        return _U
    if value < amount:
        return _F
    return _P if value < upper else _F


def _no_work_capacity(facts: OutcomeFacts, elderly: int, child: int, grades: set[int]) -> int:
    if not facts.members_known or facts.counted == 0:
        return _U
    able = any(
        not (
            m.age >= elderly
            or m.age < child
            or (m.disability_grade is not None and m.disability_grade in grades)
        )
        for m in facts.living
    )
    return _F if able else _P


def _supporter(facts: OutcomeFacts, limit: Decimal) -> int:
    support = facts.supporter_income
    if support is None:
        return _U
    if not facts.has_supporters:
        return _P
    return _P if support <= limit else _F


def _recipient(facts: OutcomeFacts, base: Mapping[str, ItemOutcome]) -> int:
    if any(item in RECIPIENT_ITEMS for item in facts.recipient_items):
        return _P
    # An item without a standard counts as needing a person, as in `evaluate`.
    outcomes = [base.get(item, _NEEDS) for item in RECIPIENT_ITEMS]
    if _ELIGIBLE in outcomes:
        return _P
    return _U if _NEEDS in outcomes else _F


def _medical_burden(facts: OutcomeFacts, ratio: Decimal, minimum: Decimal) -> int:
    income = facts.income_month
    if income is None:
        return _U
    limit = max(minimum, (income * 12 * ratio).quantize(_CENT))
    return _P if facts.medical_spending >= limit else _F


def _student(facts: OutcomeFacts, stages: set[str]) -> int:
    found = any(m.is_student and (not stages or m.student_stage in stages) for m in facts.living)
    return _P if found else _F


def _housing_need(facts: OutcomeFacts, minimum: Decimal) -> int:
    area = facts.housing_area_per_person
    if facts.unsafe_housing or facts.housing_count == 0:
        return _P
    if area is None:
        return _U
    return _P if area < minimum else _F


def _unemployed_member(facts: OutcomeFacts, low: int, high: int) -> int:
    unclear = False
    for m in facts.living:
        if low <= m.age <= high and not m.is_student and not (m.disability_grade and m.disability_grade <= 2):
            if m.employment == "unemployed":
                return _P
            if m.employment == "unknown":
                unclear = True
    return _U if unclear else _F


def _disability(facts: OutcomeFacts, grades: set[int]) -> int:
    found = any(m.disability_grade is not None and m.disability_grade in grades for m in facts.living)
    return _P if found else _F


def _pension_insured(facts: OutcomeFacts, low: int, high: int) -> int:
    found = any(m.in_pension_insurance and low <= m.age <= high for m in facts.living)
    return _P if found else _F


def _recent(facts: OutcomeFacts, newest: dt.date | None, days: int) -> bool:
    # The newest record decides whether any is recent.
    return newest is not None and (facts.as_of - newest).days <= days


def _grades(values: Iterable[Any]) -> set[int]:
    return {int(g) for g in values}


class OutcomeRules:
    """Every item's rules with its standard's parameters parsed once, for many households.

    `OutcomeRules(standards).decide(facts)` is `evaluate_outcomes(facts, standards)`; a bulk run
    (the re-check, the what-if) builds one per township's standards instead of parsing them again
    for each household.
    """

    def __init__(self, standards: Mapping[str, Params]) -> None:
        self.items = frozenset(standards)
        get = standards.get
        self.dibao_amount = d(p, "amount_per_person_month") if (p := get("dibao")) is not None else None
        self.dibao_property = _PropertyTest(p) if p is not None else None
        if (p := get("low_income_edge")) is not None:
            self.edge_property = _PropertyTest(p)
            multiple = d(p, "multiple")
            if self.dibao_amount is not None:
                self.edge_upper = (self.dibao_amount * multiple).quantize(_CENT)
        if (p := get("extreme_poverty")) is not None:
            self.elderly, self.child = i(p, "age_elderly"), i(p, "age_child")
            self.extreme_grades = _grades(p["disability_grades"])
            self.extreme_assets = d(p, "asset_limit_per_person")
            self.supporter_limit = d(p, "supporter_income_limit")
        if (p := get("medical")) is not None:
            self.spending_ratio, self.min_spending = d(p, "spending_ratio"), d(p, "min_spending")
        if (p := get("education")) is not None:
            self.stages = set(p["stages"])
        if (p := get("housing")) is not None:
            self.area_min = d(p, "area_per_person_min")
        if (p := get("employment")) is not None:
            self.employment_ages = i(p, "age_min"), i(p, "age_max")
        if (p := get("disability_living")) is not None:
            self.living_grades = _grades(p["grades"])
        if (p := get("pension_premium")) is not None:
            self.pension_ages = i(p, "age_min"), i(p, "age_max")
        if (p := get("disability_care")) is not None:
            self.care_grades = _grades(p["grades"])
        if (p := get("temporary")) is not None:
            self.temporary_days = i(p, "window_days")
            self.temporary_trigger = d(p, "medical_spending_trigger")
        if (p := get("disaster")) is not None:
            self.disaster_days = i(p, "window_days")

    def decide(self, facts: OutcomeFacts, asked: Iterable[str] = ()) -> dict[str, ItemOutcome]:
        """Every item's outcome, as `evaluate` would decide it, in ITEMS order."""
        items = self.items
        out: dict[str, ItemOutcome] = {}
        members = _P if facts.members_known else _U
        # The basic items share these: compute them once.
        n = facts.counted
        assets = (facts.financial_assets / n).quantize(_CENT) if facts.members_known and n else None
        amount = self.dibao_amount
        income = _U if amount is None else _below(facts.income_per_person, amount)
        if self.dibao_property is not None:
            out["dibao"] = _ALL_OF[max(members, income, self.dibao_property(facts, assets))]
        if "low_income_edge" in items:
            edge = _U if amount is None else _edge_income(facts, amount, self.edge_upper)
            out["low_income_edge"] = _ALL_OF[max(members, edge, self.edge_property(facts, assets))]
        if "extreme_poverty" in items:
            out["extreme_poverty"] = _ALL_OF[
                max(
                    _no_work_capacity(facts, self.elderly, self.child, self.extreme_grades),
                    income,
                    _at_most(assets, self.extreme_assets),
                    _supporter(facts, self.supporter_limit),
                )
            ]
        recipient: int | None = None

        def basis() -> int:
            nonlocal recipient
            if recipient is None:
                recipient = _recipient(facts, out)
            return recipient

        if "medical" in items:
            burden = _medical_burden(facts, self.spending_ratio, self.min_spending)
            out["medical"] = _ANY_OF[min(basis(), burden)]
        if "education" in items:
            out["education"] = _ALL_OF[max(basis(), _student(facts, self.stages))]
        if "housing" in items:
            out["housing"] = _ALL_OF[max(basis(), _housing_need(facts, self.area_min))]
        if "employment" in items:
            out["employment"] = _ALL_OF[max(basis(), _unemployed_member(facts, *self.employment_ages))]
        if "disability_living" in items:
            out["disability_living"] = _ALL_OF[max(basis(), _disability(facts, self.living_grades))]
        if "pension_premium" in items:
            out["pension_premium"] = _ALL_OF[max(basis(), _pension_insured(facts, *self.pension_ages))]
        if "disability_care" in items:
            out["disability_care"] = _ALL_OF[_disability(facts, self.care_grades)]
        if "utility_relief" in items:
            out["utility_relief"] = _ALL_OF[max(basis(), _P if facts.electricity else _U)]
        if "temporary" in items or "disaster" in items:
            asked_set = set(asked)
        if "temporary" in items:
            days = self.temporary_days
            signs = (
                _recent(facts, facts.newest_disaster, days)
                or facts.medical_spending >= self.temporary_trigger
                or bool(facts.serious_illness)
                or _recent(facts, facts.newest_death, days)
            )
            out["temporary"] = _NEEDS if signs or "temporary" in asked_set else ItemOutcome.NOT_ELIGIBLE
        if "disaster" in items:
            # A recent record still needs its loss assessed by a person.
            recent = _recent(facts, facts.newest_disaster, self.disaster_days)
            out["disaster"] = _NEEDS if recent or "disaster" in asked_set else ItemOutcome.NOT_ELIGIBLE
        return {item: out.get(item, _NEEDS) for item in ITEMS}


def evaluate_outcomes(
    facts: HouseholdFacts | OutcomeFacts, standards: Mapping[str, Params], *, asked: Iterable[str] = ()
) -> dict[str, ItemOutcome]:
    """Every item's outcome, as `evaluate` would decide it, in ITEMS order; no explanations.

    Explained facts are projected first; a bulk run passes eligibility.outcome_facts.outcome_facts,
    and uses OutcomeRules to parse the standards once.
    """
    if isinstance(facts, HouseholdFacts):
        facts = project(facts)
    return OutcomeRules(standards).decide(facts, asked)
