"""Transactional outbox: Celery work is written with the data it belongs to, then handed to the broker.

Delivery is at-least-once. A row is published after its transaction commits; if that hand-off fails
(Redis down, process killed between commit and publish), the row stays pending and the sweeper sends
it again. A task can therefore arrive twice (a sweep racing a slow hand-off, Redis redelivering after
its visibility timeout, a worker killed mid-task): every task must be idempotent.

Publishing never blocks a web request for long: it uses its own broker connection with a one-second
socket timeout and no retries, and a failure is recorded on the row instead of raised.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from assist_center.audit import audit_record
from assist_center.celery import app as celery_app
from assist_center.models import OutboxMessage
from assist_center.redaction import redact

from .actors import Actor

logger = logging.getLogger(__name__)

JsonScalar = str | int | float | bool | None

# Overrides CELERY_BROKER_TRANSPORT_OPTIONS for the connection used to publish: a dead broker must
# cost a request at most about a second (connection refused is immediate; a silent host or a hung
# Redis hits the socket timeouts), and retrying is the sweeper's job, not the request's.
PUBLISH_TRANSPORT_OPTIONS: dict[str, Any] = {
    "max_retries": 0,
    "socket_connect_timeout": 1,
    "socket_timeout": 1,
}
# After a broker failure, this process leaves new rows to the sweeper for this long instead of
# trying: a request that enqueues several tasks, and the requests right behind it, wait on a dead
# broker once rather than once per task. Per process and advisory: correctness rests on the sweeper.
BROKER_HOLD_OFF_SECONDS = 3.0
_hold_off = {"until": 0.0}
_HELD_OFF = "Broker unavailable a moment ago; left for the sweeper."
# Sent rows are kept this long for the admin and for deduplication, then purged by the sweep task.
KEEP_SENT = timedelta(days=7)
_MAX_ERROR = 500
_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
# What the broker raises when it cannot be reached: the rest of a sweep pass would fail the same way.
# (Celery re-raises the transport's connection errors as kombu's OperationalError.)
_BROKER_DOWN: tuple[type[BaseException], ...] = (KombuOperationalError, OSError)


class _PublishFailed(Exception):
    """Publishing one row failed; the cause is chained and already recorded on the row."""


def _check_kwargs(kwargs: Mapping[str, Any]) -> dict[str, JsonScalar]:
    """Refuse anything but JSON scalars, and anything shaped like an ID number or phone (it reaches Redis)."""
    checked: dict[str, JsonScalar] = {}
    for key, value in kwargs.items():
        if not isinstance(key, str):
            raise ValueError("Task argument names must be strings.")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ValueError(f"Task argument {key!r} must be a JSON scalar (pass ids, not objects).")
        if redact(str(value)) != str(value):
            # The value is deliberately not echoed: it is personal data.
            raise ValueError(f"Task argument {key!r} looks like personal data; pass an id instead.")
        checked[key] = value
    return checked


def enqueue(
    task_name: str, *, kwargs: Mapping[str, JsonScalar], dedupe_key: str | None = None
) -> OutboxMessage:
    """Write an outbox row in the current transaction and publish it once that transaction commits.

    With `dedupe_key`, a second call with the same key (in any transaction, concurrent or later, while
    the first row is kept) returns the existing row and publishes nothing new.
    """
    checked = _check_kwargs(kwargs)
    # savepoint=False: inside the caller's transaction this adds nothing; outside one it makes the
    # insert and the on_commit registration a transaction of their own.
    with transaction.atomic(savepoint=False):
        if dedupe_key is None:
            message = OutboxMessage.objects.create(task_name=task_name, kwargs=checked)
        else:
            inserted_id = _insert_unless_duplicate(task_name, checked, dedupe_key)
            if inserted_id is None:
                return OutboxMessage.objects.get(dedupe_key=dedupe_key)
            message = OutboxMessage.objects.get(pk=inserted_id)
        # robust: nothing the hand-off does may turn a committed request into an error page.
        transaction.on_commit(partial(publish, message.pk), robust=True)
    return message


def _insert_unless_duplicate(task_name: str, kwargs: dict[str, JsonScalar], dedupe_key: str) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING: unlike get_or_create, a concurrent duplicate waits for the
    other transaction and then yields, without an IntegrityError aborting the caller's transaction."""
    table = OutboxMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (task_name, kwargs, status, dedupe_key, attempts, last_error, created_at)
            VALUES (%s, %s::jsonb, %s, %s, 0, '', %s)
            ON CONFLICT (dedupe_key) DO NOTHING
            RETURNING id
            """,  # noqa: S608 - the table name comes from the model, values are parameters
            [task_name, json.dumps(kwargs), OutboxMessage.Status.PENDING, dedupe_key, timezone.now()],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _describe(exc: BaseException) -> str:
    """A short error text for the row and the admin: no broker URL, no personal data."""
    return redact(_URL.sub("[url]", f"{type(exc).__name__}: {exc}"))[:_MAX_ERROR]


def _send(message: OutboxMessage, conn: Any) -> None:
    celery_app.send_task(
        message.task_name,
        kwargs=message.kwargs,
        headers={"outbox_id": message.pk},
        connection=conn,
        # Celery's own publish retry would wait on a dead broker; the sweeper retries instead.
        retry=False,
    )


def _publish_locked(message: OutboxMessage, conn: Any) -> bool:
    """Send one row that the caller holds locked; record the outcome on it. Never raises broker errors."""
    try:
        _send(message, conn)
    except Exception as exc:
        OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.PENDING).update(
            attempts=F("attempts") + 1, last_error=_describe(exc)
        )
        logger.warning(
            "outbox: publishing message %s (%s) failed: %s", message.pk, message.task_name, _describe(exc)
        )
        raise _PublishFailed from exc
    # Conditional: a row that someone else already marked sent is not counted twice.
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )
    return True


def _connection() -> Any:
    return celery_app.connection_for_write(transport_options=PUBLISH_TRANSPORT_OPTIONS)


def _broker_held_off() -> bool:
    return time.monotonic() < _hold_off["until"]


def reset_hold_off() -> None:
    """Forget a recent broker failure (tests, and after an operator fixed the broker)."""
    _hold_off["until"] = 0.0


def publish(message_id: int, *, hold_off: bool = True) -> bool:
    """Hand one pending row to the broker; True if sent now. A failure is recorded, not raised.

    Runs after the enqueuing transaction commits. The row is locked with SKIP LOCKED, so a sweeper
    working on the same row at this moment makes this call a no-op rather than a second send.
    Within BROKER_HOLD_OFF_SECONDS of a broker failure in this process, the row is left to the
    sweeper without trying (unless `hold_off=False`).
    """
    if hold_off and _broker_held_off():
        OutboxMessage.objects.filter(
            pk=message_id, status=OutboxMessage.Status.PENDING, last_error=""
        ).update(last_error=_HELD_OFF)
        return False
    try:
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=message_id, status=OutboxMessage.Status.PENDING)
                .first()
            )
            if message is None:
                return False
            with _connection() as conn:
                try:
                    sent = _publish_locked(message, conn)
                except _PublishFailed as exc:
                    if isinstance(exc.__cause__, _BROKER_DOWN):
                        _hold_off["until"] = time.monotonic() + BROKER_HOLD_OFF_SECONDS
                    return False
        reset_hold_off()
        return sent
    except Exception:
        # The database itself failed (the row stays pending; the sweeper will find it).
        logger.exception("outbox: could not publish message %s", message_id)
        return False


def sweep_pending(older_than_seconds: float = 10, limit: int = 500) -> int:
    """Re-publish pending rows older than `older_than_seconds`; return how many were sent.

    The age gap leaves fresh rows to their own after-commit hand-off. Rows are locked with
    SKIP LOCKED for the whole pass, so two sweepers (two beat schedulers, or a slow pass overlapping
    the next) never send the same row in one pass. The pass stops at the first broker failure: the
    broker is down and every further row would wait for the same timeout.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    sent = 0
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=OutboxMessage.Status.PENDING, created_at__lte=cutoff)
            .order_by("id")[:limit]
        )
        if not rows:
            return 0
        with _connection() as conn:
            for message in rows:
                try:
                    _publish_locked(message, conn)
                except _PublishFailed as exc:
                    if isinstance(exc.__cause__, _BROKER_DOWN):
                        break
                    continue
                sent += 1
    if sent:
        logger.info("outbox: sweep re-sent %s message(s)", sent)
    return sent


def purge_sent(*, older_than: timedelta = KEEP_SENT, limit: int = 5000) -> int:
    """Delete sent rows older than `older_than`, at most `limit` per call; return how many."""
    cutoff = timezone.now() - older_than
    ids = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT, sent_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    if not ids:
        return 0
    deleted, _ = OutboxMessage.objects.filter(pk__in=ids, status=OutboxMessage.Status.SENT).delete()
    return deleted


def outbox_resend(*, message_ids: Iterable[int], actor: Actor) -> int:
    """Mark rows pending again and publish them now (an operator's "re-send"); return how many were sent.

    Also for rows already sent: a Redis restart without persistence loses queued tasks that the
    outbox counts as sent. Safe because tasks are idempotent.
    """
    ids = sorted(set(message_ids))
    with transaction.atomic():
        OutboxMessage.objects.filter(pk__in=ids).update(status=OutboxMessage.Status.PENDING, sent_at=None)
        for message_id in ids:
            audit_record(actor=actor, action="outbox.resend", subject=("outbox_message", str(message_id)))
    return sum(1 for message_id in ids if publish(message_id, hold_off=False))
