"""Application statuses move only along the table, one winner when two people act at once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from applications.models import Application
from applications.services.transitions import ALLOWED, application_transition
from assist_center.errors import ApplicationError, ConflictError
from assist_center.models import AuditEvent

from ..factories import ApplicationFactory

S = Application.Status
OPEN = set(Application.OPEN_STATUSES)

EXPECTED_ALLOWED = {
    (S.SUBMITTED, S.AWAITING_AUTHORISATION),
    (S.AWAITING_AUTHORISATION, S.AUTHORISED),
    (S.AUTHORISED, S.VERIFYING),
    (S.VERIFYING, S.UNDER_REVIEW),
    (S.UNDER_REVIEW, S.DECIDED),
    *((s, S.WITHDRAWN) for s in OPEN),
    *((s, S.REJECTED) for s in (S.AWAITING_AUTHORISATION, S.AUTHORISED, S.VERIFYING, S.UNDER_REVIEW)),
}


def test_the_table_is_the_one_in_the_issue() -> None:
    actual = {(old, new) for old, targets in ALLOWED.items() for new in targets}
    assert actual == EXPECTED_ALLOWED


@pytest.mark.parametrize("old", list(S))
@pytest.mark.parametrize("new", list(S))
def test_every_pair_is_allowed_or_refused_with_a_409(
    county_map: Any, personas: Any, old: str, new: str
) -> None:
    application = ApplicationFactory.create(village=county_map.village_a1, assistant=personas.assistant_a)
    Application.objects.filter(pk=application.pk).update(status=old)
    reason = "家属要求撤回" if new in (S.WITHDRAWN, S.REJECTED) else ""
    if (old, new) in EXPECTED_ALLOWED:
        moved = application_transition(application_id=application.pk, to=new, actor=personas.assistant_a,
                                       reason=reason)  # fmt: skip
        assert moved.status == new
        application.refresh_from_db()
        assert application.status == new
        event = (
            AuditEvent.objects.filter(action="application.status", subject_id=str(application.pk))
            .order_by("pk")
            .last()
        )
        assert event is not None
        assert (event.old_values, event.new_values) == ({"status": old}, {"status": new})
        assert event.actor == personas.assistant_a and event.reason == reason
    else:
        with pytest.raises(ConflictError) as exc:
            application_transition(application_id=application.pk, to=new, actor=personas.assistant_a,
                                   reason=reason)  # fmt: skip
        assert exc.value.status == 409
        assert "已不能变更为" in str(exc.value.message)
        application.refresh_from_db()
        assert application.status == old


@pytest.mark.parametrize("to", [S.REJECTED, S.WITHDRAWN])
def test_rejecting_or_withdrawing_needs_a_reason(county_map: Any, personas: Any, to: str) -> None:
    application = ApplicationFactory.create(village=county_map.village_a1, assistant=personas.assistant_a)
    with pytest.raises(ApplicationError) as exc:
        application_transition(application_id=application.pk, to=to, actor=personas.assistant_a, reason="  ")
    assert exc.value.extra == {"fields": {"reason": "请填写原因。"}}


def test_authorising_records_the_time(county_map: Any, personas: Any) -> None:
    application = ApplicationFactory.create(village=county_map.village_a1, assistant=personas.assistant_a)
    moved = application_transition(application_id=application.pk, to=S.AUTHORISED, actor=None)
    assert moved.authorised_at is not None
    assert AuditEvent.objects.filter(action="application.status", actor_label="system").exists()


def test_unknown_status_and_missing_application(county_map: Any, personas: Any) -> None:
    application = ApplicationFactory.create(village=county_map.village_a1, assistant=personas.assistant_a)
    with pytest.raises(ApplicationError) as exc:
        application_transition(application_id=application.pk, to="approved", actor=None)
    assert exc.value.status == 400
    with pytest.raises(ApplicationError) as exc:
        application_transition(application_id=application.pk + 1000, to=S.AUTHORISED, actor=None)
    assert exc.value.status == 404


@pytest.mark.django_db(transaction=True)
def test_two_people_moving_one_application_at_once_one_wins(county_map: Any, personas: Any) -> None:
    application = ApplicationFactory.create(village=county_map.village_a1, assistant=personas.assistant_a)
    Application.objects.filter(pk=application.pk).update(status=S.VERIFYING)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def act(to: str) -> None:
        try:
            barrier.wait(timeout=10)
            application_transition(application_id=application.pk, to=to, actor=personas.assistant_a,
                                   reason="两人同时操作")  # fmt: skip
            results.append("ok")
        except ConflictError:
            results.append("409")
        finally:
            connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=act, args=(to,)) for to in (S.UNDER_REVIEW, S.UNDER_REVIEW)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["409", "ok"]
    application.refresh_from_db()
    assert application.status == S.UNDER_REVIEW
    assert (
        AuditEvent.objects.filter(action="application.status", new_values__status=S.UNDER_REVIEW).count() == 1
    )


@pytest.mark.django_db(transaction=True)
def test_withdraw_racing_review_one_wins(county_map: Any, personas: Any) -> None:
    application = ApplicationFactory.create(village=county_map.village_a1, assistant=personas.assistant_a)
    Application.objects.filter(pk=application.pk).update(status=S.UNDER_REVIEW)
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def act(to: str) -> None:
        try:
            barrier.wait(timeout=10)
            application_transition(application_id=application.pk, to=to, actor=None, reason="同时")
            results[to] = "ok"
        except ConflictError:
            results[to] = "409"
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(to,)) for to in (S.DECIDED, S.WITHDRAWN)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results.values()) == ["409", "ok"]
    application.refresh_from_db()
    assert results[application.status] == "ok"
