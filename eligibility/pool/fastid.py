"""A table-driven ID-number check for the import's hot loop; it agrees with identity.parse_id_number.

parse_id_number costs a few microseconds (NFKC, a dataclass, a date object); an import has about
five microseconds per row in all (issue 4: 100,000 rows/s). This check accepts only the plain
form (18 ASCII characters, last one a digit or X/x) and precomputes the MOD 11-2 weighted sums
of the three parts that repeat across a county's rows: the 6-digit region, the 8-digit birth
date (the table holds only real dates from 1900-01-01 to today, so it also checks the date) and
the 3-digit sequence. Anything it does not accept goes to parse_id_number, which either
normalises it (full-width digits, spaces) or names the reason; a property test keeps the two in
agreement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from assist_center.identity import PERMIT_CODES, PROVINCE_CODES

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_DIGITS = frozenset("0123456789")
_EARLIEST = dt.date(1900, 1, 1)
# A hostile file could name a million different regions; past this, regions are computed, not kept.
_MAX_REGIONS = 100_000


def _weighted(digits: str, offset: int) -> int:
    return sum(int(c) * _WEIGHTS[offset + i] for i, c in enumerate(digits))


def make_fast_check(today: dt.date) -> Callable[[str], str | None]:
    """Return check(raw) -> the normalised number if `raw` is a valid plain number, else None.

    None means "not decided here": the caller asks parse_id_number for the verdict.
    """
    dates: dict[str, int] = {}
    day = _EARLIEST
    one = dt.timedelta(days=1)
    while day <= today:
        key = f"{day.year:04d}{day.month:02d}{day.day:02d}"
        dates[key] = _weighted(key, 6)
        day += one
    seqs = {f"{i:03d}": _weighted(f"{i:03d}", 14) for i in range(1000)}
    regions: dict[str, int] = {}

    def region_sum(region: str) -> int:
        # -1: not a region this check accepts (parse_id_number decides and names the reason).
        if any(c not in _DIGITS for c in region):
            return -1
        if region[0] != "9" and region[:2] not in PROVINCE_CODES and region[:2] not in PERMIT_CODES:
            return -1
        return _weighted(region, 0)

    def check(raw: str) -> str | None:
        if len(raw) != 18:
            return None
        region = raw[:6]
        r = regions.get(region)
        if r is None:
            r = region_sum(region)
            if len(regions) < _MAX_REGIONS:
                regions[region] = r
        if r < 0:
            return None
        d = dates.get(raw[6:14])
        if d is None:
            return None
        s = seqs.get(raw[14:17])
        if s is None:
            return None
        expected = _CHECK[(r + d + s) % 11]
        last = raw[17]
        if last == expected:
            return raw
        if last == "x" and expected == "X":
            return raw[:17] + "X"
        return None

    return check
