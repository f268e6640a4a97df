"""`make bench`: run every benchmark in bench/bench_*.py and write bench/results/latest.json."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path

import django


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assist_center.settings.base")
    os.environ.setdefault("DEBUG", "true")
    django.setup()
    from bench import framework

    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("bench_"):
            importlib.import_module(f"bench.{info.name}")
    results = framework.run(sys.argv[1:] or None)
    return 0 if all(r.ok for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
