"""ID-number validation sits on every form submission and every data-pool import row."""

from __future__ import annotations

import datetime as dt
import random
import re

from assist_center.identity import make_id_number, parse_id_number
from bench.framework import Result, benchmark, median_seconds, ratio_result

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


def _bare_checksum(number: str) -> bool:
    """Baseline: the least a validator must do (shape and check character), nothing else."""
    if not _SHAPE.fullmatch(number):
        return False
    total = sum(int(c) * w for c, w in zip(number, _WEIGHTS, strict=False))
    return "10X98765432"[total % 11] == number[17]


@benchmark("id_validate_100k_s")
def id_validate() -> Result:
    rng = random.Random(7)
    numbers = [
        make_id_number(
            region6="331022",
            birth=dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(30000)),
            seq=rng.randrange(1000),
        )
        for _ in range(100_000)
    ]
    today = dt.date(2026, 11, 29)
    value = median_seconds(lambda: [parse_id_number(n, today=today) for n in numbers], repeat=3)
    baseline = median_seconds(lambda: [_bare_checksum(n) for n in numbers], repeat=3)
    # Full validation (normalisation, dates, province, derived facts) may cost a few times the bare
    # checksum, but must stay far below an import's per-row budget (100k rows/s in issue 4).
    return ratio_result(value, baseline, unit="s", max_ratio=8.0)
