"""The record index (a person's records grouped by category once) answers as a plain scan would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.facts import RecordRow, group_records, latest, latest_each, money

AS_OF = dt.date(2024, 6, 30)
CATEGORIES = ("wage", "pension", "hukou", "vehicle", "death")

records_strategy = st.lists(
    st.builds(
        RecordRow,
        category=st.sampled_from(CATEGORIES),
        department=st.just("d"),
        source_record_id=st.sampled_from(("a", "b", "c", "10", "9")),
        effective_date=st.dates(dt.date(2024, 6, 20), dt.date(2024, 7, 5)),
        data=st.just({}),
    ),
    max_size=25,
)


def _of(records: list[RecordRow], category: str) -> list[RecordRow]:
    return [r for r in records if r.category == category and r.effective_date <= AS_OF]


def _latest_each(records: list[RecordRow], category: str) -> list[RecordRow]:
    best: dict[str, RecordRow] = {}
    for r in _of(records, category):
        if r.source_record_id not in best or r.effective_date > best[r.source_record_id].effective_date:
            best[r.source_record_id] = r
    return list(best.values())


def _latest(records: list[RecordRow], category: str) -> RecordRow | None:
    recs = _of(records, category)
    return max(recs, key=lambda r: (r.effective_date, r.source_record_id)) if recs else None


@settings(max_examples=200, deadline=None)
@given(records_strategy)
def test_grouped_queries_equal_a_plain_scan(records: list[RecordRow]) -> None:
    by_category = group_records(records, AS_OF)
    for category in (*CATEGORIES, "unknown"):
        # Identity, not just equality: the same record objects, in the same order.
        assert [id(r) for r in by_category.get(category, ())] == [id(r) for r in _of(records, category)]
        assert [id(r) for r in latest_each(by_category.get(category))] == [
            id(r) for r in _latest_each(records, category)
        ]
        assert latest(by_category.get(category)) is _latest(records, category)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9))
def test_money_cache_formats_like_a_fresh_quantize(value: Decimal) -> None:
    for _ in range(2):
        assert money(value) == f"{value.quantize(Decimal('0.01')):,}"
