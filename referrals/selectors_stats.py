"""Case-closure figures that `referrals.selectors.case_stats` does not give: the median and a list.

Both are single SQL statements over the user's cases (scoped by `selectors.scope_cases`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Aggregate, FloatField, QuerySet
from django.utils import timezone

from .models import Case
from .selectors import period_bounds, scope_cases


class Median(Aggregate):
    """PostgreSQL's exact median; Django has no percentile aggregate of its own."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _closed_in(user: Any, year: int, month: int | None) -> QuerySet[Case]:
    start, end = period_bounds(year, month)
    tz = timezone.get_current_timezone()
    return scope_cases(Case.objects.all(), user).filter(
        status=Case.Status.CLOSED,
        closed_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        closed_at__lt=dt.datetime.combine(end, dt.time.min, tzinfo=tz),
    )


def case_median_working_days(*, user: Any, year: int, month: int | None = None) -> float | None:
    """Median working days from submission to closure of the cases closed in the period."""
    value = _closed_in(user, year, month).aggregate(m=Median("working_days_to_close"))["m"]
    return None if value is None else float(value)


@dataclass
class ClosedCase:
    receipt_code: str
    village: str
    closed_at: dt.datetime | None
    working_days: int | None


def cases_closed_latest(
    *, user: Any, year: int, month: int | None = None, limit: int = 20
) -> list[ClosedCase]:
    """The latest cases closed in the period with their working days, newest first."""
    rows = (
        _closed_in(user, year, month)
        .order_by("-closed_at", "-id")
        .values_list("application__receipt_code", "village__name", "closed_at", "working_days_to_close")[
            :limit
        ]
    )
    return [ClosedCase(code, village, closed_at, days) for code, village, closed_at, days in rows]
