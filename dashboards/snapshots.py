"""The dashboards' summary: each page's figures kept for SNAPSHOT_SECONDS and refreshed by a task.

At 10x the county the county's pages take seconds of SQL (bench/bench_dashboard.py), far over the
half second a page may take. So a page's figures, once computed, are kept in the shared cache
(Redis) under the scope, page, year and language; `dashboards_refresh` (Celery beat, every 5
minutes) recomputes the county's pages of this year before they expire, so the coordinator never
waits for them; a township's or a department's pages, filtered by their indexes, are computed on
the first visit and kept the same way. The page says when its figures were computed. A cache that
is down costs speed, never the page: the figures are then computed for the request.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation

from assist_center.db_router import replica_reads

from .figures import Figure
from .selectors import PAGES, Scope, page_figures_for, scope_of

logger = logging.getLogger(__name__)

# Kept twice the refresh interval, so the task's next run replaces a page before it expires.
SNAPSHOT_SECONDS = 600
VERSION = 1  # raise when a figure's shape changes, so no old snapshot is served


@dataclass
class Snapshot:
    figures: list[Figure]
    computed_at: dt.datetime
    duration_ms: float


def _key(scope: Scope, slug: str, year: int) -> str:
    lang = translation.get_language() or settings.LANGUAGE_CODE
    return (
        f"dashboards:v{VERSION}:{lang}:{scope.kind}:{scope.township_id}:{scope.department_id}:{slug}:{year}"
    )


def _compute(scope: Scope, slug: str, year: int) -> Snapshot:
    start = time.perf_counter()
    with replica_reads():  # figures for display, minutes old anyway: a replica's lag does not matter
        figures = page_figures_for(scope, slug, year, timezone.localdate())
    return Snapshot(figures, timezone.now(), round((time.perf_counter() - start) * 1000, 1))


def _store(key: str, snapshot: Snapshot) -> None:
    try:
        cache.set(key, snapshot, SNAPSHOT_SECONDS)
    except Exception:  # the cache is an optimisation: a Redis outage must not fail the page
        logger.warning("dashboard_snapshot_not_stored", extra={"key": key})


def page_snapshot(*, user: Any, slug: str, year: int) -> Snapshot:
    """The page's figures for the user: the kept ones if fresh, else computed now and kept."""
    scope = scope_of(user)
    assert scope is not None
    key = _key(scope, slug, year)
    try:
        kept = cache.get(key)
    except Exception:
        logger.warning("dashboard_snapshot_unreadable", extra={"key": key})
        kept = None
    if isinstance(kept, Snapshot):
        return kept
    snapshot = _compute(scope, slug, year)
    _store(key, snapshot)
    return snapshot


def dashboards_refresh(*, year: int | None = None) -> int:
    """Recompute the county's pages (in the site's language); returns how many were stored."""
    year = year or timezone.localdate().year
    scope = Scope("county")
    with translation.override(settings.LANGUAGE_CODE):
        for slug in PAGES:
            _store(_key(scope, slug, year), _compute(scope, slug, year))
    return len(PAGES)
