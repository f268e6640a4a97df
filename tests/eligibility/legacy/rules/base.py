"""The shapes every rule returns, and the helpers they share. Pure: no Django, no database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ..facts import Fact, HouseholdFacts, RecordRef, money


class Outcome(StrEnum):
    PASS = "pass"
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


_PASS, _FAIL, _UNKNOWN = Outcome.PASS, Outcome.FAIL, Outcome.UNKNOWN
_ELIGIBLE, _NOT_ELIGIBLE, _NEEDS_PERSON = (
    ItemOutcome.ELIGIBLE,
    ItemOutcome.NOT_ELIGIBLE,
    ItemOutcome.NEEDS_PERSON,
)


def combine(criteria: Sequence[CriterionResult], *, any_of: bool = False) -> ItemOutcome:
    """All must pass (default), or one suffices (`any_of`). Unknown never becomes a fail."""
    # The members are bound once above: looking an enum member up on its class costs more than
    # the whole comparison, and this runs for every item of every household.
    outcomes = {c.outcome for c in criteria}
    if any_of:
        if _PASS in outcomes:
            return _ELIGIBLE
        return _NEEDS_PERSON if _UNKNOWN in outcomes else _NOT_ELIGIBLE
    if _FAIL in outcomes:
        return _NOT_ELIGIBLE
    if _UNKNOWN in outcomes or not outcomes:
        return _NEEDS_PERSON
    return _ELIGIBLE


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


def unknown_from(
    name: str, fact: Fact, threshold: str = "", unit: str = "", what: str = ""
) -> CriterionResult:
    """The criterion cannot be decided because the fact's data is missing or contradicts."""
    problems = "；".join((*fact.conflict, *fact.missing))
    lead = f"无法判断{what}：" if what else ""
    return CriterionResult(
        name, Outcome.UNKNOWN, "", threshold, unit, fact.sources, f"{lead}{problems}，需人工核实"
    )


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


def living_count(facts: HouseholdFacts) -> int:
    value = facts.counted_members.value
    return int(value) if isinstance(value, int) else 0


def asset_criterion(facts: HouseholdFacts, limit_per_person: Decimal) -> CriterionResult:
    fact = facts.financial_assets
    n = living_count(facts)
    threshold = money(limit_per_person)
    if not facts.counted_members.known or n == 0:
        return unknown_from("financial_assets", facts.counted_members, threshold, "元/人", "人均金融资产")
    per_person = (fact.value / n).quantize(Decimal("0.01"))
    if per_person <= limit_per_person:
        return CriterionResult(
            "financial_assets",
            Outcome.PASS,
            money(per_person),
            threshold,
            "元/人",
            fact.sources,
            f"家庭人均金融资产 {money(per_person)} 元，未超过 {threshold} 元",
        )
    return CriterionResult(
        "financial_assets",
        Outcome.FAIL,
        money(per_person),
        threshold,
        "元/人",
        fact.sources,
        f"家庭人均金融资产 {money(per_person)} 元（存款、证券、理财合计 {money(fact.value)} 元），"
        f"超过 {threshold} 元",
    )


def count_criterion(name: str, fact: Fact, limit: int, what: str, unit: str) -> CriterionResult:
    count = int(fact.value)
    if count <= limit:
        said = f"家庭名下有{what} {count} {unit}" if count else f"家庭名下没有{what}"
        return CriterionResult(
            name,
            Outcome.PASS,
            str(count),
            str(limit),
            unit,
            fact.sources,
            f"{said}，未超过 {limit} {unit}的限制",
        )
    return CriterionResult(
        name,
        Outcome.FAIL,
        str(count),
        str(limit),
        unit,
        fact.sources,
        f"家庭名下有{what} {count} {unit}，超过 {limit} {unit}的限制",
    )


def vehicle_criterion(facts: HouseholdFacts, limit: int) -> CriterionResult:
    result = count_criterion("vehicles", facts.vehicles, limit, "机动车", "辆")
    exempt = int(facts.exempt_vehicles.value)
    if exempt:
        note = f"（另有摩托车、残疾人专用车或农用车 {exempt} 辆，不计入）"
        return CriterionResult(
            result.name,
            result.outcome,
            result.value,
            result.threshold,
            result.unit,
            result.records + facts.exempt_vehicles.sources,
            result.reason + note,
        )
    return result


def state_employee_criterion(facts: HouseholdFacts) -> CriterionResult:
    fact = facts.state_employee
    if int(fact.value) == 0:
        return CriterionResult(
            "state_employee", Outcome.PASS, "0", "0", "人", (), "家庭成员中没有财政供养人员"
        )
    return CriterionResult(
        "state_employee",
        Outcome.FAIL,
        str(fact.value),
        "0",
        "人",
        fact.sources,
        f"家庭成员中有财政供养人员 {fact.value} 人",
    )


def members_criterion(facts: HouseholdFacts) -> CriterionResult:
    fact = facts.counted_members
    if not fact.known:
        return unknown_from("members", fact, "", "人", "家庭人口")
    return CriterionResult(
        "members",
        Outcome.PASS,
        str(fact.value),
        "",
        "人",
        fact.sources,
        f"共同生活的家庭成员 {fact.value} 人，户籍记录齐全",
    )
