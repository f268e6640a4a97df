"""The colour sweep: once-only notifications and SMS, and a cost that follows the changes."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assist_center.models import AuditEvent, SmsMessage
from assist_center.pii import phone_index
from referrals import tasks
from referrals.models import Case, Colour, ColourSweep, DepartmentContact, Notification, Referral
from referrals.services.sweep import apply_moves, colour_sweep, plan_moves

from .builders import open_case
from .conftest import RACE
from .threads import run_together

D = dt.date
OPENED = D(2026, 9, 30)  # national day example: blue 8 Oct, yellow 9 Oct, red 10 Oct


def _open(county_map: Any, personas: Any, n: int = 1, items: tuple[str, ...] = ("dibao",)) -> list[Case]:
    import time_machine

    from .test_colours import at

    with time_machine.travel(at(OPENED, 10), tick=False):
        return [open_case(county_map.village_a1, actor=personas.assistant_a, items=items) for _ in range(n)]


def _national_day_calendar() -> None:
    """Make sure the 2026 national-day arrangement the race tests count on is in the tables.

    The race tests commit, so they cannot lean on a rolled-back copy of the seeded calendar: in a
    full `-n 2` run the worker's earlier transactional tests flush the tables, and the serialized
    restore does not always bring them back. Without the holidays, Wed 30 Sep + 2 working days is
    Fri 2 Oct, every referral jumps straight to red on 8 Oct (two notifications each), and the
    sweeps on 9 and 10 Oct find nothing: a test of concurrency failing for a calendar reason.
    """
    from assist_center import workdays
    from assist_center.models import CalendarDay, CalendarYear

    CalendarYear.objects.update_or_create(year=2026, defaults={"confirmed": True})
    for n in range(1, 8):
        CalendarDay.objects.update_or_create(
            date=D(2026, 10, n), defaults={"is_workday": False, "kind": CalendarDay.Kind.HOLIDAY}
        )
    CalendarDay.objects.update_or_create(
        date=D(2026, 10, 10), defaults={"is_workday": True, "kind": CalendarDay.Kind.MAKEUP}
    )
    workdays._forget()


def _open_for_race(county_map: Any, personas: Any, n: int) -> list[Case]:
    _national_day_calendar()
    cases = _open(county_map, personas, n=n)
    # The precondition the assertions below rest on: blue 8 Oct, yellow 9 Oct, red 10 Oct.
    dues = {r.due_date for c in cases for r in c.referrals.all()}
    assert dues == {D(2026, 10, 9)}, dues
    return cases


def _contact(department: Any, phone: str = "+8613600000001") -> DepartmentContact:
    return DepartmentContact.objects.create(
        department=department, label="值班", phone=phone, phone_hash=phone_index(phone)
    )


@pytest.mark.django_db
def test_two_sweeps_notify_each_colour_once_and_send_one_sms_per_contact_and_day(
    county_map: Any, personas: Any
) -> None:
    _open(county_map, personas, n=3)
    _contact(county_map.dept_civil)
    for day in (
        D(2026, 10, 8),
        D(2026, 10, 8),
        D(2026, 10, 9),
        D(2026, 10, 10),
        D(2026, 10, 10),
        D(2026, 10, 12),
    ):
        colour_sweep(today=day)
    assert Notification.objects.filter(audience="department").count() == 9  # 3 referrals x blue/yellow/red
    assert Notification.objects.filter(audience="coordinator", colour="red").count() == 3
    assert set(Referral.objects.values_list("colour", flat=True)) == {Colour.RED}
    sms = list(SmsMessage.objects.order_by("pk").values_list("template", "params"))
    assert sms == [
        ("deadline_summary", {"red": "0", "yellow": "0", "blue": "3"}),
        ("deadline_summary", {"red": "0", "yellow": "3", "blue": "0"}),
        ("deadline_summary", {"red": "3", "yellow": "0", "blue": "0"}),
    ]
    events = AuditEvent.objects.filter(action="referral.colour_sweep")
    assert events.count() == 3  # one per sweep that changed something


@pytest.mark.django_db
def test_a_task_delivered_twice_has_one_effect(county_map: Any, personas: Any) -> None:
    import time_machine

    from .test_colours import at

    _open(county_map, personas, n=2)
    with time_machine.travel(at(D(2026, 10, 8), 0, 5), tick=False):
        assert tasks.colour_sweep() == 2
        assert tasks.colour_sweep() == 0
    assert Notification.objects.count() == 2


@pytest.mark.django_db
def test_a_stale_computation_changes_nothing(county_map: Any, personas: Any) -> None:
    (case,) = _open(county_map, personas)
    r = case.referrals.get()
    blue = plan_moves(today=D(2026, 10, 8), since=D(2026, 10, 7))
    assert apply_moves(blue)[0] == 1
    # The same computation applied again (a second beat that planned before the first wrote):
    # the row holds the colour already.
    assert apply_moves(blue) == (0, {})
    assert Notification.objects.count() == 1
    # A computation for an earlier day, applied late, never moves a colour back.
    assert apply_moves(plan_moves(today=D(2026, 10, 10), since=D(2026, 10, 9)))[0] == 1
    assert apply_moves(blue) == (0, {})
    r.refresh_from_db()
    assert r.colour == Colour.RED


@pytest.mark.django_db
def test_a_first_sweep_reconciles_every_running_referral_then_only_changes_are_read(
    county_map: Any, personas: Any
) -> None:
    (case,) = _open(county_map, personas)
    # A colour written outside the services (as the demo seeder's date changes leave them).
    Referral.objects.filter(case=case).update(colour=Colour.NONE)
    assert not ColourSweep.objects.exists()
    assert colour_sweep(today=D(2026, 10, 9)) == 1  # no sweep before: every pair is recomputed
    assert case.referrals.get().colour == Colour.YELLOW
    # From now on only the pairs whose colour changed since the day before the last sweep are
    # read. An action that computed the referral's colour on the 8th (blue) and committed after
    # the sweep of the 9th is healed by the next sweep ...
    Referral.objects.filter(case=case).update(colour=Colour.BLUE)
    assert colour_sweep(today=D(2026, 10, 9)) == 1
    assert case.referrals.get().colour == Colour.YELLOW
    # ... but a referral whose pair did not change colour since the 8th is not looked at: its
    # dates and colour written behind the services' back stay wrong until a full sweep.
    Referral.objects.filter(case=case).update(due_date=D(2026, 10, 6), colour=Colour.NONE)
    assert colour_sweep(today=D(2026, 10, 9)) == 0
    assert colour_sweep(today=D(2026, 10, 9), full=True) == 1
    assert case.referrals.get().colour == Colour.RED
    assert list(ColourSweep.objects.values_list("day", "changed")) == [(D(2026, 10, 9), 3)]


@pytest.mark.django_db
def test_new_thresholds_make_the_next_sweep_recompute_everything(county_map: Any, personas: Any) -> None:
    from django.test import override_settings

    (case,) = _open(county_map, personas)
    assert colour_sweep(today=D(2026, 10, 7)) == 0  # 8 and 9 October left: no colour yet
    with override_settings(REFERRAL_BLUE_FRACTION=1.0):
        # Blue while r <= 2 now; the pair did not change colour under the old rule since the 7th,
        # so only a recomputation finds it.
        assert colour_sweep(today=D(2026, 10, 7)) == 1
    assert case.referrals.get().colour == Colour.BLUE
    # Back to the default rule: the blue it no longer gives is taken back, without a notification.
    assert colour_sweep(today=D(2026, 10, 7)) == 1
    assert case.referrals.get().colour == Colour.NONE
    assert list(Notification.objects.values_list("colour", flat=True)) == ["blue"]
    taken_back = AuditEvent.objects.filter(action="referral.colour_sweep").order_by("pk").last()
    assert taken_back is not None and taken_back.new_values["taken_back"] == 1


@pytest.mark.django_db
def test_a_sweep_that_missed_days_catches_up(county_map: Any, personas: Any) -> None:
    cases = _open(county_map, personas, n=2)
    assert colour_sweep(today=D(2026, 9, 30)) == 0
    assert colour_sweep(today=D(2026, 10, 12)) == 2  # beat was down from 1 to 11 October
    assert {r.colour for c in cases for r in c.referrals.all()} == {Colour.RED}
    assert sorted(Notification.objects.values_list("colour", "audience")) == [
        ("red", "coordinator"),
        ("red", "coordinator"),
        ("red", "department"),
        ("red", "department"),
    ]


@pytest.mark.django_db
def test_a_paused_or_finished_referral_is_not_swept(county_map: Any, personas: Any) -> None:
    a, b = _open(county_map, personas, n=2)
    assert colour_sweep(today=D(2026, 10, 7)) == 0
    Referral.objects.filter(case=a).update(status=Referral.Status.INFO_REQUESTED)
    Referral.objects.filter(case=b).update(status=Referral.Status.RETURNED)
    assert colour_sweep(today=D(2026, 10, 12)) == 0  # the pair turns red: the status filter holds
    assert colour_sweep(today=D(2026, 10, 12), full=True) == 0
    assert not Notification.objects.exists()


def _sweep_queries(today: dt.date) -> int:
    with CaptureQueriesContext(connection) as ctx:
        colour_sweep(today=today)
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_sweep_cost_follows_the_changes_not_the_open_referrals(county_map: Any, personas: Any) -> None:
    import time_machine

    from referrals.models import DeadlineRule

    from .test_colours import at

    _contact(county_map.dept_civil)
    _open(county_map, personas, n=2)
    # Open referrals whose colour does not change on the days swept (10 working days to go).
    DeadlineRule.objects.create(department=county_map.dept_medical, item="", days=10)

    def more(n: int) -> None:
        with time_machine.travel(at(D(2026, 10, 8), 10), tick=False):
            for _ in range(n):
                open_case(county_map.village_a1, actor=personas.assistant_a, items=["medical"])

    more(3)
    colour_sweep(today=D(2026, 10, 7))  # the first sweep reconciles everything once
    planned_few = plan_moves(today=D(2026, 10, 9), since=D(2026, 10, 7))
    few = _sweep_queries(D(2026, 10, 8))
    assert Notification.objects.count() == 2
    more(30)
    # What the sweep reads is the pairs that change colour: 30 more open referrals add none.
    assert plan_moves(today=D(2026, 10, 9), since=D(2026, 10, 7)) == planned_few
    many = _sweep_queries(D(2026, 10, 9))
    assert Notification.objects.filter(colour="yellow").count() == 2
    assert few == many
    assert Referral.objects.filter(colour=Colour.NONE).count() == 33


@RACE
def test_two_beats_at_once_notify_each_colour_once(county_map: Any, personas: Any) -> None:
    _open_for_race(county_map, personas, n=5)
    _contact(county_map.dept_civil)
    for day in (D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10)):
        results = run_together(partial(colour_sweep, today=day), partial(colour_sweep, today=day))
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sorted(results) == [0, 5]
    assert Notification.objects.filter(audience="department").count() == 15
    assert Notification.objects.filter(audience="coordinator").count() == 5
    assert SmsMessage.objects.count() == 3


@RACE
def test_two_stale_writers_at_once_move_a_colour_once(county_map: Any, personas: Any) -> None:
    # Without the advisory lock (two computations already made), the conditional UPDATE decides.
    cases = _open_for_race(county_map, personas, n=4)
    assert len(cases) == 4
    moves = plan_moves(today=D(2026, 10, 8), since=D(2026, 10, 7))

    def write() -> tuple[int, int]:
        from django.db import transaction

        with transaction.atomic():
            changed, told = apply_moves(moves)
        return changed, sum(n for counts in told.values() for n in counts.values())

    results = run_together(write, write)
    assert sorted(results) == [(0, 0), (4, 4)]
    assert Notification.objects.count() == 4


@pytest.mark.django_db
def test_a_calendar_change_makes_the_next_sweep_recompute_everything(county_map: Any, personas: Any) -> None:
    from assist_center import workdays
    from assist_center.models import CalendarDay

    (case,) = _open(county_map, personas)  # due Fri 9 Oct
    assert colour_sweep(today=D(2026, 10, 7)) == 0  # Thu 8 and Fri 9 left: no colour
    # Thursday 8 October becomes a rest day: only Friday is left, so blue already on the 7th.
    CalendarDay.objects.update_or_create(
        date=D(2026, 10, 8), defaults={"is_workday": False, "kind": CalendarDay.Kind.HOLIDAY}
    )
    workdays.calendar_changed()
    assert colour_sweep(today=D(2026, 10, 7)) == 1
    assert case.referrals.get().colour == Colour.BLUE


@pytest.mark.django_db
def test_a_colour_reached_again_after_an_extension_is_not_announced_twice(
    county_map: Any, personas: Any
) -> None:
    import time_machine

    from referrals.services.cases import referral_extend

    from .test_colours import at

    (case,) = _open(county_map, personas)
    _contact(county_map.dept_civil)
    assert colour_sweep(today=D(2026, 10, 8)) == 1  # blue
    referral = case.referrals.get()
    with time_machine.travel(at(D(2026, 10, 8), 10), tick=False):
        referral_extend(actor=personas.assistant_a, referral_id=referral.pk, days=1, reason="补充材料")
    referral.refresh_from_db()
    assert (referral.due_date, referral.colour) == (D(2026, 10, 10), Colour.NONE)  # a make-up Saturday
    assert colour_sweep(today=D(2026, 10, 9)) == 1  # blue again (r = 1 <= 1.5)
    assert Notification.objects.filter(colour="blue", audience="department").count() == 1
    sms = list(SmsMessage.objects.order_by("pk").values_list("params", flat=True))
    assert sms == [{"red": "0", "yellow": "0", "blue": "1"}]  # the second blue told nobody again


@pytest.mark.django_db
@pytest.mark.parametrize(("fraction", "yellow"), [(1.0, 1), (0.3, 2), (0.0, 0)])
def test_the_sweep_agrees_with_the_rule_under_other_thresholds(
    county_map: Any, personas: Any, fraction: float, yellow: int
) -> None:
    from django.test import override_settings

    from referrals.colours import colour_for

    cases = _open(county_map, personas, n=1)
    referral = cases[0].referrals.get()
    with override_settings(REFERRAL_BLUE_FRACTION=fraction, REFERRAL_YELLOW_DAYS_LEFT=yellow):
        day = D(2026, 9, 30)
        while day <= D(2026, 10, 12):
            colour_sweep(today=day)
            referral.refresh_from_db()
            want = colour_for(allotted=2, due_date=referral.due_date, today=day)
            assert referral.colour == want, (day, referral.colour, want)
            day += dt.timedelta(days=1)
