"""The rolls' one way to change: start, gradual exit, end; the race, scope and history."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.http import Http404

from applications.models import Household
from assist_center.errors import ApplicationError, ConflictError
from assist_center.models import AuditEvent
from benefits.models import Enrolment, EnrolmentEvent
from benefits.selectors import enrolment_get, enrolment_list_visible_to
from benefits.services.enrolments import (
    enrolment_begin_exit,
    enrolment_end,
    enrolment_revoke_exit,
    enrolment_start,
)
from tests import factories as f

S = Enrolment.State
TODAY = dt.datetime(2026, 9, 14, 9, 0, tzinfo=dt.UTC)


def start(household: Household, actor: Any = None, **kw: Any) -> Enrolment:
    args: dict[str, Any] = {
        "item": "dibao",
        "since": dt.date(2026, 1, 1),
        "source": Enrolment.Source.GRANTED_OUTCOME,
        "monthly_amount": Decimal("850.00"),
        "source_ref": "outcome:1",
    } | kw
    return enrolment_start(actor=actor, household_id=household.pk, **args)


def test_a_start_enrols_the_household_with_its_event_and_audit(county_map: Any, personas: Any) -> None:
    home = f.household(county_map.village_a1)
    e = start(home, personas.assistant_a)
    assert (e.state, e.township, e.monthly_amount, e.created_by) == (
        S.ACTIVE,
        county_map.town_a,
        Decimal("850.00"),
        personas.assistant_a,
    )
    home.refresh_from_db()
    assert home.is_enrolled
    assert list(e.events.values_list("kind", "new_state")) == [("started", "active")]
    assert AuditEvent.objects.filter(
        action="enrolment.start", subject_id=str(e.pk), actor=personas.assistant_a
    ).exists()


def test_starting_the_same_outcome_again_returns_the_open_enrolment(county_map: Any) -> None:
    home = f.household(county_map.village_a1)
    assert start(home) == start(home)
    assert Enrolment.objects.count() == 1 and EnrolmentEvent.objects.count() == 1


def test_a_second_open_enrolment_of_the_same_item_is_a_conflict(county_map: Any) -> None:
    home = f.household(county_map.village_a1)
    start(home)
    with pytest.raises(ConflictError):
        start(home, source_ref="outcome:2")
    # Another item, or a person's own item, is a separate row of the rolls.
    start(home, item="medical", source_ref="outcome:3")
    start(home, person_id=home.members.get().pk, source_ref="outcome:4")
    assert Enrolment.objects.count() == 3


def test_an_assistants_entry_needs_a_reason_and_an_amount_or_kind(county_map: Any, personas: Any) -> None:
    home = f.household(county_map.village_a1)
    with pytest.raises(ApplicationError) as no_reason:
        start(home, personas.assistant_a, source=Enrolment.Source.ASSISTANT_ENTRY, source_ref="")
    assert "reason" in no_reason.value.extra["fields"]
    with pytest.raises(ApplicationError) as no_amount:
        start(home, monthly_amount=None, kind="")
    assert "monthly_amount" in no_amount.value.extra["fields"]
    e = start(
        home,
        personas.assistant_a,
        source=Enrolment.Source.ASSISTANT_ENTRY,
        source_ref="",
        reason="纸质档案补录",
        monthly_amount=None,
        kind="米面油",
    )
    assert e.reason == "纸质档案补录" and e.kind == "米面油"


def test_another_townships_assistant_gets_404_and_a_cadre_403(county_map: Any, personas: Any) -> None:
    home = f.household(county_map.village_a1)
    with pytest.raises(Http404):
        start(home, personas.assistant_b)
    with pytest.raises(PermissionDenied):
        start(home, personas.cadre_a1)
    e = start(home)
    with pytest.raises(Http404):
        enrolment_begin_exit(
            actor=personas.assistant_b, enrolment_id=e.pk, grace_end=dt.date.today(), reason="x"
        )
    with pytest.raises(Http404):
        enrolment_get(user=personas.assistant_b, enrolment_id=e.pk)
    assert enrolment_get(user=personas.assistant_a, enrolment_id=e.pk) == e
    assert list(enrolment_list_visible_to(user=personas.cadre_a1)) == [e]
    assert not enrolment_list_visible_to(user=personas.dept_civil).exists()
    e.refresh_from_db()
    assert e.state == S.ACTIVE


@time_machine.travel(TODAY, tick=False)
def test_exit_then_end_keeps_every_step_and_unsets_is_enrolled(county_map: Any, personas: Any) -> None:
    home = f.household(county_map.village_a1)
    e = start(home)
    enrolment_begin_exit(
        actor=personas.assistant_a,
        enrolment_id=e.pk,
        grace_end=dt.date(2026, 12, 31),
        reason="家庭购车，收入超标",
        warning_id=7,
    )
    e.refresh_from_db()
    assert (e.state, e.grace_end) == (S.GRADUAL_EXIT, dt.date(2026, 12, 31))
    enrolment_end(
        actor=personas.assistant_a,
        enrolment_id=e.pk,
        ended_on=dt.date(2026, 10, 1),
        why=Enrolment.EndReason.DECEASED,
    )
    e.refresh_from_db()
    assert (e.state, e.ended_on, e.end_reason) == (S.ENDED, dt.date(2026, 10, 1), "deceased")
    assert list(e.events.values_list("kind", "old_state", "new_state")) == [
        ("started", "", "active"),
        ("exit_begun", "active", "gradual_exit"),
        ("ended", "gradual_exit", "ended"),
    ]
    assert e.events.get(kind="exit_begun").data == {"warning": 7}
    home.refresh_from_db()
    assert not home.is_enrolled
    with pytest.raises(ConflictError):
        enrolment_begin_exit(actor=None, enrolment_id=e.pk, grace_end=dt.date(2026, 12, 31), reason="x")
    with pytest.raises(ValueError):
        e.events.first().save()  # type: ignore[union-attr]


@time_machine.travel(TODAY, tick=False)
def test_an_exit_needs_a_reason_and_a_grace_end_from_today(county_map: Any) -> None:
    e = start(f.household(county_map.village_a1))
    with pytest.raises(ApplicationError) as past:
        enrolment_begin_exit(actor=None, enrolment_id=e.pk, grace_end=dt.date(2026, 9, 13), reason="x")
    assert "grace_end" in past.value.extra["fields"]
    with pytest.raises(ApplicationError):
        enrolment_begin_exit(actor=None, enrolment_id=e.pk, grace_end=dt.date(2026, 9, 14), reason=" ")
    enrolment_begin_exit(actor=None, enrolment_id=e.pk, grace_end=dt.date(2026, 9, 14), reason="x")
    enrolment_revoke_exit(actor=None, enrolment_id=e.pk, reason="核实后收入未超标")
    e.refresh_from_db()
    assert (e.state, e.grace_end) == (S.ACTIVE, None)


@pytest.mark.django_db(transaction=True)
def test_two_assistants_starting_an_exit_at_once_one_wins_the_other_gets_409(
    county_map: Any, personas: Any
) -> None:
    e = start(f.household(county_map.village_a1))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    soon = dt.date.today()

    def begin(actor: Any, grace_end: dt.date) -> None:
        try:
            barrier.wait()
            enrolment_begin_exit(actor=actor, enrolment_id=e.pk, grace_end=grace_end, reason="收入超标")
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("409")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=begin, args=(personas.assistant_a, soon + dt.timedelta(days=30))),
        threading.Thread(target=begin, args=(personas.coordinator, soon + dt.timedelta(days=60))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409", "ok"]
    assert EnrolmentEvent.objects.filter(enrolment=e, kind="exit_begun").count() == 1
    assert AuditEvent.objects.filter(action="enrolment.exit_begun").count() == 1
