"""The red/yellow/blue warning rule (issue 5), as pure functions over dates.

With ``n`` allotted working days and ``r`` the working days after today up to and including the
due date (0 on the due date itself):

- none   while ``r > n * REFERRAL_BLUE_FRACTION``;
- blue   when ``r <= n * REFERRAL_BLUE_FRACTION`` (half the time used, by default);
- yellow when ``r <= REFERRAL_YELLOW_DAYS_LEFT`` (0 by default: on the due date);
- red    from 00:00 Asia/Shanghai of the day after the due date (``today > due``; callers pass
  ``timezone.localdate()``, which is Asia/Shanghai by TIME_ZONE).

A pause for more information moves the due date (referrals.services.actions), not this rule.

`next_colour_day` gives the first date on which the colour would differ from today's, so the sweep
reads only referrals whose day has come (``Referral.next_colour_on``, indexed). Working days come
from assist_center.workdays, which holds the calendar in memory: no query per call.
"""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings

from assist_center.workdays import is_working_day, working_days_between

from .models import Colour

DAY = dt.timedelta(days=1)
# A referral's remaining time never spans more than a few months of calendar; a bound keeps a
# corrupt row (a due date decades away) from looping for long.
_MAX_WALK_DAYS = 800


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


def first_day_with_remaining_at_most(*, due_date: dt.date, days_left: int) -> dt.date:
    """The earliest date d with r(d) <= days_left (r never grows as d advances)."""
    d = due_date
    r = 0
    for _ in range(_MAX_WALK_DAYS):
        # r(d - 1) counts d itself when d is a working day.
        before = r + (1 if is_working_day(d) else 0)
        if before > days_left:
            return d
        d -= DAY
        r = before
    return d


def next_colour_day(*, allotted: int, due_date: dt.date, today: dt.date) -> dt.date | None:
    """The first date after `today` on which colour_for would answer differently; None once red."""
    current = colour_for(allotted=allotted, due_date=due_date, today=today)
    if current == Colour.RED:
        return None
    if current == Colour.YELLOW:
        return due_date + DAY
    yellow_from = first_day_with_remaining_at_most(due_date=due_date, days_left=yellow_days_left())
    if current == Colour.BLUE:
        return max(yellow_from, today + DAY)
    blue = blue_threshold(allotted)
    if blue > yellow_days_left():
        candidate = first_day_with_remaining_at_most(due_date=due_date, days_left=blue)
    else:
        candidate = yellow_from
    return max(candidate, today + DAY)
