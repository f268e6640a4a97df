"""A small benchmark runner: each benchmark times itself and a baseline in the same run.

Machines here are shared and noisy, so a figure is only meaningful as a ratio against a
baseline measured seconds apart on the same machine; targets are ratios (or generous absolute
ceilings reported for information).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


@dataclass
class Result:
    value: float
    unit: str
    baseline: float
    ratio: float
    target: str
    ok: bool


BENCHMARKS: dict[str, Callable[[], Result]] = {}


def benchmark(name: str) -> Callable[[Callable[[], Result]], Callable[[], Result]]:
    def register(fn: Callable[[], Result]) -> Callable[[], Result]:
        BENCHMARKS[name] = fn
        return fn

    return register


def median_seconds(fn: Callable[[], object], *, repeat: int = 5) -> float:
    """Median wall time of `repeat` runs (the median shrugs off a neighbour's burst)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ratio_result(value: float, baseline: float, *, unit: str, max_ratio: float) -> Result:
    ratio = value / baseline if baseline > 0 else float("inf")
    return Result(
        value=round(value, 6),
        unit=unit,
        baseline=round(baseline, 6),
        ratio=round(ratio, 3),
        target=f"ratio <= {max_ratio}",
        ok=ratio <= max_ratio,
    )


def run(selected: list[str] | None = None) -> dict[str, Result]:
    results: dict[str, Result] = {}
    for name, fn in BENCHMARKS.items():
        if selected and name not in selected:
            continue
        results[name] = fn()
        r = results[name]
        print(
            f"{name:<40} {r.value:>12.6f} {r.unit:<6} baseline {r.baseline:>12.6f}  "
            f"ratio {r.ratio:>8.3f}  {r.target:<16} {'ok' if r.ok else 'MISSED'}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() and selected else {}
    existing.update({k: asdict(v) for k, v in results.items()})
    RESULTS.write_text(json.dumps(existing, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    return results
