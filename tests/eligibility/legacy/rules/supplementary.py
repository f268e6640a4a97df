"""Items that follow from being a recipient (medical, education, housing, ...) and the hardship items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..facts import RECIPIENT_ITEMS, HouseholdFacts, MemberFacts, money
from .base import ITEM_LABELS, CriterionResult, ItemOutcome, Outcome, d, i

Params = Mapping[str, Any]
BaseResults = Mapping[str, ItemOutcome]


def recipient_basis(facts: HouseholdFacts, base: BaseResults) -> CriterionResult:
    """In the rolls already, or eligible for dibao / edge / extreme poverty in this very check."""
    enrolled = [item for item in facts.recipient_items.value if item in RECIPIENT_ITEMS]
    if enrolled:
        names = "、".join(ITEM_LABELS[item] for item in enrolled)
        return CriterionResult(
            "recipient", Outcome.PASS, names, "", "", facts.recipient_items.sources, f"家庭是在册{names}对象"
        )
    eligible = [item for item in RECIPIENT_ITEMS if base.get(item) == ItemOutcome.ELIGIBLE]
    if eligible:
        names = "、".join(ITEM_LABELS[item] for item in eligible)
        return CriterionResult("recipient", Outcome.PASS, names, "", "", (), f"本次核对家庭符合{names}条件")
    if any(base.get(item) == ItemOutcome.NEEDS_PERSON for item in RECIPIENT_ITEMS):
        return CriterionResult(
            "recipient", Outcome.UNKNOWN, "", "", "", (), "家庭是否符合低保、低保边缘或特困条件尚需人工核实"
        )
    return CriterionResult(
        "recipient",
        Outcome.FAIL,
        "",
        "",
        "",
        (),
        "家庭不是在册救助对象，本次核对也不符合低保、低保边缘或特困条件",
    )


def _names(members: Sequence[MemberFacts]) -> str:
    return "、".join(m.label for m in members)


def medical(facts: HouseholdFacts, p: Params, base: BaseResults) -> list[CriterionResult]:
    """Either basis suffices (evaluate combines these any-of): a recipient, or spending-led poverty."""
    spending = facts.medical_spending
    ratio, minimum = d(p, "spending_ratio"), d(p, "min_spending")
    income = facts.household_income_month
    if not income.known:
        burden = CriterionResult(
            "medical_burden",
            Outcome.UNKNOWN,
            money(spending.value),
            "",
            "元",
            spending.sources,
            f"近 12 个月个人自付医疗费用 {money(spending.value)} 元；家庭收入无法确定（"
            + "；".join((*income.conflict, *income.missing))
            + "），需人工核实",
        )
    else:
        annual = income.value * 12
        limit = max(minimum, (annual * ratio).quantize(Decimal("0.01")))
        if spending.value >= limit:
            burden = CriterionResult(
                "medical_burden",
                Outcome.PASS,
                money(spending.value),
                money(limit),
                "元",
                spending.sources,
                f"近 12 个月个人自付医疗费用 {money(spending.value)} 元，达到家庭年收入 {money(annual)} 元的 "
                f"{ratio} 倍且不少于 {money(minimum)} 元（{money(limit)} 元），属支出型困难",
            )
        else:
            burden = CriterionResult(
                "medical_burden",
                Outcome.FAIL,
                money(spending.value),
                money(limit),
                "元",
                spending.sources,
                f"近 12 个月个人自付医疗费用 {money(spending.value)} 元，低于 {money(limit)} 元"
                f"（家庭年收入 {money(annual)} 元的 {ratio} 倍，且不少于 {money(minimum)} 元）",
            )
    return [recipient_basis(facts, base), burden]


def education(facts: HouseholdFacts, p: Params, base: BaseResults) -> list[CriterionResult]:
    stages = set(p["stages"])
    students = [
        m for m in facts.living_members() if m.is_student and (not stages or m.student_stage in stages)
    ]
    if students:
        who = "、".join(f"{m.label}（{m.student_stage}）" for m in students)
        crit = CriterionResult(
            "students",
            Outcome.PASS,
            str(len(students)),
            "1",
            "人",
            facts.students.sources,
            f"家庭有在校学生：{who}",
        )
    else:
        crit = CriterionResult(
            "students",
            Outcome.FAIL,
            "0",
            "1",
            "人",
            facts.students.sources,
            "数据池中没有家庭成员的在读学籍记录",
        )
    return [recipient_basis(facts, base), crit]


def housing(facts: HouseholdFacts, p: Params, base: BaseResults) -> list[CriterionResult]:
    minimum = d(p, "area_per_person_min")
    sources = facts.housing_count.sources + facts.unsafe_housing.sources
    if facts.unsafe_housing.value:
        need = CriterionResult(
            "housing_need", Outcome.PASS, "C/D 级危房", "", "", sources, "家庭住房经鉴定为 C 级或 D 级危房"
        )
    elif int(facts.housing_count.value) == 0:
        need = CriterionResult(
            "housing_need", Outcome.PASS, "0", "", "套", sources, "家庭成员名下没有登记住房"
        )
    elif not facts.housing_area_per_person.known or facts.housing_area_per_person.value is None:
        need = CriterionResult(
            "housing_need",
            Outcome.UNKNOWN,
            "",
            str(minimum),
            "平方米/人",
            sources,
            "家庭人口无法确定，无法计算人均住房面积，需人工核实",
        )
    elif facts.housing_area_per_person.value < minimum:
        need = CriterionResult(
            "housing_need",
            Outcome.PASS,
            str(facts.housing_area_per_person.value),
            str(minimum),
            "平方米/人",
            sources,
            f"人均住房建筑面积 {facts.housing_area_per_person.value} 平方米，低于 {minimum} 平方米",
        )
    else:
        need = CriterionResult(
            "housing_need",
            Outcome.FAIL,
            str(facts.housing_area_per_person.value),
            str(minimum),
            "平方米/人",
            sources,
            f"家庭有登记住房，人均建筑面积 {facts.housing_area_per_person.value} 平方米，"
            f"不低于 {minimum} 平方米，且没有危房鉴定记录",
        )
    return [recipient_basis(facts, base), need]


def employment(facts: HouseholdFacts, p: Params, base: BaseResults) -> list[CriterionResult]:
    low, high = i(p, "age_min"), i(p, "age_max")
    able = [
        m
        for m in facts.living_members()
        if low <= m.age <= high and not m.is_student and not (m.disability_grade and m.disability_grade <= 2)
    ]
    unemployed = [m for m in able if m.employment == "unemployed"]
    unclear = [m for m in able if m.employment == "unknown"]
    if unemployed:
        crit = CriterionResult(
            "unemployed_member",
            Outcome.PASS,
            str(len(unemployed)),
            "1",
            "人",
            (),
            f"{_names(unemployed)}处于劳动年龄、有劳动能力，已办理失业登记",
        )
    elif unclear:
        crit = CriterionResult(
            "unemployed_member",
            Outcome.UNKNOWN,
            "",
            "1",
            "人",
            (),
            f"{_names(unclear)}处于劳动年龄，但就业状况没有记录，需人工核实",
        )
    else:
        crit = CriterionResult(
            "unemployed_member",
            Outcome.FAIL,
            "0",
            "1",
            "人",
            (),
            "家庭中没有处于失业登记状态、有劳动能力的劳动年龄成员",
        )
    return [recipient_basis(facts, base), crit]


def _disabled(facts: HouseholdFacts, grades: set[int]) -> list[MemberFacts]:
    return [
        m for m in facts.living_members() if m.disability_grade is not None and m.disability_grade in grades
    ]


def _disability_criterion(facts: HouseholdFacts, grades: set[int]) -> CriterionResult:
    shown = "、".join(f"{g} 级" for g in sorted(grades))
    members = _disabled(facts, grades)
    if members:
        who = "、".join(f"{m.label}（{m.disability_kind}{m.disability_grade}级）" for m in members)
        return CriterionResult(
            "disability",
            Outcome.PASS,
            str(len(members)),
            shown,
            "人",
            facts.disability.sources,
            f"持有残疾人证：{who}",
        )
    return CriterionResult(
        "disability",
        Outcome.FAIL,
        "0",
        shown,
        "人",
        facts.disability.sources,
        f"数据池中没有家庭成员持有 {shown}残疾人证的记录",
    )


def disability_living(facts: HouseholdFacts, p: Params, base: BaseResults) -> list[CriterionResult]:
    return [recipient_basis(facts, base), _disability_criterion(facts, {int(g) for g in p["grades"]})]


def disability_care(facts: HouseholdFacts, p: Params, base: BaseResults) -> list[CriterionResult]:
    return [_disability_criterion(facts, {int(g) for g in p["grades"]})]


def pension_premium(facts: HouseholdFacts, p: Params, base: BaseResults) -> list[CriterionResult]:
    low, high = i(p, "age_min"), i(p, "age_max")
    insured = [m for m in facts.living_members() if m.in_pension_insurance and low <= m.age <= high]
    if insured:
        crit = CriterionResult(
            "pension_insurance",
            Outcome.PASS,
            str(len(insured)),
            "1",
            "人",
            facts.pension_insurance.sources,
            f"{_names(insured)}参加城乡居民养老保险，年龄在 {low}–{high} 周岁",
        )
    else:
        crit = CriterionResult(
            "pension_insurance",
            Outcome.FAIL,
            "0",
            "1",
            "人",
            facts.pension_insurance.sources,
            f"没有 {low}–{high} 周岁的家庭成员参加城乡居民养老保险",
        )
    return [recipient_basis(facts, base), crit]


def utility_relief(facts: HouseholdFacts, p: Params, base: BaseResults) -> list[CriterionResult]:
    if facts.electricity.value:
        crit = CriterionResult(
            "electricity_account",
            Outcome.PASS,
            "",
            "",
            "",
            facts.electricity.sources,
            f"家庭有居民用电户，可按每月 {p['free_kwh_month']} 千瓦时减免",
        )
    else:
        crit = CriterionResult(
            "electricity_account",
            Outcome.UNKNOWN,
            "",
            "",
            "",
            (),
            "数据池中没有家庭的居民用电户记录，需核实用电户号",
        )
    return [recipient_basis(facts, base), crit]


def _recent(facts: HouseholdFacts, days: int, when: dt.date) -> bool:
    return (facts.as_of - when).days <= days


def temporary(facts: HouseholdFacts, p: Params, asked: bool) -> list[CriterionResult]:
    """Sudden hardship is a person's judgement: the pool can only point at signs of it."""
    days = i(p, "window_days")
    trigger = d(p, "medical_spending_trigger")
    signs: list[str] = []
    sources = []
    recent_disasters = [r for r in facts.disaster.sources if _recent(facts, days, r.effective_date)]
    if recent_disasters:
        signs.append(f"近 {days} 天有受灾登记 {len(recent_disasters)} 条")
        sources += recent_disasters
    if facts.medical_spending.value >= trigger:
        signs.append(f"近 12 个月个人自付医疗费用 {money(facts.medical_spending.value)} 元")
        sources += list(facts.medical_spending.sources)
    if int(facts.serious_illness.value):
        signs.append(f"有大病登记 {facts.serious_illness.value} 人")
        sources += list(facts.serious_illness.sources)
    recent_deaths = [r for r in facts.deaths.sources if _recent(facts, days, r.effective_date)]
    if recent_deaths:
        signs.append(f"近 {days} 天有家庭成员死亡登记")
        sources += recent_deaths
    if signs:
        return [
            CriterionResult(
                "sudden_hardship",
                Outcome.UNKNOWN,
                "；".join(signs),
                "",
                "",
                tuple(sources),
                f"数据显示{'；'.join(signs)}，是否属于突发困难、救助多少需要工作人员判断",
            )
        ]
    if asked:
        return [
            CriterionResult(
                "sudden_hardship",
                Outcome.UNKNOWN,
                "",
                "",
                "",
                (),
                "申请人申请了临时救助，数据池中没有相关记录，突发困难情况需要工作人员核实",
            )
        ]
    return [
        CriterionResult(
            "sudden_hardship",
            Outcome.FAIL,
            "",
            "",
            "",
            (),
            "数据池中没有近期事故、火灾、大病或受灾等突发困难的记录",
        )
    ]


def disaster(facts: HouseholdFacts, p: Params, asked: bool) -> list[CriterionResult]:
    days = i(p, "window_days")
    recent = [r for r in facts.disaster.sources if _recent(facts, days, r.effective_date)]
    if recent:
        return [
            CriterionResult(
                "disaster_record",
                Outcome.PASS,
                str(len(recent)),
                "1",
                "次",
                tuple(recent),
                f"应急管理部门近 {days} 天有家庭成员的受灾登记 {len(recent)} 条",
            ),
            CriterionResult(
                "loss_assessment", Outcome.UNKNOWN, "", "", "", (), "受灾损失和救助金额需要工作人员核定"
            ),
        ]
    if asked:
        return [
            CriterionResult(
                "disaster_record",
                Outcome.UNKNOWN,
                "0",
                "1",
                "次",
                (),
                f"申请人申请了受灾人员救助，但近 {days} 天没有受灾登记，需要工作人员核实",
            )
        ]
    return [
        CriterionResult("disaster_record", Outcome.FAIL, "0", "1", "次", (), f"近 {days} 天没有受灾登记记录")
    ]
