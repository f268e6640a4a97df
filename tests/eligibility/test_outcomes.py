"""The rules decide and explain every item as the engine before issue 9 did, on any facts and standards.

The frozen engine (tests/eligibility/legacy) reads the explained facts; the one engine decides on
the lean facts and explains from the explained ones. Here the explained facts are random, not
computed from records, and their lean facts are what the frozen engine's projection made of
them: so every branch of every criterion is reached, at each boundary of the standards. Records
to facts to reports is pinned by test_facts_pinned.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.facts import Fact, HouseholdFacts, LeanFacts, MemberFacts, RecordRef
from eligibility.rules import DEMO_PARAMS, ITEMS, Rules, evaluate

from .legacy import outcome_facts as old_lean
from .legacy import rules as old_rules

AS_OF = dt.date(2026, 11, 30)

money_st = st.sampled_from(
    [
        Decimal(x)
        for x in (
            "0",
            "0.00",
            "575.00",
            "1149.99",
            "1150.00",
            "1725.00",
            "2300.00",
            "5000.00",
            "9999.99",
            "10000.00",
            "34500.00",
            "69000.00",
            "103500.01",
            "200000.00",
        )
    ]
)
notes = st.lists(st.just("缺少记录"), max_size=1).map(tuple)
ref_st = st.builds(
    RecordRef,
    member=st.just("m1"),
    category=st.just("disaster"),
    department=st.just("d"),
    source_record_id=st.just("R1"),
    effective_date=st.dates(AS_OF - dt.timedelta(days=400), AS_OF),
)
refs = st.lists(ref_st, max_size=2).map(tuple)
NO_REFS: st.SearchStrategy[Any] = st.just(())


def fact(value: st.SearchStrategy[Any], sources: st.SearchStrategy[Any] = NO_REFS) -> Any:
    return st.builds(Fact, value=value, sources=sources, missing=notes, conflict=notes)


def known(value: st.SearchStrategy[Any], sources: st.SearchStrategy[Any] = NO_REFS) -> Any:
    return st.builds(Fact, value=value, sources=sources)


member_st = st.builds(
    MemberFacts,
    key=st.just("m1"),
    name=st.just(""),
    role=st.just("member"),
    relation=st.just("self"),
    sex=st.just("M"),
    age=st.sampled_from([0, 5, 15, 16, 17, 18, 30, 58, 59, 60, 61, 80]),
    alive=st.booleans(),
    counted=st.booleans(),
    monthly_income=money_st,
    employment=st.sampled_from(["employed", "unemployed", "retired", "unknown", "deceased"]),
    disability_grade=st.sampled_from([None, 1, 2, 3, 4]),
    disability_kind=st.just("肢体"),
    is_student=st.booleans(),
    student_stage=st.sampled_from(["", "小学", "本科", "研究生"]),
    in_pension_insurance=st.booleans(),
    serious_illness=st.booleans(),
    state_employee=st.booleans(),
    label=st.just("m1（本人）"),
)
count = st.integers(0, 3)


@st.composite
def facts_st(draw: Any) -> HouseholdFacts:
    members = tuple(draw(st.lists(member_st, max_size=4)))
    n = sum(1 for m in members if m.counted)
    counted = draw(fact(st.just(n)))
    income = draw(fact(money_st))
    pp = draw(fact(st.one_of(st.none(), money_st)))
    facts = HouseholdFacts(
        lean=None,  # type: ignore[arg-type]
        as_of=AS_OF,
        members=members,
        supporters=tuple(draw(st.lists(member_st, max_size=2))),
        counted_members=counted,
        household_income_month=income,
        income_per_person_month=pp,
        financial_assets=draw(known(money_st)),
        vehicles=draw(known(count)),
        exempt_vehicles=draw(known(count)),
        housing_count=draw(known(count)),
        housing_area_per_person=draw(
            fact(
                st.one_of(
                    st.none(), st.sampled_from([Decimal(x) for x in ("0", "14.99", "15", "15.00", "40")])
                )
            )
        ),
        commercial_property=draw(known(count)),
        unsafe_housing=draw(known(st.booleans())),
        business=draw(known(count)),
        pension=draw(known(money_st)),
        tax=draw(known(money_st)),
        medical_spending=draw(known(money_st)),
        disability=draw(known(st.just(()))),
        employment=draw(known(st.just(()))),
        students=draw(known(count)),
        state_employee=draw(known(count)),
        recipient_items=draw(
            known(
                st.lists(
                    st.sampled_from(["dibao", "low_income_edge", "extreme_poverty", "medical", ""]),
                    max_size=2,
                    unique=True,
                ).map(lambda v: tuple(sorted(v)))
            )
        ),
        disaster=draw(known(count, refs)),
        serious_illness=draw(known(count)),
        electricity=draw(known(st.booleans())),
        pension_insurance=draw(known(count)),
        supporter_income=draw(fact(money_st)),
        deaths=draw(known(count, refs)),
        enforcement=draw(known(count)),
    )
    return dataclasses.replace(facts, lean=LeanFacts(*old_lean.project(facts)))


def _variant(item: str, params: dict[str, Any], pick: int) -> dict[str, Any]:
    """The demo standard, or one with a boundary moved, so both sides of each threshold are hit."""
    p = dict(params)
    changes: dict[str, list[Any]] = {
        "dibao": [
            {"vehicle_limit": 1, "house_limit": 0},
            {"business_limit": 2, "amount_per_person_month": "0"},
        ],
        "low_income_edge": [{"multiple": "1"}, {"multiple": "3", "house_limit": 2}],
        "extreme_poverty": [
            {"age_elderly": 18, "age_child": 60},
            {"disability_grades": [], "supporter_income_limit": "0"},
        ],
        "medical": [{"spending_ratio": "0", "min_spending": "0"}, {"spending_ratio": "2"}],
        "education": [{"stages": []}, {"stages": ["研究生"]}],
        "housing": [{"area_per_person_min": "0"}, {"area_per_person_min": "100"}],
        "employment": [{"age_min": 0, "age_max": 100}, {"age_min": 60, "age_max": 16}],
        "temporary": [{"window_days": 0, "medical_spending_trigger": "0"}, {"window_days": 400}],
        "disaster": [{"window_days": 0}, {"window_days": 1000}],
        "disability_living": [{"grades": []}, {"grades": [3]}],
        "disability_care": [{"grades": [1, 2, 3, 4]}, {"grades": []}],
        "pension_premium": [{"age_min": 60, "age_max": 100}, {"age_min": 0, "age_max": 15}],
        "utility_relief": [{"free_kwh_month": "0"}, {}],
    }
    if pick:
        p.update(changes[item][pick - 1])
    return p


@st.composite
def standards_st(draw: Any) -> dict[str, dict[str, Any]]:
    chosen = draw(st.lists(st.sampled_from(ITEMS), unique=True, min_size=0, max_size=len(ITEMS)))
    if draw(st.booleans()):
        chosen = list(ITEMS)
    return {item: _variant(item, DEMO_PARAMS[item], draw(st.integers(0, 2))) for item in chosen}


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts_st(), standards_st(), st.lists(st.sampled_from(ITEMS), unique=True, max_size=3))
def test_rules_decide_and_explain_as_the_frozen_engine_for_any_facts_and_standards(
    facts: HouseholdFacts, standards: dict[str, Any], asked: list[str]
) -> None:
    report = [r.as_dict() for r in evaluate(facts, standards, asked=asked)]
    assert report == [r.as_dict() for r in old_rules.evaluate(facts, standards, asked=asked)]
    outcomes = Rules(standards).decide(facts.lean, asked)
    assert list(outcomes) == list(ITEMS)
    assert outcomes == {r["item"]: r["outcome"] for r in report}
