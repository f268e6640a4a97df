"""The three basic items that decide whether a household is a recipient: dibao, edge, extreme poverty."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..facts import Fact, HouseholdFacts, money
from .base import (
    CriterionResult,
    Outcome,
    asset_criterion,
    count_criterion,
    d,
    i,
    living_count,
    members_criterion,
    state_employee_criterion,
    unknown_from,
    vehicle_criterion,
)

Params = Mapping[str, Any]


def _income_below(facts: HouseholdFacts, limit: Decimal, what: str) -> CriterionResult:
    fact = facts.income_per_person_month
    threshold = money(limit)
    if not fact.known or fact.value is None:
        return unknown_from("income", fact, threshold, "元/月", "家庭月人均收入")
    value: Decimal = fact.value
    if value < limit:
        return CriterionResult(
            "income",
            Outcome.PASS,
            money(value),
            threshold,
            "元/月",
            fact.sources,
            f"家庭月人均收入 {money(value)} 元，低于{what} {threshold} 元",
        )
    return CriterionResult(
        "income",
        Outcome.FAIL,
        money(value),
        threshold,
        "元/月",
        fact.sources,
        f"家庭月人均收入 {money(value)} 元，不低于{what} {threshold} 元",
    )


def _property_criteria(facts: HouseholdFacts, p: Params) -> list[CriterionResult]:
    return [
        asset_criterion(facts, d(p, "asset_limit_per_person")),
        vehicle_criterion(facts, i(p, "vehicle_limit")),
        count_criterion("housing", facts.housing_count, i(p, "house_limit"), "住宅", "套"),
        count_criterion(
            "business",
            _business_and_commercial(facts),
            i(p, "business_limit"),
            "在营企业、个体工商户或非住宅房产",
            "个",
        ),
        state_employee_criterion(facts),
    ]


def _business_and_commercial(facts: HouseholdFacts) -> Fact:
    return Fact(
        int(facts.business.value) + int(facts.commercial_property.value),
        "个",
        facts.business.sources + facts.commercial_property.sources,
    )


def dibao(facts: HouseholdFacts, p: Params) -> list[CriterionResult]:
    return [
        members_criterion(facts),
        _income_below(facts, d(p, "amount_per_person_month"), "低保标准"),
        *_property_criteria(facts, p),
    ]


def low_income_edge(facts: HouseholdFacts, p: Params, dibao_params: Params | None) -> list[CriterionResult]:
    if dibao_params is None:
        income = CriterionResult(
            "income",
            Outcome.UNKNOWN,
            "",
            "",
            "元/月",
            (),
            "本地区没有生效的低保标准，无法计算低保边缘收入线，需人工核实",
        )
        return [members_criterion(facts), income, *_property_criteria(facts, p)]
    amount = d(dibao_params, "amount_per_person_month")
    upper = (amount * d(p, "multiple")).quantize(Decimal("0.01"))
    fact = facts.income_per_person_month
    threshold = f"{money(amount)}–{money(upper)}"
    if not fact.known or fact.value is None:
        income = unknown_from("income", fact, threshold, "元/月", "家庭月人均收入")
    elif fact.value < amount:
        income = CriterionResult(
            "income",
            Outcome.FAIL,
            money(fact.value),
            threshold,
            "元/月",
            fact.sources,
            f"家庭月人均收入 {money(fact.value)} 元，低于低保标准 {money(amount)} 元，应按低保审核",
        )
    elif fact.value < upper:
        income = CriterionResult(
            "income",
            Outcome.PASS,
            money(fact.value),
            threshold,
            "元/月",
            fact.sources,
            f"家庭月人均收入 {money(fact.value)} 元，在低保标准 {money(amount)} 元与"
            f"{p['multiple']} 倍 {money(upper)} 元之间",
        )
    else:
        income = CriterionResult(
            "income",
            Outcome.FAIL,
            money(fact.value),
            threshold,
            "元/月",
            fact.sources,
            f"家庭月人均收入 {money(fact.value)} 元，不低于低保标准的 {p['multiple']} 倍 {money(upper)} 元",
        )
    return [members_criterion(facts), income, *_property_criteria(facts, p)]


def extreme_poverty(facts: HouseholdFacts, p: Params, dibao_params: Params | None) -> list[CriterionResult]:
    elderly, child = i(p, "age_elderly"), i(p, "age_child")
    grades = {int(g) for g in p["disability_grades"]}
    criteria: list[CriterionResult] = []
    if not facts.counted_members.known or living_count(facts) == 0:
        criteria.append(unknown_from("no_work_capacity", facts.counted_members, "", "", "家庭成员情况"))
    else:
        able = [
            m
            for m in facts.living_members()
            if not (
                m.age >= elderly
                or m.age < child
                or (m.disability_grade is not None and m.disability_grade in grades)
            )
        ]
        rule = f"年满 {elderly} 周岁、未满 {child} 周岁或重度残疾"
        if able:
            names = "、".join(f"{m.label}{m.age}岁" for m in able)
            criteria.append(
                CriterionResult(
                    "no_work_capacity",
                    Outcome.FAIL,
                    str(len(able)),
                    "0",
                    "人",
                    facts.disability.sources,
                    f"{names}不属于{rule}的情形，家庭有劳动能力成员",
                )
            )
        else:
            criteria.append(
                CriterionResult(
                    "no_work_capacity",
                    Outcome.PASS,
                    "0",
                    "0",
                    "人",
                    facts.disability.sources,
                    f"所有家庭成员均为{rule}，无劳动能力",
                )
            )
    if dibao_params is None:
        criteria.append(
            CriterionResult(
                "income",
                Outcome.UNKNOWN,
                "",
                "",
                "元/月",
                (),
                "本地区没有生效的低保标准，无法判断收入，需人工核实",
            )
        )
    else:
        criteria.append(_income_below(facts, d(dibao_params, "amount_per_person_month"), "低保标准"))
    criteria.append(asset_criterion(facts, d(p, "asset_limit_per_person")))
    support = facts.supporter_income
    limit = d(p, "supporter_income_limit")
    if not support.known:
        criteria.append(unknown_from("supporter", support, money(limit), "元/月", "赡养人能力"))
    elif not facts.supporters:
        criteria.append(
            CriterionResult(
                "supporter", Outcome.PASS, "", money(limit), "元/月", (), "没有法定赡养、抚养、扶养义务人"
            )
        )
    elif support.value <= limit:
        criteria.append(
            CriterionResult(
                "supporter",
                Outcome.PASS,
                money(support.value),
                money(limit),
                "元/月",
                support.sources,
                f"义务人月收入最高 {money(support.value)} 元，不超过 {money(limit)} 元，无力赡养（扶养）",
            )
        )
    else:
        criteria.append(
            CriterionResult(
                "supporter",
                Outcome.FAIL,
                money(support.value),
                money(limit),
                "元/月",
                support.sources,
                f"义务人月收入 {money(support.value)} 元，超过 {money(limit)} 元，有能力赡养（扶养）",
            )
        )
    return criteria
