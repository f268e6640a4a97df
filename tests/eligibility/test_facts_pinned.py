"""The facts, explained and lean, and every decision, as the engine before issue 9 produced them.

The engine then had two implementations of each fact and of each rule, kept equal by property
tests; tests/eligibility/legacy is that engine, frozen. The one engine must give the same
explained facts (every value, record and sentence), the same lean facts, and so the same
reports and outcomes, on random records and on every demo household.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.facts import MemberInput, RecordRow, compute_facts, lean_facts
from eligibility.rules import DEMO_PARAMS, ITEMS, Rules, evaluate

from .legacy import facts as old_facts
from .legacy import outcome_facts as old_lean
from .legacy import rules as old_rules

AS_OF = dt.date(2026, 11, 30)
DAY = dt.timedelta(days=1)

# Every category compute_facts reads, and one it ignores.
CATEGORIES = (
    "wage",
    "income_tax",
    "civil_servant",
    "business_income",
    "pension",
    "rental_income",
    "unemployment",
    "social_insurance",
    "employment",
    "business_licence",
    "provident_fund",
    "death",
    "funeral",
    "hukou",
    "disability",
    "student",
    "pension_insurance",
    "serious_illness",
    "deposit",
    "securities",
    "wealth_product",
    "vehicle",
    "real_estate",
    "unsafe_housing",
    "company_officer",
    "medical_expense",
    "existing_recipient",
    "disaster",
    "electricity",
    "enforcement",
    "unknown_category",
)
# Amounts as departments send them, and values dec() refuses. Magnitudes stay realistic: a sum
# past 10**26 cannot be quantized to cents, which both paths report only as an error.
amount_st = st.sampled_from(
    [
        None,
        "",
        "0",
        "0.00",
        "800",
        "1,234.50",
        "1234.5元",
        " 2300 ",
        1150,
        1725.5,
        -100,
        "abc",
        "NaN",
        True,
        "1",
    ]
)
status_st = st.sampled_from(["正常", "在读", "登记中", "注销", "报废", " 已终止 ", "毕业", "", None, 1])


@st.composite
def data_st(draw: Any, as_of: dt.date) -> dict[str, Any]:
    """Every field any category is read for (a record has fields of others too: they are ignored)."""
    day = st.sampled_from([None, "", "bad", *((as_of - n * DAY).isoformat() for n in (-1, 0, 30, 200))])
    amounts = ("amount", "income", "monthly_salary", "monthly_amount", "monthly_rent", "benefit_monthly")
    assets = ("balance", "market_value", "value", "out_of_pocket", "area")
    data = {key: draw(amount_st) for key in (*amounts, *assets)}
    data.update(
        status=draw(status_st),
        share=draw(st.sampled_from([None, "0", "0.5", "1", "abc"])),
        grade=draw(st.sampled_from([None, "1", "2", "3", "C", "d", "B", 2])),
        household_number=draw(st.sampled_from(["HH1", " HH1 ", "HH2", ""])),
        death_date=draw(day),
        cremation_date=draw(day),
        vehicle_type=draw(st.sampled_from(["小型轿车", "普通二轮摩托车", "农用运输车", ""])),
        property_kind=draw(st.sampled_from(["住宅", " 居住 ", "商铺", ""])),
        item=draw(st.sampled_from(["dibao", " low_income_edge ", "medical", ""])),
        stage=draw(st.sampled_from(["小学", "本科", ""])),
    )
    return {k: v for k, v in data.items() if v is not None or draw(st.booleans())}


@st.composite
def record_st(draw: Any, as_of: dt.date) -> RecordRow:
    # Mostly the window edges (12 months, the last three months of wages, the as-of date itself),
    # and few source ids and dates, so that versions of one source record tie.
    days = draw(st.one_of(st.sampled_from([-1, 0, 1, 91, 92, 93, 364, 365, 366]), st.integers(-5, 900)))
    return RecordRow(
        draw(st.sampled_from(CATEGORIES)),
        "d",
        draw(st.sampled_from(["a", "b", "10", "9"])),
        as_of - days * DAY,
        draw(data_st(as_of)),
    )


# Ages on either side of the working-age, child and elderly limits.
age_st = st.sampled_from([0, 5, 15, 16, 17, 18, 30, 59, 60, 61, 80])
HASHES = ("h1", "h2", "h3", "h4")


@st.composite
def member_st(draw: Any, n: int, as_of: dt.date) -> MemberInput:
    age = draw(age_st)
    birth = as_of.replace(year=as_of.year - age) + draw(st.sampled_from([-1, 0, 1])) * DAY
    return MemberInput(
        f"m{n}",
        draw(st.sampled_from(HASHES)),  # two members may share a person's records
        draw(st.sampled_from(["applicant", "member", "member", "supporter"])),
        draw(st.sampled_from(["self", "spouse", "child", "parent"])),
        birth,
        "M",
        # Names with the words of the missing-data sentences: facts keep those apart by kind.
        draw(st.sampled_from(["", "", "户籍", "劳动年龄"])),
    )


@st.composite
def household_st(draw: Any) -> tuple[dt.date, list[MemberInput], dict[str, list[RecordRow]]]:
    as_of = draw(st.sampled_from([AS_OF, dt.date(2025, 3, 1)]))
    size = draw(st.integers(0, 4))
    members = [draw(member_st(n, as_of)) for n in range(1, size + 1)]
    records: dict[str, list[RecordRow]] = {}
    for h in HASHES:
        rows = draw(st.lists(record_st(as_of), max_size=10))
        for _ in range(draw(st.integers(0, 2)) if rows else 0):
            # Another version of a record, on the same day or later, whose data may differ.
            base = draw(st.sampled_from(rows))
            later = base.effective_date + draw(st.sampled_from([0, 0, 1])) * DAY
            version = RecordRow(base.category, "d", base.source_record_id, later, draw(data_st(as_of)))
            rows.insert(draw(st.integers(0, len(rows))), version)
        # Usually a valid registration, as in the pool, so that the other facts are known and count.
        if draw(st.integers(0, 4)):
            hukou = RecordRow(
                "hukou", "d", "H" + h, as_of - 900 * DAY, {"status": "正常", "household_number": "HH1"}
            )
            rows.insert(draw(st.integers(0, len(rows))), hukou)
        records[h] = rows
    return as_of, members, records


def assert_same_engine(
    members: list[MemberInput],
    records: dict[str, list[RecordRow]],
    as_of: dt.date,
    standards: Any,
    asked: Any = (),
) -> None:
    """Explained facts, lean facts, the report and the bulk outcomes equal the frozen engine's.

    The frozen engine reads its inputs by attribute, so it takes the same members and records.
    """
    old_members, old_records = members, records
    old_full = old_facts.compute_facts(old_members, old_records, as_of=as_of)
    full = compute_facts(members, records, as_of=as_of)
    assert full.as_dict() == old_full.as_dict()
    lean = lean_facts(members, records, as_of=as_of)
    assert tuple(lean) == tuple(old_lean.outcome_facts(old_members, old_records, as_of=as_of))
    assert full.lean == lean
    report = [r.as_dict() for r in evaluate(full, standards, asked=asked)]
    assert report == [r.as_dict() for r in old_rules.evaluate(old_full, standards, asked=asked)]
    outcomes = Rules(standards).decide(lean, asked)
    assert list(outcomes) == list(ITEMS)
    assert outcomes == {r["item"]: r["outcome"] for r in report}


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(household_st(), st.lists(st.sampled_from(ITEMS), unique=True, max_size=3))
def test_facts_and_decisions_equal_the_frozen_engine_for_any_records(
    household: Any, asked: list[str]
) -> None:
    as_of, members, records = household
    assert_same_engine(members, records, as_of, DEMO_PARAMS, asked)


def test_facts_and_decisions_equal_the_frozen_engine_for_every_demo_household(demo_county: Any) -> None:
    from applications.models import Household
    from eligibility.services.whatif import StandardsCache, load_records, load_rosters, params_of

    ids = list(Household.objects.order_by("pk").values_list("pk", flat=True))
    rosters = load_rosters(ids)
    seen: Counter[str] = Counter()
    for as_of in (AS_OF, AS_OF - 200 * DAY):
        records = load_records((m.person_hash for r in rosters.values() for m in r.members), as_of=as_of)
        cache = StandardsCache(as_of)
        checked = 0
        for roster in rosters.values():
            standards = params_of(cache.for_townships([roster.township_id])[roster.township_id])
            for asked in ((), ITEMS):
                assert_same_engine(roster.members, records, as_of, standards, asked)
            lean = lean_facts(roster.members, records, as_of=as_of)
            outcomes = Rules(standards).decide(lean)
            seen.update(
                name
                for name, hit in (
                    ("members unknown", not lean.members_known),
                    ("income unknown", lean.income_month is None),
                    ("supporters", lean.has_supporters),
                    ("recent disaster", lean.newest_disaster is not None),
                    ("recent death", lean.newest_death is not None),
                    ("assets", lean.financial_assets > 0),
                    ("housing", lean.housing_count > 0),
                    ("dibao " + outcomes["dibao"], True),
                )
                if hit
            )
            checked += 1
        assert checked == len(ids) > 100
    # The demo data reaches these cases, so the comparison is not vacuous.
    wanted = {
        "members unknown",
        "income unknown",
        "recent disaster",
        "recent death",
        "assets",
        "housing",
        "dibao eligible",
        "dibao not_eligible",
        "dibao needs_person",
    }
    assert wanted <= set(seen), seen
