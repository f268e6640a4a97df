"""Every assistance item's rules over a household's facts. Pure and typed: no database, no clock.

`evaluate(facts, standards, asked=...)` returns one ItemResult per item (ITEMS order); each is a
list of named criteria (pass / fail / unknown, value, threshold, records, a Chinese reason).
`standards` maps an item to its standard's params (validated by rules.params.validate_params).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from eligibility.rules.params import DEMO_PARAMS, PARAM_SPECS, ParamsError, validate_params

from ..facts import HouseholdFacts
from . import assistance, supplementary
from .base import (
    CRITERION_LABELS,
    CRITERION_NAMES,
    ITEM_LABELS,
    ITEMS,
    OUTCOME_LABELS,
    CriterionResult,
    ItemOutcome,
    ItemResult,
    Outcome,
    combine,
    no_standard,
)
from .outcomes import OutcomeRules, evaluate_outcomes

__all__ = [
    "CRITERION_LABELS",
    "CRITERION_NAMES",
    "DEMO_PARAMS",
    "ITEMS",
    "ITEM_LABELS",
    "OUTCOME_LABELS",
    "PARAM_SPECS",
    "CriterionResult",
    "ItemOutcome",
    "ItemResult",
    "Outcome",
    "OutcomeRules",
    "ParamsError",
    "evaluate",
    "evaluate_outcomes",
    "policy_first",
    "validate_params",
]

Params = Mapping[str, Any]
_DEPENDENT: dict[str, Callable[..., list[CriterionResult]]] = {
    "medical": supplementary.medical,
    "education": supplementary.education,
    "housing": supplementary.housing,
    "employment": supplementary.employment,
    "disability_living": supplementary.disability_living,
    "disability_care": supplementary.disability_care,
    "pension_premium": supplementary.pension_premium,
    "utility_relief": supplementary.utility_relief,
}
# Items whose criteria are alternatives: one passing basis is enough.
_ANY_OF = frozenset({"medical"})


def evaluate(
    facts: HouseholdFacts, standards: Mapping[str, Params], *, asked: Iterable[str] = ()
) -> list[ItemResult]:
    """Run every item's rules; the three basic items first, since the others build on them."""
    asked_set = set(asked)
    criteria: dict[str, list[CriterionResult]] = {}
    dibao_params = standards.get("dibao")
    if dibao_params is not None:
        criteria["dibao"] = assistance.dibao(facts, dibao_params)
    for item, fn in (
        ("low_income_edge", assistance.low_income_edge),
        ("extreme_poverty", assistance.extreme_poverty),
    ):
        if item in standards:
            criteria[item] = fn(facts, standards[item], dibao_params)
    base = {
        item: combine(criteria[item]) if item in criteria else ItemOutcome.NEEDS_PERSON
        for item in ("dibao", "low_income_edge", "extreme_poverty")
    }
    for item, fn in _DEPENDENT.items():
        if item in standards:
            criteria[item] = fn(facts, standards[item], base)
    if "temporary" in standards:
        criteria["temporary"] = supplementary.temporary(
            facts, standards["temporary"], "temporary" in asked_set
        )
    if "disaster" in standards:
        criteria["disaster"] = supplementary.disaster(facts, standards["disaster"], "disaster" in asked_set)
    results = []
    for item in ITEMS:
        crits = criteria.get(item) or [no_standard(item)]
        results.append(
            ItemResult(item, combine(crits, any_of=item in _ANY_OF), item in asked_set, tuple(crits))
        )
    return results


def policy_first(results: Iterable[ItemResult]) -> list[ItemResult]:
    """政策找人 first (eligible, not asked), then what was asked, then the rest; ITEMS order within."""

    def rank(r: ItemResult) -> tuple[int, int]:
        group = 0 if r.policy_finds_person else (1 if r.asked else 2)
        return group, ITEMS.index(r.item)

    return sorted(results, key=rank)
