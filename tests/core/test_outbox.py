"""The outbox: written in the caller's transaction, published after commit, swept when that failed.

A throwaway redis-server per module is the broker, so what was published can be read back (and a
real worker can consume it) without touching the shared Redis or another test process's queue.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone

from assist_center import outbox
from assist_center.models import AuditEvent, OutboxMessage

from .test_redis_outage import RedisServer, broker_at, celery_worker, wait_until

PING = "assist_center.tasks.ping"


@pytest.fixture(scope="module")
def broker_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        with broker_at(server.url):
            yield server
    finally:
        server.stop()


@pytest.fixture
def broker(broker_server: RedisServer) -> RedisServer:
    client = redis.Redis(host="127.0.0.1", port=broker_server.port)
    client.flushall()
    client.close()
    return broker_server


def published(server: RedisServer) -> list[dict[str, Any]]:
    """(task name, kwargs, outbox id) of each message waiting in the default queue, oldest first."""
    out = []
    for raw in reversed(server.queued()):  # kombu LPUSHes: the list's tail is the oldest
        envelope = json.loads(raw)
        headers = envelope["headers"]
        out.append(
            {"task": headers["task"], "kwargsrepr": headers["kwargsrepr"], "outbox_id": headers["outbox_id"]}
        )
    return out


def _age(message: OutboxMessage, seconds: float) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=seconds)
    )


# --- enqueue -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_enqueue_writes_a_row_and_publishes_only_after_commit(broker: RedisServer) -> None:
    with transaction.atomic():
        message = outbox.enqueue(PING, kwargs={"marker": "commit-1"})
        assert OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.PENDING).exists()
        assert published(broker) == []

    assert published(broker) == [
        {"task": PING, "kwargsrepr": "{'marker': 'commit-1'}", "outbox_id": message.pk}
    ]
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.sent_at is not None
    assert message.attempts == 1
    assert message.kwargs == {"marker": "commit-1"}


@pytest.mark.django_db(transaction=True)
def test_rolled_back_enqueue_leaves_no_row_and_publishes_nothing(broker: RedisServer) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue(PING, kwargs={"marker": "rollback-1"})
        raise RuntimeError("the submission failed")

    assert not OutboxMessage.objects.exists()
    assert published(broker) == []


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_publishes_at_once(broker: RedisServer) -> None:
    message = outbox.enqueue(PING, kwargs={"marker": "autocommit-1"})
    assert [m["outbox_id"] for m in published(broker)] == [message.pk]


@pytest.mark.django_db(transaction=True)
def test_same_dedupe_key_twice_makes_one_row_and_one_publish(broker: RedisServer) -> None:
    with transaction.atomic():
        first = outbox.enqueue(PING, kwargs={"marker": "dedupe-1"}, dedupe_key="ping:dedupe-1")
        again = outbox.enqueue(PING, kwargs={"marker": "dedupe-1"}, dedupe_key="ping:dedupe-1")
    later = outbox.enqueue(PING, kwargs={"marker": "dedupe-1"}, dedupe_key="ping:dedupe-1")

    assert first.pk == again.pk == later.pk
    assert OutboxMessage.objects.count() == 1
    assert [m["outbox_id"] for m in published(broker)] == [first.pk]


@pytest.mark.django_db
def test_duplicate_key_does_not_break_the_callers_transaction() -> None:
    # ON CONFLICT DO NOTHING: no IntegrityError that would abort the caller's transaction.
    with transaction.atomic():
        outbox.enqueue(PING, kwargs={"marker": "x"}, dedupe_key="k")
        outbox.enqueue(PING, kwargs={"marker": "x"}, dedupe_key="k")
        assert OutboxMessage.objects.count() == 1


@pytest.mark.parametrize(
    "value",
    ["13800138000", "+86 138 0013 8000", "110105199001010010", "身份证11010519900101007X", 13800138000],
)
def test_personal_data_in_task_arguments_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="looks like personal data") as exc_info:
        outbox.enqueue(PING, kwargs={"marker": value})
    assert str(value) not in str(exc_info.value)


@pytest.mark.parametrize("value", [{"id": 1}, [1, 2], object()])
def test_non_scalar_task_arguments_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="JSON scalar"):
        outbox.enqueue(PING, kwargs={"marker": value})


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_published_task(broker: RedisServer) -> None:
    with transaction.atomic():
        outbox.enqueue(PING, kwargs={"marker": "worker-1"})
    with celery_worker():
        assert wait_until(lambda: AuditEvent.objects.filter(idempotency_key="ping:worker-1").exists())


@pytest.mark.django_db
def test_ping_task_is_idempotent() -> None:
    from assist_center.tasks import ping

    ping("twice-1")
    ping("twice-1")
    assert AuditEvent.objects.filter(idempotency_key="ping:twice-1").count() == 1


# --- sweeping ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_sweeper_resends_an_old_pending_row_and_leaves_fresh_ones(broker: RedisServer) -> None:
    stuck = OutboxMessage.objects.create(task_name=PING, kwargs={"marker": "stuck"})
    fresh = OutboxMessage.objects.create(task_name=PING, kwargs={"marker": "fresh"})
    _age(stuck, 60)

    assert outbox.sweep_pending(older_than_seconds=10) == 1

    assert [m["outbox_id"] for m in published(broker)] == [stuck.pk]
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == OutboxMessage.Status.SENT
    assert fresh.status == OutboxMessage.Status.PENDING
    # Sent rows are not sent again.
    assert outbox.sweep_pending(older_than_seconds=0) == 1
    assert outbox.sweep_pending(older_than_seconds=0) == 0
    assert len(published(broker)) == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweepers_do_not_send_a_row_twice(
    broker: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [OutboxMessage.objects.create(task_name=PING, kwargs={"marker": f"c{i}"}) for i in range(3)]
    for row in rows:
        _age(row, 60)

    first_is_sending = threading.Event()
    let_first_finish = threading.Event()
    real_send = outbox._send
    calls: list[int] = []

    def slow_send(message: OutboxMessage, conn: Any) -> None:
        calls.append(message.pk)
        if len(calls) == 1:
            # Hold the first sweeper in the middle of its pass, its rows locked.
            first_is_sending.set()
            assert let_first_finish.wait(10)
        real_send(message, conn)

    monkeypatch.setattr(outbox, "_send", slow_send)
    results: dict[str, int] = {}

    def first_sweeper() -> None:
        try:
            results["first"] = outbox.sweep_pending(older_than_seconds=0)
        finally:
            connection.close()

    thread = threading.Thread(target=first_sweeper)
    thread.start()
    try:
        assert first_is_sending.wait(10)
        results["second"] = outbox.sweep_pending(older_than_seconds=0)
        # The after-commit hand-off of a row that a sweeper holds is skipped the same way.
        assert outbox.publish(rows[0].pk) is False
    finally:
        let_first_finish.set()
        thread.join(20)

    assert results == {"first": 3, "second": 0}
    assert sorted(calls) == sorted(r.pk for r in rows)
    assert sorted(m["outbox_id"] for m in published(broker)) == sorted(r.pk for r in rows)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxMessage.Status.SENT}


@pytest.mark.django_db(transaction=True)
def test_sweep_stops_at_the_first_broker_failure() -> None:
    from .test_redis_outage import free_port

    rows = [OutboxMessage.objects.create(task_name=PING, kwargs={"marker": f"d{i}"}) for i in range(3)]
    for row in rows:
        _age(row, 60)
    with broker_at(f"redis://127.0.0.1:{free_port()}/0"):
        assert outbox.sweep_pending(older_than_seconds=0) == 0
    attempts = sorted(OutboxMessage.objects.values_list("attempts", flat=True))
    assert attempts == [0, 0, 1]


@pytest.mark.django_db
def test_purge_sent_deletes_only_old_sent_rows() -> None:
    old_sent = OutboxMessage.objects.create(
        task_name=PING, status=OutboxMessage.Status.SENT, sent_at=timezone.now() - dt.timedelta(days=8)
    )
    new_sent = OutboxMessage.objects.create(
        task_name=PING, status=OutboxMessage.Status.SENT, sent_at=timezone.now() - dt.timedelta(days=1)
    )
    old_pending = OutboxMessage.objects.create(task_name=PING)
    _age(old_pending, 30 * 86400)

    assert outbox.purge_sent() == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {new_sent.pk, old_pending.pk}
    assert not OutboxMessage.objects.filter(pk=old_sent.pk).exists()


# --- admin -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_coordinator_resends_a_message_from_the_admin(broker: RedisServer, personas: Any, login: Any) -> None:
    message = OutboxMessage.objects.create(
        task_name=PING, kwargs={"marker": "admin-1"}, status=OutboxMessage.Status.SENT, sent_at=timezone.now()
    )
    response = login(personas.coordinator).post(
        "/admin/assist_center/outboxmessage/",
        {"action": "resend_now", "_selected_action": [message.pk]},
    )
    assert response.status_code == 302
    assert [m["outbox_id"] for m in published(broker)] == [message.pk]
    event = AuditEvent.objects.get(action="outbox.resend")
    assert event.actor == personas.coordinator
    assert event.subject_id == str(message.pk)


@pytest.mark.django_db
def test_outbox_admin_is_the_coordinators_only(personas: Any, login: Any) -> None:
    OutboxMessage.objects.create(
        task_name=PING, kwargs={"marker": "m"}, last_error="OperationalError: refused"
    )
    ok = login(personas.coordinator).get("/admin/assist_center/outboxmessage/?status__exact=pending")
    assert ok.status_code == 200
    assert "OperationalError" in ok.content.decode()
    for persona in (personas.assistant_a, personas.dept_civil, personas.auditor):
        assert login(persona).get("/admin/assist_center/outboxmessage/").status_code == 403


# --- the periodic tasks ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_outbox_sweep_task_resends_and_purges(broker: RedisServer) -> None:
    from assist_center.tasks import outbox_sweep

    stuck = OutboxMessage.objects.create(task_name=PING, kwargs={"marker": "task-sweep"})
    _age(stuck, 60)
    OutboxMessage.objects.create(
        task_name=PING, status=OutboxMessage.Status.SENT, sent_at=timezone.now() - dt.timedelta(days=30)
    )
    assert outbox_sweep() == 1
    assert list(OutboxMessage.objects.values_list("pk", "status")) == [(stuck.pk, OutboxMessage.Status.SENT)]


@pytest.mark.django_db
def test_calendar_check_task_delegates_to_the_workday_module(monkeypatch: pytest.MonkeyPatch) -> None:
    from assist_center import workdays
    from assist_center.tasks import calendar_check_next_year

    monkeypatch.setattr(workdays, "calendar_check_next_year", lambda: "checked")
    assert calendar_check_next_year() == "checked"
