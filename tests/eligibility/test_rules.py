"""Table tests of every item's rules: eligible, not eligible and needs a person at each boundary.

Inputs are plain dataclasses (tests/eligibility/builders.py); nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from eligibility.facts import HouseholdFacts
from eligibility.rules import ITEMS, ItemOutcome, ItemResult, Outcome, evaluate, policy_first

from .builders import STANDARDS, Person, build, days_ago, poor_couple, unemployed, wage_months

E, N, U = ItemOutcome.ELIGIBLE, ItemOutcome.NOT_ELIGIBLE, ItemOutcome.NEEDS_PERSON


@dataclass
class Case:
    id: str
    people: Callable[[], tuple[Person, ...]]
    expected: ItemOutcome
    asked: tuple[str, ...] = ()
    criterion: tuple[str, Outcome] | None = None
    reason_has: str = ""
    standards: dict[str, Any] | None = None


def run(case: Case, item: str) -> ItemResult:
    facts = build(*case.people())
    standards = case.standards if case.standards is not None else STANDARDS
    return next(r for r in evaluate(facts, standards, asked=case.asked) if r.item == item)


def check(case: Case, item: str) -> None:
    result = run(case, item)
    reasons = " / ".join(c.reason for c in result.criteria)
    assert result.outcome == case.expected, reasons
    if case.criterion is not None:
        name, outcome = case.criterion
        crit = next(c for c in result.criteria if c.name == name)
        assert crit.outcome == outcome, crit.reason
    if case.reason_has:
        assert case.reason_has in reasons, reasons
    for c in result.criteria:
        assert c.reason, f"criterion {c.name} has no reason"


def _wage(monthly: str) -> Callable[[], tuple[Person, ...]]:
    # Two members, one earning `monthly` for 12 months: per person = monthly / 2.
    return lambda: (wage_months(Person(40), monthly), unemployed(Person(38, "spouse", sex="F")))


DIBAO = [
    Case("no income no assets", poor_couple, E, reason_has="低于低保标准 1,150.00 元"),
    Case("per person just below", _wage("2299.98"), E, criterion=("income", Outcome.PASS)),
    Case("per person exactly at standard", _wage("2300.00"), N, criterion=("income", Outcome.FAIL)),
    Case("per person above", _wage("4000"), N, reason_has="不低于低保标准"),
    Case(
        "car registered",
        lambda: (
            unemployed(Person(40)).add(
                "vehicle", days_ago(30), vehicle_type="小型轿车", status="正常", plate_kind="小型汽车"
            ),
        ),
        N,
        criterion=("vehicles", Outcome.FAIL),
    ),
    Case(
        "motorcycle is exempt",
        lambda: (
            unemployed(Person(40)).add(
                "vehicle", days_ago(30), vehicle_type="二轮摩托车", status="正常", plate_kind="摩托车"
            ),
        ),
        E,
        reason_has="不计入",
    ),
    Case(
        "deregistered car does not count",
        lambda: (
            unemployed(Person(40)).add(
                "vehicle", days_ago(30), vehicle_type="小型轿车", status="注销", plate_kind="小型汽车"
            ),
        ),
        E,
    ),
    Case(
        "assets exactly at limit",
        lambda: (unemployed(Person(40)).add("deposit", days_ago(20), balance="34500.00"),),
        E,
        criterion=("financial_assets", Outcome.PASS),
    ),
    Case(
        "assets one cent above limit",
        lambda: (unemployed(Person(40)).add("deposit", days_ago(20), balance="34500.01"),),
        N,
        criterion=("financial_assets", Outcome.FAIL),
    ),
    Case(
        "only the latest balance of an account counts",
        lambda: (
            unemployed(Person(40))
            .add("deposit", days_ago(300), "ACC1", balance="90000")
            .add("deposit", days_ago(10), "ACC1", balance="100"),
        ),
        E,
    ),
    Case(
        "two houses",
        lambda: (
            unemployed(Person(40))
            .add("real_estate", days_ago(100), property_kind="住宅", area="80", status="正常")
            .add("real_estate", days_ago(50), property_kind="住宅", area="60", status="正常"),
        ),
        N,
        criterion=("housing", Outcome.FAIL),
    ),
    Case(
        "one house is allowed",
        lambda: (
            unemployed(Person(40)).add(
                "real_estate", days_ago(100), property_kind="住宅", area="80", status="正常"
            ),
        ),
        E,
        criterion=("housing", Outcome.PASS),
    ),
    Case(
        "business registered",
        lambda: (
            unemployed(Person(40)).add(
                "business_licence", days_ago(100), business_kind="个体工商户", status="存续"
            ),
        ),
        N,
        criterion=("business", Outcome.FAIL),
    ),
    Case(
        "shop premises count as business property",
        lambda: (
            unemployed(Person(40)).add(
                "real_estate", days_ago(100), property_kind="商业", area="40", status="正常"
            ),
        ),
        N,
        criterion=("business", Outcome.FAIL),
    ),
    Case(
        "state employee in the household",
        lambda: (Person(40).add("civil_servant", days_ago(400), status="在职", monthly_salary="100"),),
        N,
        criterion=("state_employee", Outcome.FAIL),
    ),
    Case(
        "working-age member without any record",
        lambda: (Person(40),),
        U,
        criterion=("income", Outcome.UNKNOWN),
        reason_has="劳动年龄",
    ),
    Case(
        "member without hukou", lambda: (Person(70, hukou=False),), U, criterion=("members", Outcome.UNKNOWN)
    ),
    Case(
        "two different death dates",
        lambda: (
            Person(75),
            Person(72, "spouse", sex="F")
            .add("death", days_ago(100), death_date=days_ago(100).isoformat())
            .add("death", days_ago(50), death_date=days_ago(50).isoformat()),
        ),
        U,
        reason_has="死亡登记",
    ),
    Case(
        "unemployment registered while an employer pays contributions",
        lambda: (
            unemployed(Person(40)).add(
                "social_insurance", days_ago(30), contribution_base="4000", status="正常缴费"
            ),
        ),
        U,
        reason_has="同时社保显示",
    ),
    Case(
        "a fail beats an unknown",
        lambda: (
            Person(40).add(
                "vehicle", days_ago(30), vehicle_type="小型轿车", status="正常", plate_kind="小型汽车"
            ),
        ),
        N,
    ),
    Case("no standard in force", poor_couple, U, standards={}, reason_has="没有生效"),
    Case(
        "elderly pensioner below",
        lambda: (
            Person(70).add(
                "pension", days_ago(400), monthly_amount="300", scheme="城乡居民", status="领取中"
            ),
        ),
        E,
    ),
    Case(
        "elderly pensioner above",
        lambda: (
            Person(70).add(
                "pension", days_ago(400), monthly_amount="3000", scheme="企业职工", status="领取中"
            ),
        ),
        N,
    ),
]

EDGE = [
    Case("between standard and 1.5x", _wage("3000"), E, criterion=("income", Outcome.PASS)),
    Case("exactly at standard", _wage("2300.00"), E),
    Case("just below 1.5x", _wage("3449.98"), E),
    Case("exactly 1.5x", _wage("3450.00"), N, reason_has="1.5 倍"),
    Case("below standard goes to dibao", poor_couple, N, reason_has="应按低保审核"),
    Case("unknown income", lambda: (Person(40),), U),
    Case("no dibao standard", _wage("3000"), U, standards={"low_income_edge": STANDARDS["low_income_edge"]}),
    Case(
        "car registered",
        lambda: (
            wage_months(Person(40), "1500").add(
                "vehicle", days_ago(3), vehicle_type="小型轿车", status="正常", plate_kind="小型汽车"
            ),
        ),
        N,
    ),
]

EXTREME = [
    Case("lone elderly, no income", lambda: (Person(78),), E),
    Case("elderly at exactly 60", lambda: (Person(60),), E),
    Case(
        "age 59 without disability",
        lambda: (unemployed(Person(59)),),
        N,
        criterion=("no_work_capacity", Outcome.FAIL),
    ),
    Case(
        "59 with grade-2 disability",
        lambda: (Person(59).add("disability", days_ago(300), grade=2, kind="肢体", status="有效"),),
        E,
    ),
    Case(
        "59 with grade-3 disability",
        lambda: (
            unemployed(Person(59)).add("disability", days_ago(300), grade=3, kind="肢体", status="有效"),
        ),
        N,
    ),
    Case("orphan under 16", lambda: (Person(15, "child"),), E),
    Case("aged 16 counts as able", lambda: (unemployed(Person(16, "child")),), N),
    Case(
        "supporter able to support",
        lambda: (Person(80), wage_months(Person(50, "child", role="supporter"), "6000")),
        N,
        criterion=("supporter", Outcome.FAIL),
    ),
    Case(
        "supporter at the limit",
        lambda: (Person(80), wage_months(Person(50, "child", role="supporter"), "2300")),
        E,
        criterion=("supporter", Outcome.PASS),
    ),
    Case(
        "supporter without records",
        lambda: (Person(80), Person(50, "child", role="supporter")),
        U,
        criterion=("supporter", Outcome.UNKNOWN),
    ),
    Case(
        "elderly with pension above standard",
        lambda: (
            Person(80).add("pension", days_ago(10), monthly_amount="2000", scheme="x", status="领取中"),
        ),
        N,
    ),
]

MEDICAL = [
    Case(
        "recipient in the rolls",
        lambda: (
            wage_months(Person(40), "9000").add(
                "existing_recipient", days_ago(300), item="dibao", status="在册"
            ),
        ),
        E,
    ),
    Case("eligible for dibao in this check", poor_couple, E),
    Case(
        "spending-led poverty",
        lambda: (
            wage_months(Person(40), "3000").add(
                "medical_expense", days_ago(60), total_cost="60000", reimbursed="30000", out_of_pocket="30000"
            ),
        ),
        E,
        criterion=("medical_burden", Outcome.PASS),
    ),
    Case(
        "spending exactly half of annual income",
        lambda: (
            wage_months(Person(40), "3000").add(
                "medical_expense", days_ago(60), total_cost="40000", reimbursed="22000", out_of_pocket="18000"
            ),
        ),
        E,
    ),
    Case(
        "spending just under half of annual income",
        lambda: (
            wage_months(Person(40), "3000").add(
                "medical_expense",
                days_ago(60),
                total_cost="40000",
                reimbursed="22000.01",
                out_of_pocket="17999.99",
            ),
        ),
        N,
    ),
    Case(
        "spending older than 12 months does not count",
        lambda: (
            wage_months(Person(40), "3000").add(
                "medical_expense", days_ago(400), total_cost="60000", reimbursed="0", out_of_pocket="60000"
            ),
        ),
        N,
    ),
    Case(
        "low income, spending below the minimum",
        lambda: (
            wage_months(Person(40), "3000").add(
                "medical_expense", days_ago(60), total_cost="5000", reimbursed="1000", out_of_pocket="4000"
            ),
        ),
        N,
    ),
    Case(
        "unknown income, large spending",
        lambda: (
            Person(40).add(
                "medical_expense", days_ago(60), total_cost="60000", reimbursed="0", out_of_pocket="60000"
            ),
        ),
        U,
    ),
]

EDUCATION = [
    Case(
        "recipient with a pupil",
        lambda: (
            *poor_couple(),
            Person(10, "child").add("student", days_ago(80), stage="小学", status="在读"),
        ),
        E,
    ),
    Case(
        "recipient, child graduated",
        lambda: (
            *poor_couple(),
            Person(19, "child")
            .add("student", days_ago(80), stage="高中", status="毕业")
            .add("unemployment", days_ago(10), status="登记中"),
        ),
        N,
    ),
    Case(
        "pupil, not a recipient",
        lambda: (
            wage_months(Person(40), "9000"),
            Person(10, "child").add("student", days_ago(80), stage="小学", status="在读"),
        ),
        N,
    ),
    Case(
        "pupil, recipient unknown",
        lambda: (Person(40), Person(10, "child").add("student", days_ago(80), stage="小学", status="在读")),
        U,
    ),
]

HOUSING = [
    Case("recipient without housing", poor_couple, E),
    Case(
        "recipient in unsafe housing",
        lambda: (
            unemployed(Person(40))
            .add("real_estate", days_ago(900), property_kind="住宅", area="90", status="正常")
            .add("unsafe_housing", days_ago(40), grade="D"),
        ),
        E,
    ),
    Case(
        "recipient with ample housing",
        lambda: (
            unemployed(Person(40)).add(
                "real_estate", days_ago(900), property_kind="住宅", area="90", status="正常"
            ),
        ),
        N,
    ),
    Case(
        "area just under 15 per person",
        lambda: (
            unemployed(Person(40)).add(
                "real_estate", days_ago(900), property_kind="住宅", area="14.99", status="正常"
            ),
        ),
        E,
    ),
    Case(
        "area exactly 15 per person",
        lambda: (
            unemployed(Person(40)).add(
                "real_estate", days_ago(900), property_kind="住宅", area="15", status="正常"
            ),
        ),
        N,
    ),
    Case(
        "grade B is not unsafe",
        lambda: (
            unemployed(Person(40))
            .add("real_estate", days_ago(900), property_kind="住宅", area="90", status="正常")
            .add("unsafe_housing", days_ago(40), grade="B"),
        ),
        N,
    ),
]

EMPLOYMENT = [
    Case("recipient with unemployed adult", poor_couple, E),
    Case("recipient elderly only", lambda: (Person(75),), N),
    Case(
        "unemployed but grade-1 disabled",
        lambda: (
            Person(40)
            .add("disability", days_ago(99), grade=1, kind="肢体", status="有效")
            .add("unemployment", days_ago(20), status="登记中"),
            Person(70, "parent"),
        ),
        N,
    ),
    Case(
        "aged 60 is outside the range",
        lambda: (Person(60).add("unemployment", days_ago(20), status="登记中"),),
        N,
    ),
]

DISABILITY_LIVING = [
    Case(
        "recipient with grade-4 certificate",
        lambda: (
            unemployed(Person(40)).add("disability", days_ago(99), grade=4, kind="听力", status="有效"),
        ),
        E,
    ),
    Case("recipient without certificate", poor_couple, N),
    Case(
        "certificate cancelled",
        lambda: (
            unemployed(Person(40)).add("disability", days_ago(99), grade=4, kind="听力", status="注销"),
        ),
        N,
    ),
    Case(
        "certificate, not recipient",
        lambda: (
            wage_months(Person(40), "9000").add(
                "disability", days_ago(99), grade=3, kind="听力", status="有效"
            ),
        ),
        N,
    ),
]

DISABILITY_CARE = [
    Case(
        "grade 1, any income",
        lambda: (
            wage_months(Person(40), "9000").add(
                "disability", days_ago(99), grade=1, kind="肢体", status="有效"
            ),
        ),
        E,
    ),
    Case(
        "grade 2",
        lambda: (
            wage_months(Person(40), "9000").add(
                "disability", days_ago(99), grade=2, kind="智力", status="有效"
            ),
        ),
        E,
    ),
    Case(
        "grade 3",
        lambda: (
            wage_months(Person(40), "9000").add(
                "disability", days_ago(99), grade=3, kind="智力", status="有效"
            ),
        ),
        N,
    ),
    Case(
        "latest certificate wins",
        lambda: (
            wage_months(Person(40), "9000")
            .add("disability", days_ago(900), "C1", grade=3, kind="肢体", status="有效")
            .add("disability", days_ago(30), "C2", grade=2, kind="肢体", status="有效"),
        ),
        E,
    ),
]

PENSION_PREMIUM = [
    Case(
        "recipient enrolled aged 45",
        lambda: (unemployed(Person(45)).add("pension_insurance", days_ago(300), status="参保缴费"),),
        E,
    ),
    Case("recipient not enrolled", poor_couple, N),
    Case(
        "enrolled but 60", lambda: (Person(60).add("pension_insurance", days_ago(300), status="参保缴费"),), N
    ),
]

UTILITY = [
    Case(
        "recipient with electricity account",
        lambda: (
            unemployed(Person(45)).add("electricity", days_ago(30), monthly_kwh="80", account_holder=True),
        ),
        E,
    ),
    Case("recipient, no electricity record", poor_couple, U),
    Case(
        "not a recipient",
        lambda: (
            wage_months(Person(40), "9000").add(
                "electricity", days_ago(30), monthly_kwh="80", account_holder=True
            ),
        ),
        N,
    ),
]

TEMPORARY = [
    Case("no signs, not asked", lambda: (wage_months(Person(40), "9000"),), N),
    Case("no signs, asked", lambda: (wage_months(Person(40), "9000"),), U, asked=("temporary",)),
    Case(
        "recent fire",
        lambda: (wage_months(Person(40), "9000").add("disaster", days_ago(10), disaster_kind="火灾"),),
        U,
        reason_has="受灾",
    ),
    Case(
        "serious illness",
        lambda: (
            wage_months(Person(40), "9000").add(
                "serious_illness", days_ago(10), disease="白血病", status="治疗中"
            ),
        ),
        U,
        reason_has="大病",
    ),
    Case(
        "old disaster is no sign",
        lambda: (wage_months(Person(40), "9000").add("disaster", days_ago(200), disaster_kind="台风"),),
        N,
    ),
]

DISASTER = [
    Case(
        "recent typhoon",
        lambda: (
            wage_months(Person(40), "9000").add(
                "disaster", days_ago(30), disaster_kind="台风", house_damage="严重损坏"
            ),
        ),
        U,
        criterion=("disaster_record", Outcome.PASS),
    ),
    Case(
        "typhoon 180 days ago",
        lambda: (wage_months(Person(40), "9000").add("disaster", days_ago(180), disaster_kind="台风"),),
        U,
    ),
    Case(
        "typhoon 181 days ago",
        lambda: (wage_months(Person(40), "9000").add("disaster", days_ago(181), disaster_kind="台风"),),
        N,
    ),
    Case("none, asked", lambda: (wage_months(Person(40), "9000"),), U, asked=("disaster",)),
    Case("none, not asked", lambda: (wage_months(Person(40), "9000"),), N),
]

TABLE = {
    "dibao": DIBAO,
    "low_income_edge": EDGE,
    "extreme_poverty": EXTREME,
    "medical": MEDICAL,
    "education": EDUCATION,
    "housing": HOUSING,
    "employment": EMPLOYMENT,
    "disability_living": DISABILITY_LIVING,
    "disability_care": DISABILITY_CARE,
    "pension_premium": PENSION_PREMIUM,
    "utility_relief": UTILITY,
    "temporary": TEMPORARY,
    "disaster": DISASTER,
}
PARAMS = [
    pytest.param(item, case, id=f"{item}: {case.id}") for item, cases in TABLE.items() for case in cases
]


@pytest.mark.parametrize(("item", "case"), PARAMS)
def test_item_rules(item: str, case: Case) -> None:
    check(case, item)


def test_every_item_has_cases_for_each_outcome_or_a_reason_not_to() -> None:
    assert set(TABLE) == set(ITEMS)
    for item, cases in TABLE.items():
        outcomes = {c.expected for c in cases}
        # Rules where a person always judges have no automatic "eligible".
        wanted = {N, U} if item in {"temporary", "disaster"} else {E, N}
        assert wanted <= outcomes, item


def test_policy_finds_person_lists_unasked_eligible_items_first() -> None:
    facts: HouseholdFacts = build(*poor_couple())
    results = policy_first(evaluate(facts, STANDARDS, asked=("dibao", "temporary")))
    first = results[0]
    assert first.policy_finds_person and first.item == "medical"
    groups = [0 if r.policy_finds_person else (1 if r.asked else 2) for r in results]
    assert groups == sorted(groups)
    dibao = next(r for r in results if r.item == "dibao")
    assert dibao.asked and not dibao.policy_finds_person


def test_results_are_plain_json() -> None:
    import json

    facts = build(*poor_couple())
    payload = [r.as_dict() for r in evaluate(facts, STANDARDS)]
    assert json.loads(json.dumps(payload, ensure_ascii=False)) == payload
    assert payload[0]["label"] == "最低生活保障"
