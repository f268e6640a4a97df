"""The criteria of the three basic items that decide whether a household is a recipient.

Each criterion decides once, on the lean facts, and returns P / U / F (rules.base); given a Why it
also attaches its value, threshold, records and reason from the explained facts.
"""

from __future__ import annotations

from decimal import Decimal

from ..facts import LeanFacts, money
from .base import F, P, U, Why

CENT = Decimal("0.01")


def members(f: LeanFacts, why: Why | None) -> int:
    if not f.members_known:
        if why is not None:
            why.unknown_from("members", why.facts.counted_members, "", "人", "家庭人口")
        return U
    if why is not None:
        fact = why.facts.counted_members
        why.add(
            "members",
            P,
            str(f.counted),
            "",
            "人",
            fact.sources,
            f"共同生活的家庭成员 {f.counted} 人，户籍记录齐全",
        )
    return P


def income_below(f: LeanFacts, limit: Decimal, what: str, why: Why | None) -> int:
    value = f.income_per_person
    if value is None:
        if why is not None:
            fact = why.facts.income_per_person_month
            why.unknown_from("income", fact, money(limit), "元/月", "家庭月人均收入")
        return U
    code = P if value < limit else F
    if why is not None:
        said = "低于" if code == P else "不低于"
        why.add(
            "income",
            code,
            money(value),
            money(limit),
            "元/月",
            why.facts.income_per_person_month.sources,
            f"家庭月人均收入 {money(value)} 元，{said}{what} {money(limit)} 元",
        )
    return code


def no_dibao_standard(why: Why | None, reason: str) -> int:
    """An income test that needs the dibao standard, where none is in force."""
    if why is not None:
        why.add("income", U, "", "", "元/月", (), reason)
    return U


def edge_income(f: LeanFacts, amount: Decimal, upper: Decimal, multiple: object, why: Why | None) -> int:
    """Between the dibao standard and `multiple` times it (低保边缘)."""
    value = f.income_per_person
    if value is None:
        if why is not None:
            threshold = f"{money(amount)}–{money(upper)}"
            fact = why.facts.income_per_person_month
            why.unknown_from("income", fact, threshold, "元/月", "家庭月人均收入")
        return U
    below = value < amount
    code = F if below else P if value < upper else F
    if why is not None:
        if below:
            reason = f"低于低保标准 {money(amount)} 元，应按低保审核"
        elif code == P:
            reason = f"在低保标准 {money(amount)} 元与{multiple} 倍 {money(upper)} 元之间"
        else:
            reason = f"不低于低保标准的 {multiple} 倍 {money(upper)} 元"
        why.add(
            "income",
            code,
            money(value),
            f"{money(amount)}–{money(upper)}",
            "元/月",
            why.facts.income_per_person_month.sources,
            f"家庭月人均收入 {money(value)} 元，{reason}",
        )
    return code


def assets(f: LeanFacts, limit: Decimal, why: Why | None) -> int:
    if not f.members_known or f.counted == 0:
        if why is not None:
            fact = why.facts.counted_members
            why.unknown_from("financial_assets", fact, money(limit), "元/人", "人均金融资产")
        return U
    per_person = (f.financial_assets / f.counted).quantize(CENT)
    code = P if per_person <= limit else F
    if why is not None:
        threshold = money(limit)
        if code == P:
            reason = f"家庭人均金融资产 {money(per_person)} 元，未超过 {threshold} 元"
        else:
            reason = (
                f"家庭人均金融资产 {money(per_person)} 元（存款、证券、理财合计 "
                f"{money(f.financial_assets)} 元），超过 {threshold} 元"
            )
        why.add(
            "financial_assets",
            code,
            money(per_person),
            threshold,
            "元/人",
            why.facts.financial_assets.sources,
            reason,
        )
    return code


def _count(
    why: Why, name: str, count: int, limit: int, what: str, unit: str, sources: tuple, note: str = ""
) -> int:
    if count <= limit:
        said = f"家庭名下有{what} {count} {unit}" if count else f"家庭名下没有{what}"
        why.add(name, P, str(count), str(limit), unit, sources, f"{said}，未超过 {limit} {unit}的限制{note}")
        return P
    why.add(
        name,
        F,
        str(count),
        str(limit),
        unit,
        sources,
        f"家庭名下有{what} {count} {unit}，超过 {limit} {unit}的限制{note}",
    )
    return F


def vehicles(f: LeanFacts, limit: int, why: Why | None) -> int:
    code = P if f.vehicles <= limit else F
    if why is not None:
        fact, exempt = why.facts.vehicles, why.facts.exempt_vehicles
        sources, note = fact.sources, ""
        if int(exempt.value):
            sources, note = (
                sources + exempt.sources,
                f"（另有摩托车、残疾人专用车或农用车 {exempt.value} 辆，不计入）",
            )
        _count(why, "vehicles", f.vehicles, limit, "机动车", "辆", sources, note)
    return code


def housing(f: LeanFacts, limit: int, why: Why | None) -> int:
    if why is not None:
        return _count(why, "housing", f.housing_count, limit, "住宅", "套", why.facts.housing_count.sources)
    return P if f.housing_count <= limit else F


def business(f: LeanFacts, limit: int, why: Why | None) -> int:
    count = f.business + f.commercial_property
    if why is not None:
        sources = why.facts.business.sources + why.facts.commercial_property.sources
        return _count(why, "business", count, limit, "在营企业、个体工商户或非住宅房产", "个", sources)
    return P if count <= limit else F


def state_employee(f: LeanFacts, why: Why | None) -> int:
    if f.state_employees == 0:
        if why is not None:
            why.add("state_employee", P, "0", "0", "人", (), "家庭成员中没有财政供养人员")
        return P
    if why is not None:
        fact = why.facts.state_employee
        why.add(
            "state_employee",
            F,
            str(f.state_employees),
            "0",
            "人",
            fact.sources,
            f"家庭成员中有财政供养人员 {f.state_employees} 人",
        )
    return F


def no_work_capacity(f: LeanFacts, elderly: int, child: int, grades: set[int], why: Why | None) -> int:
    """Every living member is elderly, a child or severely disabled (特困: 无劳动能力)."""
    if not f.members_known or f.counted == 0:
        if why is not None:
            why.unknown_from("no_work_capacity", why.facts.counted_members, "", "", "家庭成员情况")
        return U
    able = [
        n
        for n, m in enumerate(f.living)
        if not (
            m.age >= elderly
            or m.age < child
            or (m.disability_grade is not None and m.disability_grade in grades)
        )
    ]
    code = F if able else P
    if why is not None:
        rule = f"年满 {elderly} 周岁、未满 {child} 周岁或重度残疾"
        sources = why.facts.disability.sources
        if able:
            living = why.living()
            names = "、".join(f"{living[n].label}{f.living[n].age}岁" for n in able)
            why.add(
                "no_work_capacity",
                F,
                str(len(able)),
                "0",
                "人",
                sources,
                f"{names}不属于{rule}的情形，家庭有劳动能力成员",
            )
        else:
            why.add("no_work_capacity", P, "0", "0", "人", sources, f"所有家庭成员均为{rule}，无劳动能力")
    return code


def supporter(f: LeanFacts, limit: Decimal, why: Why | None) -> int:
    """No legal supporter, or none whose income makes them able to support (特困)."""
    support = f.supporter_income
    if support is None:
        if why is not None:
            why.unknown_from("supporter", why.facts.supporter_income, money(limit), "元/月", "赡养人能力")
        return U
    if not f.has_supporters:
        if why is not None:
            why.add("supporter", P, "", money(limit), "元/月", (), "没有法定赡养、抚养、扶养义务人")
        return P
    code = P if support <= limit else F
    if why is not None:
        if code == P:
            reason = f"义务人月收入最高 {money(support)} 元，不超过 {money(limit)} 元，无力赡养（扶养）"
        else:
            reason = f"义务人月收入 {money(support)} 元，超过 {money(limit)} 元，有能力赡养（扶养）"
        why.add(
            "supporter",
            code,
            money(support),
            money(limit),
            "元/月",
            why.facts.supporter_income.sources,
            reason,
        )
    return code
