"""Working days (工作日) for deadlines, from the calendar tables.

The rule: Monday to Friday are working days, Saturday and Sunday are rest days. The
`CalendarDay` table stores only the days that break the rule in a year: statutory holidays
(kind ``holiday``, including the weekend days inside a holiday period and the in-lieu weekdays)
and make-up working days (kind ``makeup``, a Saturday or Sunday worked). Ordinary weekdays and
weekends are not stored. Migration 0003 seeds 2004–2026 from chinese-calendar; later years are
entered with ``manage.py calendar_import`` or in the admin.

A year is *confirmed* when a `CalendarYear` row says so. The stored days of an unconfirmed year
are ignored and the year follows the weekend rule alone; a deadline that touches such a year is
provisional (暂定) and is recomputed once the year is confirmed (stack.md, "Traps worth knowing").

Counting never includes the start day: ``add_working_days(d, 1)`` is the first working day
after ``d``, and ``working_days_between(a, b)`` counts the working days in ``(a, b]``, so that
``working_days_between(a, add_working_days(a, n)) == n`` for every ``n >= 0``.

Deadline sweeps call these functions for 100,000 referrals, so nothing here queries the database
per call. The overrides and the confirmed years are loaded once per process, with per-year prefix
counts built lazily, and reloaded when another process changes the calendar: every change calls
`calendar_changed()`, which stores a new token under ``calendar:version`` in the shared cache, and
each process compares its token at most every `VERSION_CHECK_SECONDS`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
import uuid
from array import array
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import CalendarDay, CalendarYear

logger = logging.getLogger(__name__)

__all__ = [
    "Deadline",
    "add_working_days",
    "calendar_changed",
    "calendar_check_next_year",
    "calendar_fingerprint",
    "deadline",
    "is_working_day",
    "is_year_confirmed",
    "unconfirmed_next_year_warning",
    "working_days_between",
    "year_to_warn_about",
]

VERSION_KEY = "calendar:version"
# How stale another process's edit may look here: a few seconds is harmless for day-granular
# deadlines and keeps the sweep from asking Redis on every call.
VERSION_CHECK_SECONDS = 5.0
# With the cache unreachable nobody can announce an edit, so reload on a timer instead.
MAX_AGE_WITHOUT_CACHE_SECONDS = 60.0
# The State Council publishes next year's arrangement in November or December.
WARNING_FROM_MONTH = 11

UNCONFIRMED_WARNING = _(
    "The official holiday arrangement for %(year)s has not been confirmed yet. Working days in "
    "%(year)s are counted from weekends alone and deadlines that reach into %(year)s are "
    "provisional. Enter the year's statutory holidays and make-up working days under calendar days, then "
    "tick “confirmed” for the year under calendar years."
)

# Replaced in tests to move past the version-check interval without sleeping.
_monotonic: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class Deadline:
    """A due date; provisional when it depends on a year whose holidays are not confirmed."""

    due: dt.date
    provisional: bool


class _YearCounts:
    """Prefix counts of one year: ``cum[i]`` is the number of working days among its first i days."""

    __slots__ = ("cum", "first", "total")

    def __init__(self, year: int, overrides: dict[dt.date, bool]) -> None:
        self.first = dt.date(year, 1, 1)
        n_days = (dt.date(year + 1, 1, 1) - self.first).days if year < dt.MAXYEAR else 365
        cum = array("H", [0]) * (n_days + 1)
        weekday = self.first.weekday()
        running = 0
        for i in range(n_days):
            day = self.first + dt.timedelta(days=i)
            work = overrides.get(day)
            if work is None:
                work = (weekday + i) % 7 < 5
            running += work
            cum[i + 1] = running
        self.cum = cum
        self.total = running

    def upto(self, d: dt.date) -> int:
        """Working days from 1 January up to and including d."""
        return self.cum[(d - self.first).days + 1]

    def nth(self, n: int) -> dt.date:
        """The day on which the year's n-th working day falls (1 <= n <= total)."""
        return self.first + dt.timedelta(days=bisect_left(self.cum, n) - 1)


@dataclass
class _Calendar:
    version: object
    overrides: dict[dt.date, bool]
    confirmed_years: frozenset[int]
    fingerprint: str
    loaded_at: float
    checked_at: float
    years: dict[int, _YearCounts] = field(default_factory=dict)

    def year(self, y: int) -> _YearCounts:
        counts = self.years.get(y)
        if counts is None:
            # A benign race under threads: two threads may build the same year; both results agree.
            counts = self.years[y] = _YearCounts(y, self.overrides)
        return counts


_state: _Calendar | None = None
_lock = threading.Lock()
_UNREACHABLE = object()


def _read_version() -> object:
    try:
        return cache.get(VERSION_KEY)
    except Exception:  # A cache outage must not stop deadlines; see MAX_AGE_WITHOUT_CACHE_SECONDS.
        logger.warning("calendar: cannot read %s from the cache", VERSION_KEY, exc_info=True)
        return _UNREACHABLE


def _load(version: object, now: float) -> _Calendar:
    confirmed = frozenset(CalendarYear.objects.filter(confirmed=True).values_list("year", flat=True))
    overrides = dict(
        CalendarDay.objects.filter(date__year__in=sorted(confirmed)).values_list("date", "is_workday")
    )
    digest = hashlib.md5(usedforsecurity=False)
    digest.update(repr(sorted(confirmed)).encode())
    digest.update(repr(sorted(overrides.items())).encode())
    return _Calendar(
        version=version,
        overrides=overrides,
        confirmed_years=confirmed,
        fingerprint=digest.hexdigest(),
        loaded_at=now,
        checked_at=now,
    )


def _calendar() -> _Calendar:
    global _state
    state = _state
    now = _monotonic()
    if state is not None and now - state.checked_at < VERSION_CHECK_SECONDS:
        return state
    with _lock:
        state = _state
        if state is not None and now - state.checked_at < VERSION_CHECK_SECONDS:
            return state
        version = _read_version()
        if state is None:
            state = _load(version, now)
        elif version is _UNREACHABLE:
            if now - state.loaded_at >= MAX_AGE_WITHOUT_CACHE_SECONDS:
                state = _load(state.version, now)
            else:
                state.checked_at = now
        elif version != state.version:
            state = _load(version, now)
        else:
            state.checked_at = now
        _state = state
        return state


def _forget() -> None:
    global _state
    _state = None


def _announce() -> None:
    _forget()
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        # Other processes fall back to MAX_AGE_WITHOUT_CACHE_SECONDS; the edit itself stands.
        logger.warning("calendar: cannot write %s to the cache", VERSION_KEY, exc_info=True)


def calendar_changed() -> None:
    """Make every process reload the calendar; call after any change to CalendarDay or CalendarYear.

    Announces at once (this process and tests inside one transaction see the change) and again
    after the surrounding transaction commits: a process that reloaded in between read the old
    rows and must load again.
    """
    _announce()
    transaction.on_commit(_announce)


def calendar_fingerprint() -> str:
    """A digest of the calendar in force: equal fingerprints count every day alike.

    Lets work that remembers results across days (the referral colour sweep) notice that the
    calendar changed under it and recompute.
    """
    return _calendar().fingerprint


def is_year_confirmed(year: int) -> bool:
    return year in _calendar().confirmed_years


def is_working_day(d: dt.date) -> bool:
    work = _calendar().overrides.get(d)
    return d.weekday() < 5 if work is None else work


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The day on which the `days`-th working day after `start` falls; `start` itself never counts."""
    if days < 0:
        raise ValueError("days must be zero or positive")
    if days == 0:
        return start
    cal = _calendar()
    year = start.year
    counts = cal.year(year)
    target = counts.upto(start) + days
    while target > counts.total:
        target -= counts.total
        year += 1
        counts = cal.year(year)
    return counts.nth(target)


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Working days in (a, b]: after a, up to and including b; 0 when b <= a.

    ``working_days_between(a, add_working_days(a, n)) == n`` for every ``n >= 0``.
    """
    if b <= a:
        return 0
    cal = _calendar()
    total = cal.year(b.year).upto(b) - cal.year(a.year).upto(a)
    for year in range(a.year, b.year):
        total += cal.year(year).total
    return total


def deadline(start: dt.date, days: int) -> Deadline:
    """The due date `days` working days after `start`, and whether it is provisional.

    Provisional when any day in (start, due] lies in an unconfirmed year: the days skipped depend
    on that year's arrangement as much as the days counted.
    """
    due = add_working_days(start, days)
    if due == start:
        return Deadline(due=due, provisional=False)
    confirmed = _calendar().confirmed_years
    first = start + dt.timedelta(days=1)
    provisional = any(y not in confirmed for y in range(first.year, due.year + 1))
    return Deadline(due=due, provisional=provisional)


def year_to_warn_about(today: dt.date | None = None) -> int | None:
    """The year whose holidays staff should enter and confirm now, or None."""
    return _year_to_warn_about(today or timezone.localdate())


def _year_to_warn_about(today: dt.date) -> int | None:
    # From 1 November the coming year matters; before then only the current one does (a year left
    # unconfirmed into January stays on the warning until someone confirms it).
    year = today.year + 1 if today.month >= WARNING_FROM_MONTH else today.year
    return None if is_year_confirmed(year) else year


def unconfirmed_next_year_warning(today: dt.date | None = None) -> str | None:
    """The warning staff should see when next year's holidays are due but unconfirmed, else None.

    From 1 November it concerns next year; before that it appears only if the current year itself
    is unconfirmed. The text is in the active language.
    """
    year = _year_to_warn_about(today or timezone.localdate())
    if year is None:
        return None
    return str(UNCONFIRMED_WARNING) % {"year": year}


def calendar_check_next_year() -> bool:
    """Log a warning while next year's holidays are due but unconfirmed; return whether it applies.

    Called daily by Celery beat.
    """
    year = _year_to_warn_about(timezone.localdate())
    if year is None:
        return False
    logger.warning(
        "calendar: the holiday arrangement for %s is not confirmed; deadlines in %s are provisional",
        year,
        year,
    )
    return True
