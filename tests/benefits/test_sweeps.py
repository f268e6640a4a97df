"""Grace end and the township's reminder, with controlled time and two beats."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connections

from assist_center.models import AuditEvent, SmsMessage
from assist_center.pii import phone_index
from benefits.models import Enrolment, RollTask, TownshipContact
from benefits.services.enrolments import enrolment_begin_exit, enrolment_start
from benefits.services.sweeps import grace_end_sweep, grace_reminder_sweep
from tests import factories as f


def at(day: dt.date) -> dt.datetime:
    # 09:00 in Shanghai
    return dt.datetime(day.year, day.month, day.day, 1, 0, tzinfo=dt.UTC)


def exiting(county_map: Any, grace_end: dt.date, village: Any = None) -> Enrolment:
    home = f.household(village or county_map.village_a1)
    e = enrolment_start(
        actor=None,
        household_id=home.pk,
        item="dibao",
        since=dt.date(2025, 1, 1),
        source=Enrolment.Source.GRANTED_OUTCOME,
        monthly_amount=Decimal("850"),
        source_ref=f"o{home.pk}",
    )
    with time_machine.travel(at(dt.date(2026, 9, 1)), tick=False):
        return enrolment_begin_exit(actor=None, enrolment_id=e.pk, grace_end=grace_end, reason="收入超标")


def test_an_exit_ends_the_day_after_its_grace_end_audited_as_the_persons_decision(county_map: Any) -> None:
    e = exiting(county_map, dt.date(2026, 9, 30))
    with time_machine.travel(at(dt.date(2026, 9, 30)), tick=False):
        assert grace_end_sweep() == 0
    with time_machine.travel(at(dt.date(2026, 10, 1)), tick=False):
        assert grace_end_sweep() == 1
        assert grace_end_sweep() == 0
    e.refresh_from_db()
    assert (e.state, e.ended_on, e.end_reason) == ("ended", dt.date(2026, 9, 30), "grace_ended")
    event = AuditEvent.objects.get(action="enrolment.ended", subject_id=str(e.pk))
    assert event.actor is None and event.reason


@pytest.mark.django_db(transaction=True)
def test_two_beats_ending_exits_at_once_end_each_once(county_map: Any) -> None:
    for _ in range(4):
        exiting(county_map, dt.date(2026, 9, 30))
    barrier = threading.Barrier(2)
    ended: list[int] = []

    def beat() -> None:
        try:
            barrier.wait()
            with time_machine.travel(at(dt.date(2026, 10, 2)), tick=False):
                ended.append(grace_end_sweep())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(ended) == 4
    assert Enrolment.objects.filter(state="ended").count() == 4
    assert AuditEvent.objects.filter(action="enrolment.ended").count() == 4


def test_the_township_is_reminded_five_working_days_before_once(county_map: Any) -> None:
    # 2026-10-01..07 are the National Day holidays: working days skip them.
    e = exiting(county_map, dt.date(2026, 10, 12))
    other = exiting(county_map, dt.date(2026, 10, 12), county_map.village_b1)
    TownshipContact.objects.create(
        township=county_map.town_a, phone="13800138000", phone_hash=phone_index("+8613800138000")
    )
    with time_machine.travel(at(dt.date(2026, 9, 28)), tick=False):
        assert grace_reminder_sweep() == 0
    with time_machine.travel(at(dt.date(2026, 9, 30)), tick=False):
        assert grace_reminder_sweep() == 2
        assert grace_reminder_sweep() == 0
    with time_machine.travel(at(dt.date(2026, 10, 9)), tick=False):
        assert grace_reminder_sweep() == 0
    task = RollTask.objects.get(enrolment=e)
    assert (task.kind, task.township, task.due_date, task.status) == (
        "grace_ending",
        county_map.town_a,
        dt.date(2026, 10, 12),
        "open",
    )
    assert RollTask.objects.get(enrolment=other).township == county_map.town_b
    sms = SmsMessage.objects.get()
    assert (sms.template, sms.params) == ("grace_ending", {"count": "1", "date": "2026-10-12"})
    assert AuditEvent.objects.filter(action="enrolment.grace_reminder").count() == 2


def test_a_handled_reminder_is_not_raised_again(county_map: Any) -> None:
    exiting(county_map, dt.date(2026, 9, 18))
    with time_machine.travel(at(dt.date(2026, 9, 14)), tick=False):
        assert grace_reminder_sweep() == 1
    RollTask.objects.update(status="done")
    with time_machine.travel(at(dt.date(2026, 9, 15)), tick=False):
        assert grace_reminder_sweep() == 0


@pytest.mark.django_db(transaction=True)
def test_two_beats_reminding_at_once_create_each_task_once(county_map: Any) -> None:
    for _ in range(3):
        exiting(county_map, dt.date(2026, 9, 18))
    TownshipContact.objects.create(
        township=county_map.town_a, phone="13800138000", phone_hash=phone_index("+8613800138000")
    )
    barrier = threading.Barrier(2)
    made: list[int] = []

    def beat() -> None:
        try:
            barrier.wait()
            with time_machine.travel(at(dt.date(2026, 9, 14)), tick=False):
                made.append(grace_reminder_sweep())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(made) == 3 and RollTask.objects.count() == 3
    assert SmsMessage.objects.count() == 1
