"""Deadlines are computed for every open referral on every sweep (100,000 in issue 5's bench)."""

from __future__ import annotations

import datetime as dt
import random

from assist_center.workdays import add_working_days
from bench.framework import Result, benchmark, median_seconds, ratio_result


def _weekend_only(start: dt.date, days: int) -> dt.date:
    """Baseline: the cheapest correct-looking answer, a day-by-day walk that knows only weekends."""
    d = start
    while days:
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            days -= 1
    return d


@benchmark("add_working_days_100k_s")
def add_days() -> Result:
    rng = random.Random(3)
    pairs = [
        (dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(330)), rng.randrange(1, 6))
        for _ in range(100_000)
    ]
    add_working_days(dt.date(2026, 1, 1), 1)  # load the calendar once: sweeps run warm
    value = median_seconds(lambda: [add_working_days(s, n) for s, n in pairs], repeat=3)
    baseline = median_seconds(lambda: [_weekend_only(s, n) for s, n in pairs], repeat=3)
    # The holiday-aware answer must cost no more than twice the naive weekend walk.
    return ratio_result(value, baseline, unit="s", max_ratio=2.0)
