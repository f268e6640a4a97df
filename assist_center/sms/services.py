"""Queue and deliver SMS.

Tasks reach the worker at least once; the resident gets each message once: a message has an
idempotency key, every `sms_send` task names the attempt it is for, and the worker sends under the
row's lock, skipping sent rows and attempts already made.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from assist_center import outbox
from assist_center.audit import audit_record
from assist_center.models import SmsMessage
from assist_center.phones import normalise_mobile
from assist_center.pii import phone_index
from assist_center.redaction import redact

from ..actors import Actor
from .backends import OutboundSms, PermanentSmsError, TemporarySmsError, get_backend
from .templates import validate_params

logger = logging.getLogger(__name__)

SEND_TASK = "assist_center.tasks.sms_send"
# Backoff after the n-th failed attempt: 2**n minutes, at most this long.
MAX_BACKOFF = timedelta(hours=1)
# A message still pending this long after a task was enqueued for it gets a new task from
# sms_retry_due: Redis run without persistence loses queued tasks on restart, and the outbox
# already counts them as sent.
LOST_HANDOFF_AFTER = timedelta(minutes=10)
_MAX_ERROR = 500


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: 2, 4, 8, ... minutes, capped."""
    return min(timedelta(minutes=2 ** min(attempts, 16)), MAX_BACKOFF)


def sms_queue(*, to: str, template: str, params: Mapping[str, Any], idempotency_key: str) -> SmsMessage:
    """Store an SMS and enqueue its sending after the caller's transaction commits.

    A repeat with the same `idempotency_key` returns the first message and sends nothing new.
    Raises InvalidPhone for a number that cannot receive SMS, ValueError for a bad template or
    parameters (ID-number- or phone-shaped values are refused: SMS text must carry no personal data).
    """
    e164 = normalise_mobile(to)
    checked = validate_params(template, params)
    if not idempotency_key or len(idempotency_key) > 200:
        raise ValueError("An SMS needs an idempotency key of 1 to 200 characters.")
    if redact(idempotency_key) != idempotency_key:
        raise ValueError("The SMS idempotency key looks like personal data.")
    with transaction.atomic():
        existing = SmsMessage.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        try:
            # A savepoint: a concurrent twin committing first must not abort the caller's transaction.
            with transaction.atomic():
                sms = SmsMessage.objects.create(
                    to=e164,
                    to_hash=phone_index(e164),
                    template=template,
                    params=checked,
                    idempotency_key=idempotency_key,
                    next_attempt_at=timezone.now() + LOST_HANDOFF_AFTER,
                )
        except IntegrityError:
            return SmsMessage.objects.get(idempotency_key=idempotency_key)
        outbox.enqueue(SEND_TASK, kwargs={"sms_id": sms.pk, "attempt": 0}, dedupe_key=f"sms:{sms.pk}")
    return sms


def _audit_failure(sms: SmsMessage) -> None:
    # No idempotency key: this runs once per pending->failed transition, under the row lock.
    audit_record(
        actor=None,
        action="sms.failed",
        subject=sms,
        old={"status": SmsMessage.Status.PENDING},
        new={
            "status": SmsMessage.Status.FAILED,
            "template": sms.template,
            "attempts": sms.attempts,
            "error": sms.last_error[:200],
        },
    )


def sms_deliver(*, sms_id: int, attempt: int | None = None) -> SmsMessage | None:
    """Send one pending message through the configured backend (the `sms_send` task's body).

    Idempotent: a sent or failed message is left alone, and so is a task for an `attempt` (the
    number of attempts made when it was enqueued) that has already been made. A temporary error
    schedules the next attempt with exponential backoff; a permanent one, or SMS_MAX_ATTEMPTS
    temporary ones, marks the message failed and writes an `sms.failed` audit event.
    """
    with transaction.atomic():
        # The lock spans the provider call so that two workers never both send this message.
        sms = SmsMessage.objects.select_for_update().filter(pk=sms_id).first()
        if sms is None or sms.status != SmsMessage.Status.PENDING:
            return sms
        if attempt is not None and attempt != sms.attempts:
            return sms
        message = OutboundSms(
            to=sms.to, template=sms.template, params=dict(sms.params), idempotency_key=sms.idempotency_key
        )
        sms.attempts += 1
        try:
            provider_id = get_backend().send(message)
        except PermanentSmsError as exc:
            _fail(sms, str(exc))
        except Exception as exc:
            # TemporarySmsError, and anything unexpected (SDK faults, ImproperlyConfigured while an
            # operator fixes the settings): retry, so the message goes out once the cause is fixed.
            detail = str(exc) if isinstance(exc, TemporarySmsError) else f"{type(exc).__name__}: {exc}"
            if sms.attempts >= settings.SMS_MAX_ATTEMPTS:
                _fail(sms, detail)
            else:
                sms.last_error = redact(detail)[:_MAX_ERROR]
                sms.next_attempt_at = timezone.now() + backoff(sms.attempts)
                sms.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                logger.warning(
                    "sms %s: attempt %s failed, retry at %s", sms.pk, sms.attempts, sms.next_attempt_at
                )
        else:
            sms.status = SmsMessage.Status.SENT
            sms.sent_at = timezone.now()
            sms.provider_message_id = provider_id[:128]
            sms.last_error = ""
            sms.next_attempt_at = None
            sms.save(
                update_fields=[
                    "status",
                    "sent_at",
                    "provider_message_id",
                    "attempts",
                    "last_error",
                    "next_attempt_at",
                ]
            )
    return sms


def _fail(sms: SmsMessage, detail: str) -> None:
    sms.status = SmsMessage.Status.FAILED
    sms.last_error = redact(detail)[:_MAX_ERROR]
    sms.next_attempt_at = None
    sms.save(update_fields=["status", "attempts", "last_error", "next_attempt_at"])
    _audit_failure(sms)
    logger.error("sms %s: failed after %s attempt(s)", sms.pk, sms.attempts)


def _enqueue_attempt(sms: SmsMessage, *, key: str) -> None:
    outbox.enqueue(SEND_TASK, kwargs={"sms_id": sms.pk, "attempt": sms.attempts}, dedupe_key=key)


def sms_retry_due(*, limit: int = 500) -> int:
    """Enqueue a send for every pending message whose next attempt is due; return how many.

    Each due message's next_attempt_at moves LOST_HANDOFF_AFTER ahead in a conditional update, so
    two schedulers running at once enqueue it once, and a task lost in Redis is replaced later.
    """
    now = timezone.now()
    due = list(
        SmsMessage.objects.filter(status=SmsMessage.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .only("pk", "attempts", "next_attempt_at")[:limit]
    )
    count = 0
    for sms in due:
        with transaction.atomic():
            claimed = SmsMessage.objects.filter(
                pk=sms.pk, status=SmsMessage.Status.PENDING, next_attempt_at=sms.next_attempt_at
            ).update(next_attempt_at=now + LOST_HANDOFF_AFTER)
            if claimed:
                assert sms.next_attempt_at is not None
                _enqueue_attempt(
                    sms, key=f"sms:{sms.pk}:{sms.attempts}:{int(sms.next_attempt_at.timestamp() * 1000)}"
                )
                count += 1
    return count


def sms_retry_failed(*, sms_ids: Iterable[int], actor: Actor) -> int:
    """Give failed messages fresh attempts and send them now (an operator's action); return how many."""
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for sms in SmsMessage.objects.select_for_update().filter(
            pk__in=list(sms_ids), status=SmsMessage.Status.FAILED
        ):
            sms.status = SmsMessage.Status.PENDING
            sms.attempts = 0
            sms.next_attempt_at = now + LOST_HANDOFF_AFTER
            sms.save(update_fields=["status", "attempts", "next_attempt_at"])
            audit_record(
                actor=actor,
                action="sms.retry",
                subject=sms,
                old={"status": SmsMessage.Status.FAILED},
                new={"status": SmsMessage.Status.PENDING},
            )
            _enqueue_attempt(sms, key=f"sms:{sms.pk}:retry:{int(now.timestamp() * 1000)}")
            count += 1
    return count
