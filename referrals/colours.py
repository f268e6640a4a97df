"""The red/yellow/blue warning rule (issue 5), as pure functions over dates.

With ``n`` allotted working days and ``r`` the working days after today up to and including the
due date (0 on the due date itself):

- none   while ``r > n * REFERRAL_BLUE_FRACTION``;
- blue   when ``r <= n * REFERRAL_BLUE_FRACTION`` (half the time used, by default);
- yellow when ``r <= REFERRAL_YELLOW_DAYS_LEFT`` (0 by default: on the due date);
- red    from 00:00 Asia/Shanghai of the day after the due date (``today > due``; callers pass
  ``timezone.localdate()``, which is Asia/Shanghai by TIME_ZONE).

A pause for more information moves the due date (referrals.services.actions), not this rule.

`colour_moves` gives the due dates whose colour differs between two days, so the sweep reads only
the referrals whose colour changes (referrals.services.sweep). Working days come from
assist_center.workdays, which holds the calendar in memory: no query per call.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

from django.conf import settings

from assist_center.workdays import working_days_between

from .models import Colour

DAY = dt.timedelta(days=1)
# A referral's remaining time never spans more than a few months of calendar; a bound keeps a
# corrupt row (a due date decades away) from looping for long.
_MAX_WALK_DAYS = 800
# Raise when colour_for changes meaning: the next sweep then recomputes every running referral.
COLOUR_RULE_VERSION = 1
# As the days pass a referral's colour only moves forward in this order; an action that moves the
# due date (an extension) may set it back.
COLOURS_IN_ORDER: tuple[str, ...] = (Colour.NONE, Colour.BLUE, Colour.YELLOW, Colour.RED)


def blue_fraction() -> float:
    return float(getattr(settings, "REFERRAL_BLUE_FRACTION", 0.5))


def yellow_days_left() -> int:
    return int(getattr(settings, "REFERRAL_YELLOW_DAYS_LEFT", 0))


def blue_threshold(allotted: int) -> int:
    """The largest r that is blue: r <= n * fraction, with r a whole number of days."""
    # A small epsilon: 0.1 * 30 is 3.0000000000000004 in floats, and 3 days left must be blue.
    return math.floor(allotted * blue_fraction() + 1e-9)


def remaining(*, due_date: dt.date, today: dt.date) -> int:
    """r: working days after today up to and including the due date (0 on or after it)."""
    return working_days_between(today, due_date)


def colour_for(*, allotted: int, due_date: dt.date, today: dt.date) -> Colour:
    """The warning colour of an open referral on `today`."""
    if today > due_date:
        return Colour.RED
    r = remaining(due_date=due_date, today=today)
    if r <= yellow_days_left():
        return Colour.YELLOW
    if r <= blue_threshold(allotted):
        return Colour.BLUE
    return Colour.NONE


def warning_starts(*, allotted: int, today: dt.date) -> dt.date:
    """The earliest due date that has no colour on `today`; every later due date has none either.

    The colour never gets milder as the due date comes sooner, so a walk forward from today stops
    at the first uncoloured day (a few weeks at most; bounded against a corrupt setting).
    """
    d = today
    for _ in range(_MAX_WALK_DAYS):
        if colour_for(allotted=allotted, due_date=d, today=today) == Colour.NONE:
            return d
        d += DAY
    return d


def colour_moves(*, allotted: int, since: dt.date, today: dt.date) -> Iterator[tuple[dt.date, Colour]]:
    """The due dates whose colour on `today` differs from their colour on `since`, with today's colour.

    Only due dates from `since` up to warning_starts(today) can move: an earlier due date was red on
    `since` already, and a later one has no colour on either day (the colour of a due date only
    gets stronger as the days pass). The sweep turns these dates into the referrals to move.
    """
    if since >= today:
        return
    end = warning_starts(allotted=allotted, today=today)
    d = since
    while d < end:
        new = colour_for(allotted=allotted, due_date=d, today=today)
        if new != colour_for(allotted=allotted, due_date=d, today=since):
            yield d, new
        d += DAY
