"""A figure of a dashboard: a titled table (what the page shows and the Excel file holds) and a chart.

Every figure is computed from the records by the selectors (dashboards.selectors); nothing here
is typed in. The chart is a plain description (labels and series) the static script draws with the
vendored Chart.js; the same rows go to the table and to the download, so the three cannot drift.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Series:
    label: str
    values: list[float | int | None]
    colour: str = ""  # a fixed colour where the colour means something (the warning colours)


@dataclass
class Figure:
    key: str  # the figure's name in its download URL
    title: str
    headers: list[str]
    rows: list[list[Any]]
    chart: str = "bar"  # "bar", "stacked", "hbar", "line" or "" for a table alone
    labels: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    note: str = ""

    def chart_data(self) -> dict[str, Any]:
        return {
            "type": self.chart,
            "labels": self.labels,
            "series": [{"label": s.label, "values": s.values, "colour": s.colour} for s in self.series],
        }


def percentile(values: Sequence[int | float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over `values` (linear interpolation between closest ranks)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def expand(pairs: Iterable[tuple[int, int]]) -> list[int]:
    """(value, count) pairs, as a GROUP BY returns them, back to the list of values."""
    out: list[int] = []
    for value, count in pairs:
        out.extend([value] * count)
    return out


def percent(part: int, whole: int) -> float | None:
    """A share in per cent with one decimal, None when there is nothing to share."""
    return None if whole == 0 else round(100 * part / whole, 1)


def one_decimal(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
