"""The criteria of the items that follow from being a recipient (medical, education, ...) and of hardship.

As in rules.assistance: each decides once on the lean facts and returns P / U / F; given a Why it
attaches its explanation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from ..facts import RECIPIENT_ITEMS, LeanFacts, RecordRef, money
from .base import ITEM_LABELS, F, ItemOutcome, P, U, Why

CENT = Decimal("0.01")
_ELIGIBLE, _NEEDS = ItemOutcome.ELIGIBLE, ItemOutcome.NEEDS_PERSON


def recipient_basis(f: LeanFacts, base: Mapping[str, ItemOutcome], why: Why | None) -> int:
    """In the rolls already, or eligible for dibao / edge / extreme poverty in this very check.

    `base` holds the basic items decided so far; one without a standard needs a person.
    """
    enrolled = [item for item in f.recipient_items if item in RECIPIENT_ITEMS]
    if enrolled:
        if why is not None:
            names = "、".join(ITEM_LABELS[item] for item in enrolled)
            why.add(
                "recipient", P, names, "", "", why.facts.recipient_items.sources, f"家庭是在册{names}对象"
            )
        return P
    outcomes = [base.get(item, _NEEDS) for item in RECIPIENT_ITEMS]
    if _ELIGIBLE in outcomes:
        if why is not None:
            eligible = [item for item, o in zip(RECIPIENT_ITEMS, outcomes, strict=True) if o == _ELIGIBLE]
            names = "、".join(ITEM_LABELS[item] for item in eligible)
            why.add("recipient", P, names, "", "", (), f"本次核对家庭符合{names}条件")
        return P
    if _NEEDS in outcomes:
        if why is not None:
            why.add("recipient", U, "", "", "", (), "家庭是否符合低保、低保边缘或特困条件尚需人工核实")
        return U
    if why is not None:
        why.add(
            "recipient", F, "", "", "", (), "家庭不是在册救助对象，本次核对也不符合低保、低保边缘或特困条件"
        )
    return F


def medical_burden(f: LeanFacts, ratio: Decimal, minimum: Decimal, why: Why | None) -> int:
    """Out-of-pocket medical spending that makes the household poor (支出型困难)."""
    spending = f.medical_spending
    income = f.income_month
    if income is None:
        if why is not None:
            fact = why.facts.household_income_month
            problems = "；".join((*fact.conflict, *fact.missing))
            why.add(
                "medical_burden",
                U,
                money(spending),
                "",
                "元",
                why.facts.medical_spending.sources,
                f"近 12 个月个人自付医疗费用 {money(spending)} 元；"
                f"家庭收入无法确定（{problems}），需人工核实",
            )
        return U
    annual = income * 12
    limit = max(minimum, (annual * ratio).quantize(CENT))
    code = P if spending >= limit else F
    if why is not None:
        if code == P:
            reason = (
                f"近 12 个月个人自付医疗费用 {money(spending)} 元，达到家庭年收入 {money(annual)} 元的 "
                f"{ratio} 倍且不少于 {money(minimum)} 元（{money(limit)} 元），属支出型困难"
            )
        else:
            reason = (
                f"近 12 个月个人自付医疗费用 {money(spending)} 元，低于 {money(limit)} 元"
                f"（家庭年收入 {money(annual)} 元的 {ratio} 倍，且不少于 {money(minimum)} 元）"
            )
        why.add(
            "medical_burden",
            code,
            money(spending),
            money(limit),
            "元",
            why.facts.medical_spending.sources,
            reason,
        )
    return code


def students(f: LeanFacts, stages: set[str], why: Why | None) -> int:
    found = [n for n, m in enumerate(f.living) if m.is_student and (not stages or m.student_stage in stages)]
    if why is not None:
        sources = why.facts.students.sources
        if found:
            living = why.living()
            who = "、".join(f"{living[n].label}（{f.living[n].student_stage}）" for n in found)
            why.add("students", P, str(len(found)), "1", "人", sources, f"家庭有在校学生：{who}")
        else:
            why.add("students", F, "0", "1", "人", sources, "数据池中没有家庭成员的在读学籍记录")
    return P if found else F


def housing_need(f: LeanFacts, minimum: Decimal, why: Why | None) -> int:
    area = f.housing_area_per_person
    if f.unsafe_housing or f.housing_count == 0:
        code = P
    elif area is None:
        code = U
    else:
        code = P if area < minimum else F
    if why is not None:
        sources = why.facts.housing_count.sources + why.facts.unsafe_housing.sources
        if f.unsafe_housing:
            why.add("housing_need", P, "C/D 级危房", "", "", sources, "家庭住房经鉴定为 C 级或 D 级危房")
        elif f.housing_count == 0:
            why.add("housing_need", P, "0", "", "套", sources, "家庭成员名下没有登记住房")
        elif area is None:
            reason = "家庭人口无法确定，无法计算人均住房面积，需人工核实"
            why.add("housing_need", U, "", str(minimum), "平方米/人", sources, reason)
        else:
            if code == P:
                reason = f"人均住房建筑面积 {area} 平方米，低于 {minimum} 平方米"
            else:
                reason = (
                    f"家庭有登记住房，人均建筑面积 {area} 平方米，不低于 {minimum} 平方米，且没有危房鉴定记录"
                )
            why.add("housing_need", code, str(area), str(minimum), "平方米/人", sources, reason)
    return code


def unemployed_member(f: LeanFacts, low: int, high: int, why: Why | None) -> int:
    """A working-age member able to work who is registered unemployed (就业救助)."""
    unemployed: list[int] = []
    unclear: list[int] = []
    for n, m in enumerate(f.living):
        if low <= m.age <= high and not m.is_student and not (m.disability_grade and m.disability_grade <= 2):
            if m.employment == "unemployed":
                unemployed.append(n)
            elif m.employment == "unknown":
                unclear.append(n)
    code = P if unemployed else U if unclear else F
    if why is not None:
        living = why.living()
        if code == P:
            names = "、".join(living[n].label for n in unemployed)
            why.add(
                "unemployed_member",
                P,
                str(len(unemployed)),
                "1",
                "人",
                (),
                f"{names}处于劳动年龄、有劳动能力，已办理失业登记",
            )
        elif code == U:
            names = "、".join(living[n].label for n in unclear)
            why.add(
                "unemployed_member",
                U,
                "",
                "1",
                "人",
                (),
                f"{names}处于劳动年龄，但就业状况没有记录，需人工核实",
            )
        else:
            why.add(
                "unemployed_member",
                F,
                "0",
                "1",
                "人",
                (),
                "家庭中没有处于失业登记状态、有劳动能力的劳动年龄成员",
            )
    return code


def disability(f: LeanFacts, grades: set[int], why: Why | None) -> int:
    found = [
        n for n, m in enumerate(f.living) if m.disability_grade is not None and m.disability_grade in grades
    ]
    if why is not None:
        shown = "、".join(f"{g} 级" for g in sorted(grades))
        sources = why.facts.disability.sources
        if found:
            living = why.living()
            who = "、".join(
                f"{living[n].label}（{living[n].disability_kind}{living[n].disability_grade}级）"
                for n in found
            )
            why.add("disability", P, str(len(found)), shown, "人", sources, f"持有残疾人证：{who}")
        else:
            why.add(
                "disability", F, "0", shown, "人", sources, f"数据池中没有家庭成员持有 {shown}残疾人证的记录"
            )
    return P if found else F


def pension_insured(f: LeanFacts, low: int, high: int, why: Why | None) -> int:
    found = [n for n, m in enumerate(f.living) if m.in_pension_insurance and low <= m.age <= high]
    if why is not None:
        sources = why.facts.pension_insurance.sources
        if found:
            living = why.living()
            names = "、".join(living[n].label for n in found)
            why.add(
                "pension_insurance",
                P,
                str(len(found)),
                "1",
                "人",
                sources,
                f"{names}参加城乡居民养老保险，年龄在 {low}–{high} 周岁",
            )
        else:
            why.add(
                "pension_insurance",
                F,
                "0",
                "1",
                "人",
                sources,
                f"没有 {low}–{high} 周岁的家庭成员参加城乡居民养老保险",
            )
    return P if found else F


def electricity_account(f: LeanFacts, free_kwh: object, why: Why | None) -> int:
    if f.electricity:
        if why is not None:
            sources = why.facts.electricity.sources
            why.add(
                "electricity_account",
                P,
                "",
                "",
                "",
                sources,
                f"家庭有居民用电户，可按每月 {free_kwh} 千瓦时减免",
            )
        return P
    if why is not None:
        why.add("electricity_account", U, "", "", "", (), "数据池中没有家庭的居民用电户记录，需核实用电户号")
    return U


def _recent(as_of: dt.date, when: dt.date | None, days: int) -> bool:
    return when is not None and (as_of - when).days <= days


def _recent_refs(as_of: dt.date, refs: tuple[RecordRef, ...], days: int) -> list[RecordRef]:
    return [r for r in refs if _recent(as_of, r.effective_date, days)]


def sudden_hardship(f: LeanFacts, days: int, trigger: Decimal, asked: bool, why: Why | None) -> int:
    """Sudden hardship is a person's judgement: the pool can only point at signs of it."""
    # The newest record decides whether any is recent.
    disaster = _recent(f.as_of, f.newest_disaster, days)
    spending = f.medical_spending >= trigger
    death = _recent(f.as_of, f.newest_death, days)
    if disaster or spending or f.serious_illness or death:
        if why is not None:
            x = why.facts
            signs: list[str] = []
            sources: list[RecordRef] = []
            if disaster:
                recent = _recent_refs(f.as_of, x.disaster.sources, days)
                signs.append(f"近 {days} 天有受灾登记 {len(recent)} 条")
                sources += recent
            if spending:
                signs.append(f"近 12 个月个人自付医疗费用 {money(f.medical_spending)} 元")
                sources += x.medical_spending.sources
            if f.serious_illness:
                signs.append(f"有大病登记 {f.serious_illness} 人")
                sources += x.serious_illness.sources
            if death:
                signs.append(f"近 {days} 天有家庭成员死亡登记")
                sources += _recent_refs(f.as_of, x.deaths.sources, days)
            shown = "；".join(signs)
            why.add(
                "sudden_hardship",
                U,
                shown,
                "",
                "",
                tuple(sources),
                f"数据显示{shown}，是否属于突发困难、救助多少需要工作人员判断",
            )
        return U
    if asked:
        if why is not None:
            why.add(
                "sudden_hardship",
                U,
                "",
                "",
                "",
                (),
                "申请人申请了临时救助，数据池中没有相关记录，突发困难情况需要工作人员核实",
            )
        return U
    if why is not None:
        why.add(
            "sudden_hardship", F, "", "", "", (), "数据池中没有近期事故、火灾、大病或受灾等突发困难的记录"
        )
    return F


def disaster_record(f: LeanFacts, days: int, asked: bool, why: Why | None) -> int:
    """A recent disaster registration; its loss and the amount are assessed by a person."""
    if _recent(f.as_of, f.newest_disaster, days):
        if why is not None:
            recent = tuple(_recent_refs(f.as_of, why.facts.disaster.sources, days))
            why.add(
                "disaster_record",
                P,
                str(len(recent)),
                "1",
                "次",
                recent,
                f"应急管理部门近 {days} 天有家庭成员的受灾登记 {len(recent)} 条",
            )
            why.add("loss_assessment", U, "", "", "", (), "受灾损失和救助金额需要工作人员核定")
        return U  # the loss assessment, always a person's, keeps the item open
    if asked:
        if why is not None:
            why.add(
                "disaster_record",
                U,
                "0",
                "1",
                "次",
                (),
                f"申请人申请了受灾人员救助，但近 {days} 天没有受灾登记，需要工作人员核实",
            )
        return U
    if why is not None:
        why.add("disaster_record", F, "0", "1", "次", (), f"近 {days} 天没有受灾登记记录")
    return F
