"""The colour rule at every boundary, across 2026 holidays and make-up working days (issue 5)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from referrals.colours import colour_for, colour_moves
from referrals.models import Colour, Referral
from referrals.services.actions import referral_answer_info, referral_request_info
from referrals.services.sweep import colour_sweep

from .builders import open_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = dt.date
pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def colours(allotted: int, due: dt.date, first: dt.date, last: dt.date) -> dict[dt.date, str]:
    out = {}
    d = first
    while d <= last:
        out[d] = str(colour_for(allotted=allotted, due_date=due, today=d))
        d += dt.timedelta(days=1)
    return out


def assert_moves_agree(allotted: int, first: dt.date, last: dt.date) -> None:
    """colour_moves(since, today) is exactly the due dates whose colour differs between the two days.

    Checked for every pair of days in [first, last] and every due date from two weeks before the
    first day to two months after the last: the sweep moves only what colour_moves names.
    """
    one = dt.timedelta(days=1)
    dues = [first - 14 * one + n * one for n in range((last - first).days + 75)]
    since = first
    while since <= last:
        today = since
        while today <= last:
            moves = dict(colour_moves(allotted=allotted, since=since, today=today))
            for due in dues:
                before = colour_for(allotted=allotted, due_date=due, today=since)
                now = colour_for(allotted=allotted, due_date=due, today=today)
                if now != before:
                    assert moves.get(due) == now, (since, today, due, before, now)
                else:
                    assert due not in moves, (since, today, due)
            today += one
        since += one


def test_the_issues_national_day_example() -> None:
    # 2 working days from Wed 30 Sep 2026: 1-7 Oct are holidays, so Thu 8 and Fri 9 Oct count.
    due = D(2026, 10, 9)
    table = colours(2, due, D(2026, 9, 30), D(2026, 10, 12))
    for d in (D(2026, 9, 30), *(D(2026, 10, n) for n in range(1, 8))):
        assert table[d] == Colour.NONE, d
    assert table[D(2026, 10, 8)] == Colour.BLUE
    assert table[D(2026, 10, 9)] == Colour.YELLOW
    assert table[D(2026, 10, 10)] == Colour.RED  # Saturday 10 October, a make-up working day
    assert table[D(2026, 10, 12)] == Colour.RED
    # What the sweep moves on each of those days, after the sweep of the day before.
    assert dict(colour_moves(allotted=2, since=D(2026, 10, 7), today=D(2026, 10, 8)))[due] == Colour.BLUE
    assert dict(colour_moves(allotted=2, since=D(2026, 10, 8), today=D(2026, 10, 9)))[due] == Colour.YELLOW
    assert dict(colour_moves(allotted=2, since=D(2026, 10, 9), today=D(2026, 10, 10)))[due] == Colour.RED
    assert due not in dict(colour_moves(allotted=2, since=D(2026, 9, 30), today=D(2026, 10, 7)))
    assert due not in dict(colour_moves(allotted=2, since=D(2026, 10, 10), today=D(2026, 10, 12)))


def test_spring_festival_five_day_referral() -> None:
    # Fri 13 Feb 2026 + 5 working days: Sat 14 Feb (make-up) is the 1st; 15-23 Feb rest; 24, 25,
    # 26, 27 Feb are the 2nd to 5th. n/2 = 2.5: blue once r <= 2, i.e. from Wed 25 Feb.
    from assist_center.workdays import add_working_days

    due = add_working_days(D(2026, 2, 13), 5)
    assert due == D(2026, 2, 27)
    table = colours(5, due, D(2026, 2, 13), D(2026, 3, 2))
    assert {table[D(2026, 2, n)] for n in range(13, 25)} == {Colour.NONE}
    assert table[D(2026, 2, 25)] == Colour.BLUE
    assert table[D(2026, 2, 26)] == Colour.BLUE
    assert table[D(2026, 2, 27)] == Colour.YELLOW
    assert table[D(2026, 2, 28)] == Colour.RED  # Saturday 28 Feb, a make-up working day
    assert table[D(2026, 3, 1)] == Colour.RED
    assert_moves_agree(5, D(2026, 2, 10), D(2026, 3, 2))


def test_one_day_referral_goes_straight_from_none_to_yellow() -> None:
    due = D(2026, 5, 6)  # Thu 30 Apr + 1 working day: 1-5 May rest, Wed 6 May
    table = colours(1, due, D(2026, 4, 30), D(2026, 5, 7))
    assert table[D(2026, 5, 5)] == Colour.NONE
    assert table[D(2026, 5, 6)] == Colour.YELLOW
    assert table[D(2026, 5, 7)] == Colour.RED
    assert_moves_agree(1, D(2026, 4, 28), D(2026, 5, 8))


@pytest.mark.parametrize("allotted", [0, 1, 2, 3, 4, 5, 7, 10])
def test_colour_moves_match_the_rule_around_the_years_holidays(allotted: int) -> None:
    for first in (D(2025, 12, 29), D(2026, 2, 12), D(2026, 4, 30), D(2026, 9, 28)):
        assert_moves_agree(allotted, first, first + dt.timedelta(days=14))


@pytest.mark.parametrize(("fraction", "yellow"), [(1.0, 0), (0.5, 1), (0.2, 2), (0.0, 0), (1.0, 3)])
def test_colour_moves_match_the_rule_under_other_thresholds(fraction: float, yellow: int) -> None:
    with override_settings(REFERRAL_BLUE_FRACTION=fraction, REFERRAL_YELLOW_DAYS_LEFT=yellow):
        for allotted in (1, 2, 5, 10):
            assert_moves_agree(allotted, D(2026, 9, 28), D(2026, 10, 12))


@override_settings(REFERRAL_BLUE_FRACTION=0.2)
def test_the_blue_threshold_is_a_setting() -> None:
    due = D(2026, 3, 20)  # Friday; 10 working days from Fri 6 Mar
    assert colour_for(allotted=10, due_date=due, today=D(2026, 3, 17)) == Colour.NONE  # r = 3
    assert colour_for(allotted=10, due_date=due, today=D(2026, 3, 18)) == Colour.BLUE  # r = 2
    assert_moves_agree(10, D(2026, 3, 6), D(2026, 3, 21))


def _sweep_at(day: dt.date, hour: int = 0, minute: int = 1) -> None:
    with time_machine.travel(at(day, hour, minute), tick=False):
        colour_sweep()


def test_the_sweep_moves_the_example_referral_at_shanghai_midnights(county_map: Any, personas: Any) -> None:
    with time_machine.travel(at(D(2026, 9, 30), 10), tick=False):
        case = open_case(county_map.village_a1, actor=personas.assistant_a, items=["dibao"])
    referral = case.referrals.get()
    assert (referral.start_date, referral.due_date, referral.allotted_days) == (
        D(2026, 9, 30),
        D(2026, 10, 9),
        2,
    )
    for day in [D(2026, 9, 30), *(D(2026, 10, n) for n in range(1, 8))]:
        _sweep_at(day, 23, 59)
        referral.refresh_from_db()
        assert referral.colour == Colour.NONE, day
    _sweep_at(D(2026, 10, 8), 0, 0)
    referral.refresh_from_db()
    assert referral.colour == Colour.BLUE
    _sweep_at(D(2026, 10, 9), 23, 59)
    referral.refresh_from_db()
    assert referral.colour == Colour.YELLOW
    _sweep_at(D(2026, 10, 10), 0, 0)
    referral.refresh_from_db()
    assert referral.colour == Colour.RED
    assert sorted(referral.notifications.values_list("colour", "audience")) == [
        ("blue", "department"),
        ("red", "coordinator"),
        ("red", "department"),
        ("yellow", "department"),
    ]


def test_a_pause_moves_the_due_date_by_the_working_days_paused(county_map: Any, personas: Any) -> None:
    # 2 working days from Mon 14 Sep 2026: due Wed 16 Sep. Paused from Tue 15 to Fri 18 Sep (3
    # working days: 16, 17, 18): the 3 working days after the 16th are Thu 17, Fri 18 and Sun 20
    # (a make-up working day), so the new due date is Sunday 20 September.
    with time_machine.travel(at(D(2026, 9, 14), 9), tick=False):
        case = open_case(county_map.village_a1, actor=personas.assistant_a, items=["medical"])
    referral = case.referrals.get()
    assert referral.due_date == D(2026, 9, 16)
    with time_machine.travel(at(D(2026, 9, 15), 9), tick=False):
        colour_sweep()
        referral.refresh_from_db()
        assert referral.colour == Colour.BLUE
        referral_request_info(actor=personas.dept_medical, referral_id=referral.pk, question="请补充住院发票")
    for day in (D(2026, 9, 16), D(2026, 9, 17)):
        _sweep_at(day, 12)
        referral.refresh_from_db()
        assert referral.colour == Colour.BLUE, "the clock is stopped while paused"
        assert referral.status == Referral.Status.INFO_REQUESTED
    with time_machine.travel(at(D(2026, 9, 18), 15), tick=False):
        referral_answer_info(actor=personas.assistant_a, referral_id=referral.pk, answer="发票已上传")
    referral.refresh_from_db()
    assert referral.paused_days == 3
    assert referral.due_date == D(2026, 9, 20)
    assert referral.status == Referral.Status.PENDING  # nobody had accepted it
    # Paused at r = 1 (blue), resumed at r = 1: still blue, and no second blue notification.
    assert referral.colour == Colour.BLUE
    assert referral.notifications.filter(colour="blue").count() == 1
    _sweep_at(D(2026, 9, 20), 8)
    referral.refresh_from_db()
    assert referral.colour == Colour.YELLOW
