"""Household facts from plain records: income definition, exempt vehicles, missing and conflicting data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from eligibility.facts import MemberInput, RecordRow, canonical_inputs, compute_facts, dec, input_hash

from .builders import AS_OF, Person, build, days_ago, unemployed, wage_months


def test_income_is_the_12_month_total_over_12_divided_by_living_members() -> None:
    facts = build(wage_months(Person(40), "3000", months=6), unemployed(Person(38, "spouse", sex="F")))
    # 6 months x 3,000 = 18,000 a year -> 1,500 a month for the household -> 750 per person.
    assert facts.household_income_month.value == Decimal("1500.00")
    assert facts.income_per_person_month.value == Decimal("750.00")
    assert facts.counted_members.value == 2
    assert {s.category for s in facts.income_per_person_month.sources} == {"wage"}


def test_records_outside_the_window_do_not_count() -> None:
    p = (
        unemployed(Person(40))
        .add("wage", days_ago(365), amount="9000")
        .add("wage", days_ago(364), amount="1200")
    )
    assert build(p).household_income_month.value == Decimal("100.00")


def test_wage_and_tax_declaration_of_the_same_earnings_are_not_added() -> None:
    p = wage_months(Person(40), "2000").add("income_tax", days_ago(40), income="30000", tax_paid="120")
    facts = build(p)
    assert facts.household_income_month.value == Decimal("2500.00")  # max(24,000, 30,000) / 12
    assert facts.tax.value == Decimal("120.00")


def test_pension_and_rent_count_at_their_current_monthly_rate() -> None:
    p = (
        Person(70)
        .add("pension", days_ago(800), "P1", monthly_amount="900", scheme="城乡居民", status="领取中")
        .add("pension", days_ago(30), "P1", monthly_amount="950", scheme="城乡居民", status="领取中")
        .add("rental_income", days_ago(100), monthly_rent="500", status="出租中")
        .add("farm_subsidy", days_ago(100), amount="1200", kind="耕地地力")
    )
    facts = build(p)
    assert facts.household_income_month.value == Decimal("1450.00")  # farm subsidies are not income
    assert facts.pension.value == Decimal("950.00")


def test_deceased_members_are_not_counted() -> None:
    dead = Person(80, "parent").add("death", days_ago(20), death_date=days_ago(20).isoformat())
    facts = build(Person(70), dead)
    assert facts.counted_members.value == 1
    assert facts.deaths.value == 1
    assert facts.counted_members.known


def test_two_different_death_records_are_a_conflict() -> None:
    p = (
        Person(80, "parent")
        .add("death", days_ago(100), death_date=days_ago(100).isoformat())
        .add("death", days_ago(20), death_date=days_ago(20).isoformat())
    )
    facts = build(Person(70), p)
    assert not facts.counted_members.known
    assert "两条死亡登记" in facts.counted_members.conflict[0]
    assert facts.income_per_person_month.value is None


def test_a_member_without_hukou_is_missing_data() -> None:
    facts = build(Person(70), Person(68, "spouse", hukou=False))
    assert facts.counted_members.missing == ("成员2（配偶）没有有效的户籍登记记录",)


def test_working_age_member_without_records_makes_income_unknown_but_a_student_does_not() -> None:
    assert not build(Person(40)).income_per_person_month.known
    student = Person(19, "child").add("student", days_ago(60), stage="本科", status="在读")
    assert build(Person(70), student).income_per_person_month.known


def test_exempt_vehicles_are_kept_apart() -> None:
    p = Person(70)
    for kind in ("二轮摩托车", "三轮摩托车", "残疾人专用车", "农用车", "小型轿车"):
        p.add("vehicle", days_ago(50), vehicle_type=kind, status="正常", plate_kind="x")
    facts = build(p)
    assert facts.vehicles.value == 1
    assert facts.exempt_vehicles.value == 4


def test_financial_assets_add_the_latest_balance_of_each_account() -> None:
    p = (
        Person(70)
        .add("deposit", days_ago(200), "A", balance="10,000")
        .add("deposit", days_ago(20), "A", balance="8000")
        .add("deposit", days_ago(20), "B", balance="1000")
        .add("securities", days_ago(20), market_value=2500.5)
        .add("wealth_product", days_ago(20), value="500")
        .add("provident_fund", days_ago(20), balance="99999", status="正常缴存")
    )
    assert build(p).financial_assets.value == Decimal("12000.50")


def test_housing_business_medical_disability_students() -> None:
    head = (
        unemployed(Person(45))
        .add("real_estate", days_ago(900), property_kind="住宅", area="60", share="0.5", status="正常")
        .add("business_licence", days_ago(100), business_kind="个体工商户", status="注销")
        .add("company_officer", days_ago(100), position="股东", status="在任")
        .add("medical_expense", days_ago(10), total_cost="3000", reimbursed="1000", out_of_pocket="2000")
        .add("medical_expense", days_ago(400), total_cost="3000", reimbursed="1000", out_of_pocket="2000")
        .add("disability", days_ago(10), grade=2, kind="肢体", status="有效")
    )
    child = Person(12, "child").add("student", days_ago(30), stage="初中", status="在读")
    facts = build(head, child)
    assert facts.housing_count.value == 1
    assert facts.housing_area_per_person.value == Decimal("15.00")
    assert facts.business.value == 1
    assert facts.medical_spending.value == Decimal("2000.00")
    assert facts.disability.value == (("m1", 2, "肢体"),)
    assert facts.students.value == 1


def test_future_records_are_ignored() -> None:
    p = unemployed(Person(40)).add(
        "vehicle", AS_OF + dt.timedelta(days=1), vehicle_type="小型轿车", status="正常", plate_kind="x"
    )
    assert build(p).vehicles.value == 0


def test_amounts_are_read_the_way_departments_write_them() -> None:
    assert dec("1,234.50") == Decimal("1234.50")
    assert dec("88元") == Decimal("88")
    assert dec(12) == Decimal(12)
    assert dec("abc") is None and dec(None) is None and dec(True) is None


def test_input_hash_is_the_same_for_the_same_inputs_in_any_order() -> None:
    members = [MemberInput("m1", "h1", "applicant", "self", dt.date(1970, 1, 1), "M")]
    a = RecordRow("deposit", "finance", "1", dt.date(2026, 1, 1), {"balance": "10"})
    b = RecordRow("wage", "human_resources", "2", dt.date(2026, 2, 1), {"amount": "10"})
    one = input_hash(canonical_inputs(members, {"h1": [a, b]}, as_of=AS_OF))
    two = input_hash(canonical_inputs(members, {"h1": [b, a]}, as_of=AS_OF))
    changed = RecordRow("deposit", "finance", "1", dt.date(2026, 1, 1), {"balance": "11"})
    three = input_hash(canonical_inputs(members, {"h1": [changed, b]}, as_of=AS_OF))
    assert one == two != three
    assert len(one) == 64


def test_facts_serialise_to_json() -> None:
    import json

    facts = compute_facts([], {}, as_of=AS_OF)
    assert not facts.counted_members.known
    data = json.loads(json.dumps(build(Person(70)).as_dict(), ensure_ascii=False))
    assert data["income_per_person_month"]["value"] == "0.00"
    assert data["members"][0]["label"] == "成员1（本人）"
