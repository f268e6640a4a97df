"""The shapes every rule returns, and the helpers they share. Pure: no Django, no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ..facts import Fact, HouseholdFacts, MemberFacts, RecordRef


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    UNKNOWN = "unknown"


class ItemOutcome(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    NEEDS_PERSON = "needs_person"


# The 8+X items in display order (domain.md); applications.models.NeedItem holds the same codes.
ITEMS: tuple[str, ...] = (
    "dibao",
    "low_income_edge",
    "extreme_poverty",
    "medical",
    "education",
    "housing",
    "employment",
    "temporary",
    "disaster",
    "disability_living",
    "disability_care",
    "pension_premium",
    "utility_relief",
)
ITEM_LABELS: dict[str, str] = {
    "dibao": "最低生活保障",
    "low_income_edge": "低保边缘",
    "extreme_poverty": "特困人员供养",
    "medical": "医疗救助",
    "education": "教育救助",
    "housing": "住房救助",
    "employment": "就业救助",
    "temporary": "临时救助",
    "disaster": "受灾人员救助",
    "disability_living": "困难残疾人生活补贴",
    "disability_care": "重度残疾人护理补贴",
    "pension_premium": "城乡居民养老保险代缴",
    "utility_relief": "电费等生活费用减免",
}
OUTCOME_LABELS = {
    ItemOutcome.ELIGIBLE: "符合",
    ItemOutcome.NOT_ELIGIBLE: "不符合",
    ItemOutcome.NEEDS_PERSON: "需人工核实",
}
CRITERION_NAMES = {
    "standard": "救助标准",
    "members": "家庭人口",
    "income": "家庭收入",
    "financial_assets": "金融资产",
    "vehicles": "机动车",
    "housing": "住房",
    "business": "经营情况",
    "state_employee": "财政供养人员",
    "no_work_capacity": "劳动能力",
    "supporter": "赡养（抚养、扶养）义务人",
    "recipient": "救助对象身份",
    "medical_burden": "医疗支出",
    "students": "在校学生",
    "housing_need": "住房困难",
    "unemployed_member": "失业成员",
    "disability": "残疾等级",
    "pension_insurance": "养老保险参保",
    "electricity_account": "居民用电户",
    "sudden_hardship": "突发困难",
    "disaster_record": "受灾记录",
    "loss_assessment": "损失核定",
}
CRITERION_LABELS = {Outcome.PASS: "通过", Outcome.FAIL: "未通过", Outcome.UNKNOWN: "待核实"}


@dataclass(frozen=True)
class CriterionResult:
    name: str
    outcome: Outcome
    value: str
    threshold: str
    unit: str
    records: tuple[RecordRef, ...]
    reason: str  # one plain-Chinese sentence a resident can follow

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": str(self.outcome),
            "value": self.value,
            "threshold": self.threshold,
            "unit": self.unit,
            "records": [r.as_dict() for r in self.records],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ItemResult:
    item: str
    outcome: ItemOutcome
    asked: bool
    criteria: tuple[CriterionResult, ...]

    @property
    def label(self) -> str:
        return ITEM_LABELS[self.item]

    @property
    def policy_finds_person(self) -> bool:
        """Qualifies without having asked (政策找人)."""
        return self.outcome == ItemOutcome.ELIGIBLE and not self.asked

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "label": self.label,
            "outcome": str(self.outcome),
            "asked": self.asked,
            "policy_finds_person": self.policy_finds_person,
            "criteria": [c.as_dict() for c in self.criteria],
        }


# A criterion's outcome as a small int, so that an all-of item is the max of its criteria and an
# any-of item the min: the rules return these, and a bulk run combines them without enums.
P, U, F = 0, 1, 2
CRITERION_OUTCOMES = (Outcome.PASS, Outcome.UNKNOWN, Outcome.FAIL)
ITEM_OUTCOMES = (ItemOutcome.ELIGIBLE, ItemOutcome.NEEDS_PERSON, ItemOutcome.NOT_ELIGIBLE)


# --- helpers --------------------------------------------------------------------------------


_CACHE_LIMIT = 4096
_DECIMALS: dict[tuple[type, Any], Decimal] = {}  # a standard's parameters, parsed once


def d(params: Mapping[str, Any], key: str) -> Decimal:
    raw = params[key]
    cache_key = (type(raw), raw)  # 1 and 1.0 are equal keys but differ as str(): keep them apart
    try:
        return _DECIMALS[cache_key]
    except KeyError:
        if len(_DECIMALS) > _CACHE_LIMIT:
            _DECIMALS.clear()
        value = _DECIMALS[cache_key] = Decimal(str(raw))
        return value
    except TypeError:  # an unhashable value: Decimal(str()) as ever
        return Decimal(str(raw))


def i(params: Mapping[str, Any], key: str) -> int:
    return int(params[key])


class Why:
    """Where each criterion attaches its explanation (value, threshold, records, reason) for a report.

    A rule decides on the lean facts and, given a Why, says why from the explained facts of the
    same computation; a bulk run passes None and skips the saying, never the deciding.
    """

    __slots__ = ("criteria", "facts")

    def __init__(self, facts: HouseholdFacts) -> None:
        self.facts = facts
        self.criteria: list[CriterionResult] = []

    def living(self) -> tuple[MemberFacts, ...]:
        """The living members, in the order of LeanFacts.living."""
        return self.facts.living_members()

    def add(
        self,
        name: str,
        code: int,
        value: str,
        threshold: str,
        unit: str,
        records: tuple[RecordRef, ...],
        reason: str,
    ) -> None:
        self.criteria.append(
            CriterionResult(name, CRITERION_OUTCOMES[code], value, threshold, unit, records, reason)
        )

    def unknown_from(
        self, name: str, fact: Fact, threshold: str = "", unit: str = "", what: str = ""
    ) -> None:
        """The criterion cannot be decided because the fact's data is missing or contradicts."""
        problems = "；".join((*fact.conflict, *fact.missing))
        lead = f"无法判断{what}：" if what else ""
        self.add(name, U, "", threshold, unit, fact.sources, f"{lead}{problems}，需人工核实")


def no_standard(item: str) -> CriterionResult:
    return CriterionResult(
        "standard",
        Outcome.UNKNOWN,
        "",
        "",
        "",
        (),
        f"本地区没有生效的{ITEM_LABELS[item]}标准，无法自动核对，需人工核实",
    )
