"""Every assistance item's rules over a household's facts. Pure and typed: no database, no clock.

One path decides. Each criterion (rules.assistance, rules.supplementary) is one function over the
lean facts (eligibility.facts.LeanFacts) returning pass / fail / unknown; `Rules(standards)` parses
the standards once and runs them. `Rules.decide(lean)` gives each item's outcome, for bulk work
(the re-check of the rolls, the what-if); `evaluate(facts, standards)` runs the very same rules
with a Why per item, which attaches to each criterion its value, threshold, records and a Chinese
reason from the explained facts, for the report. `standards` maps an item to its standard's
params (validated by rules.params.validate_params).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..facts import HouseholdFacts, LeanFacts
from . import assistance as a
from . import supplementary as s
from .base import (
    CRITERION_LABELS,
    CRITERION_NAMES,
    ITEM_LABELS,
    ITEM_OUTCOMES,
    ITEMS,
    OUTCOME_LABELS,
    CriterionResult,
    ItemOutcome,
    ItemResult,
    Outcome,
    Why,
    d,
    i,
    no_standard,
)
from .params import (
    DEMO_PARAMS,
    PARAM_LABELS,
    PARAM_SPECS,
    ParamsError,
    param_label,
    params_text,
    validate_params,
)

__all__ = [
    "CRITERION_LABELS",
    "CRITERION_NAMES",
    "DEMO_PARAMS",
    "ITEMS",
    "ITEM_LABELS",
    "OUTCOME_LABELS",
    "PARAM_LABELS",
    "PARAM_SPECS",
    "CriterionResult",
    "ItemOutcome",
    "ItemResult",
    "Outcome",
    "ParamsError",
    "Rules",
    "evaluate",
    "param_label",
    "params_text",
    "policy_first",
    "validate_params",
]

Params = Mapping[str, Any]
_NEEDS = ItemOutcome.NEEDS_PERSON


class _Property:
    """An item's property limits (assets, vehicles, housing, business), parsed once."""

    __slots__ = ("assets", "businesses", "houses", "vehicles")

    def __init__(self, p: Params) -> None:
        self.assets = d(p, "asset_limit_per_person")
        self.vehicles, self.houses = i(p, "vehicle_limit"), i(p, "house_limit")
        self.businesses = i(p, "business_limit")

    def code(self, f: LeanFacts, why: Why | None) -> int:
        """The worst of the five criteria, each explained in this order."""
        return max(
            a.assets(f, self.assets, why),
            a.vehicles(f, self.vehicles, why),
            a.housing(f, self.houses, why),
            a.business(f, self.businesses, why),
            a.state_employee(f, why),
        )


class Rules:
    """Every item's rules with its standard's parameters parsed once, for one household or many.

    A bulk run (the re-check, the what-if) builds one per township's standards.
    """

    def __init__(self, standards: Mapping[str, Params]) -> None:
        self.items = frozenset(standards)
        get = standards.get
        self.dibao_amount = d(p, "amount_per_person_month") if (p := get("dibao")) is not None else None
        self.dibao_property = _Property(p) if p is not None else None
        if (p := get("low_income_edge")) is not None:
            self.edge_property = _Property(p)
            self.edge_multiple = p["multiple"]  # as the standard writes it, for the reason
            if self.dibao_amount is not None:
                self.edge_upper = (self.dibao_amount * d(p, "multiple")).quantize(a.CENT)
        if (p := get("extreme_poverty")) is not None:
            self.elderly, self.child = i(p, "age_elderly"), i(p, "age_child")
            self.extreme_grades = {int(g) for g in p["disability_grades"]}
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
            self.living_grades = {int(g) for g in p["grades"]}
        if (p := get("pension_premium")) is not None:
            self.pension_ages = i(p, "age_min"), i(p, "age_max")
        if (p := get("disability_care")) is not None:
            self.care_grades = {int(g) for g in p["grades"]}
        if (p := get("utility_relief")) is not None:
            self.free_kwh = p["free_kwh_month"]
        if (p := get("temporary")) is not None:
            self.temporary_days = i(p, "window_days")
            self.temporary_trigger = d(p, "medical_spending_trigger")
        if (p := get("disaster")) is not None:
            self.disaster_days = i(p, "window_days")
        self._steps()

    def _steps(self) -> None:
        """Group the items' rules: the basic ones (the others build on them), those that also need
        the recipient basis, and the rest."""
        items = self.items
        amount = self.dibao_amount
        # The basic items: (facts, why) -> code.
        basic: list[tuple[str, Callable[[LeanFacts, Why | None], int]]] = []
        if (prop := self.dibao_property) is not None and amount is not None:
            dibao_amount, dibao_prop = amount, prop

            def dibao(f: LeanFacts, why: Why | None) -> int:
                members = a.members(f, why)
                income = a.income_below(f, dibao_amount, "低保标准", why)
                return max(members, income, dibao_prop.code(f, why))

            basic.append(("dibao", dibao))
        if "low_income_edge" in items:

            def edge(f: LeanFacts, why: Why | None) -> int:
                members = a.members(f, why)
                if amount is None:
                    income = a.no_dibao_standard(
                        why, "本地区没有生效的低保标准，无法计算低保边缘收入线，需人工核实"
                    )
                else:
                    income = a.edge_income(f, amount, self.edge_upper, self.edge_multiple, why)
                return max(members, income, self.edge_property.code(f, why))

            basic.append(("low_income_edge", edge))
        if "extreme_poverty" in items:

            def extreme(f: LeanFacts, why: Why | None) -> int:
                capacity = a.no_work_capacity(f, self.elderly, self.child, self.extreme_grades, why)
                if amount is None:
                    income = a.no_dibao_standard(why, "本地区没有生效的低保标准，无法判断收入，需人工核实")
                else:
                    income = a.income_below(f, amount, "低保标准", why)
                assets = a.assets(f, self.extreme_assets, why)
                return max(capacity, income, assets, a.supporter(f, self.supporter_limit, why))

            basic.append(("extreme_poverty", extreme))
        # The items that also need the recipient basis (rules.supplementary.recipient_basis), as
        # (item, criterion, its parameters): the criterion is called as criterion(facts, *params, why).
        needs: list[tuple[str, Callable[..., int], tuple[Any, ...]]] = []
        if "medical" in items:
            needs.append(("medical", s.medical_burden, (self.spending_ratio, self.min_spending)))
        if "education" in items:
            needs.append(("education", s.students, (self.stages,)))
        if "housing" in items:
            needs.append(("housing", s.housing_need, (self.area_min,)))
        if "employment" in items:
            needs.append(("employment", s.unemployed_member, self.employment_ages))
        if "disability_living" in items:
            needs.append(("disability_living", s.disability, (self.living_grades,)))
        if "pension_premium" in items:
            needs.append(("pension_premium", s.pension_insured, self.pension_ages))
        if "utility_relief" in items:
            needs.append(("utility_relief", s.electricity_account, (self.free_kwh,)))
        # medical's bases are alternatives (a recipient, or spending-led poverty): one suffices.
        self.needs = [(item, item == "medical", fn, params) for item, fn, params in needs]
        # The rest, likewise, with whether the item was asked for where that matters:
        # criterion(facts, *params, asked, why), or criterion(facts, *params, why).
        rest: list[tuple[str, Callable[..., int], tuple[Any, ...], bool]] = []
        if "disability_care" in items:
            rest.append(("disability_care", s.disability, (self.care_grades,), False))
        if "temporary" in items:
            rest.append(("temporary", s.sudden_hardship, (self.temporary_days, self.temporary_trigger), True))
        if "disaster" in items:
            rest.append(("disaster", s.disaster_record, (self.disaster_days,), True))
        self.basic, self.rest = basic, rest

    def decide(self, facts: LeanFacts, asked: Iterable[str] = ()) -> dict[str, ItemOutcome]:
        """Every item's outcome in ITEMS order, without explanations; no standard needs a person."""
        out: dict[str, ItemOutcome] = {}
        for item, rule in self.basic:
            out[item] = ITEM_OUTCOMES[rule(facts, None)]
        if self.needs:
            basis = s.recipient_basis(facts, out, None)  # the same for every item: decided once
            for item, any_of, need, params in self.needs:
                code = need(facts, *params, None)
                out[item] = ITEM_OUTCOMES[min(basis, code) if any_of else max(basis, code)]
        if self.rest:
            asked_set = frozenset(asked)
            for item, other, params, by_asked in self.rest:
                if by_asked:
                    code = other(facts, *params, item in asked_set, None)
                else:
                    code = other(facts, *params, None)
                out[item] = ITEM_OUTCOMES[code]
        return {item: out.get(item, _NEEDS) for item in ITEMS}

    def explain(self, facts: HouseholdFacts, asked: Iterable[str] = ()) -> list[ItemResult]:
        """Every item's result in ITEMS order: the same rules, each criterion explained."""
        asked_set = frozenset(asked)
        lean = facts.lean
        out: dict[str, ItemOutcome] = {}
        criteria: dict[str, tuple[CriterionResult, ...]] = {}
        for item, rule in self.basic:
            why = Why(facts)
            out[item] = ITEM_OUTCOMES[rule(lean, why)]
            criteria[item] = tuple(why.criteria)
        for item, any_of, need, params in self.needs:
            why = Why(facts)
            basis = s.recipient_basis(lean, out, why)  # each item's report shows its basis
            code = need(lean, *params, why)
            out[item] = ITEM_OUTCOMES[min(basis, code) if any_of else max(basis, code)]
            criteria[item] = tuple(why.criteria)
        for item, other, params, by_asked in self.rest:
            why = Why(facts)
            code = other(lean, *params, item in asked_set, why) if by_asked else other(lean, *params, why)
            out[item] = ITEM_OUTCOMES[code]
            criteria[item] = tuple(why.criteria)
        return [
            ItemResult(item, out[item], item in asked_set, criteria[item])
            if item in out
            else ItemResult(item, _NEEDS, item in asked_set, (no_standard(item),))
            for item in ITEMS
        ]


def evaluate(
    facts: HouseholdFacts, standards: Mapping[str, Params], *, asked: Iterable[str] = ()
) -> list[ItemResult]:
    """Run every item's rules, explained, in ITEMS order (`Rules(standards).explain`)."""
    return Rules(standards).explain(facts, asked)


def policy_first(results: Iterable[ItemResult]) -> list[ItemResult]:
    """政策找人 first (eligible, not asked), then what was asked, then the rest; ITEMS order within."""

    def rank(r: ItemResult) -> tuple[int, int]:
        group = 0 if r.policy_finds_person else (1 if r.asked else 2)
        return group, ITEMS.index(r.item)

    return sorted(results, key=rank)
