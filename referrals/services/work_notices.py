"""Staff notifications through a 浙政钉 / DingTalk group robot, beside the workbench and SMS.

The text is an SMS template's (assist_center.sms.templates): the same checked parameters, so a
notice can never carry an ID number, a phone or a name. Each notice is sent once: its idempotency
key is unique, the send claims the row under a lock, and a sent row is never sent again. A robot
takes at most ROBOT_PER_MINUTE messages a minute (the platform's limit); the send counts the
channel's notices of the last minute under the channel's row lock, so two workers cannot both
take the last slot, and a notice over the limit waits for the retry sweep instead of being lost.

The robot's signature (DingTalk's "加签"): timestamp in ms and base64(HMAC-SHA256(secret,
"<timestamp>\\n<secret>")) as query parameters; the platform refuses a timestamp more than an
hour off.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from assist_center import outbox
from assist_center.sms.templates import get_template, validate_params

from ..models import WorkChannel, WorkNotice

logger = logging.getLogger(__name__)

SEND_TASK = "referrals.tasks.work_notice_send"
ROBOT_PER_MINUTE = 20
TIMEOUT_SECONDS = 5.0
MAX_ATTEMPTS = 6
RETRY_AFTER = dt.timedelta(minutes=1)
# DingTalk's answer when a robot is sent to too fast; anything else non-zero will not get better.
_RATE_LIMITED = {130101, 130102}


class TemporaryError(Exception):
    """Try again later: a timeout, a 5xx, the platform's rate limit."""


class PermanentError(Exception):
    """Trying again will not help: a wrong token, a wrong signature, a removed robot."""


def work_notice_queue(
    *, channel: WorkChannel, template: str, params: Mapping[str, Any], idempotency_key: str
) -> WorkNotice:
    """Store a notice and enqueue its sending after the caller's commit; a repeat returns the first."""
    checked = validate_params(template, params)
    with transaction.atomic():
        existing = WorkNotice.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                notice = WorkNotice.objects.create(
                    channel=channel, template=template, params=checked, idempotency_key=idempotency_key
                )
        except IntegrityError:
            return WorkNotice.objects.get(idempotency_key=idempotency_key)
        outbox.enqueue(SEND_TASK, kwargs={"notice_id": notice.pk}, dedupe_key=f"work-notice:{notice.pk}")
    return notice


def dingtalk_signed_url(webhook_url: str, secret: str, *, timestamp_ms: int) -> str:
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest).decode())
    joiner = "&" if "?" in webhook_url else "?"
    return f"{webhook_url}{joiner}timestamp={timestamp_ms}&sign={sign}"


def dingtalk_post(channel: WorkChannel, text: str) -> None:
    """POST one text message to the robot; TemporaryError or PermanentError when it is not taken."""
    timestamp_ms = int(timezone.now().timestamp() * 1000)
    url = dingtalk_signed_url(channel.webhook_url, channel.secret, timestamp_ms=timestamp_ms)
    if not url.startswith(("https://", "http://")):
        raise PermanentError("the webhook address is not an http(s) URL")
    body = json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=body, headers={"Content-Type": "application/json; charset=utf-8"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code == 429:
            raise TemporaryError(f"HTTP {exc.code}") from exc
        raise PermanentError(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise TemporaryError(type(exc).__name__) from exc
    code = answer.get("errcode", -1) if isinstance(answer, dict) else -1
    if code == 0:
        return
    if code in _RATE_LIMITED:
        raise TemporaryError(f"errcode {code}")
    raise PermanentError(f"errcode {code}")


def work_notice_send(*, notice_id: int) -> str:
    """Send one pending notice: "sent", "deferred" (the robot's minute is full, or a temporary error),
    "failed", or "done" when it was no longer pending (a redelivered task)."""
    now = timezone.now()
    with transaction.atomic():
        notice = (
            WorkNotice.objects.select_for_update(of=("self",))
            .select_related("channel")
            .filter(pk=notice_id)
            .first()
        )
        if notice is None or notice.status != WorkNotice.Status.PENDING:
            return "done"
        channel = WorkChannel.objects.select_for_update().get(pk=notice.channel_id)
        if not channel.active:
            notice.status, notice.last_error = WorkNotice.Status.FAILED, "channel inactive"
            notice.save(update_fields=["status", "last_error"])
            return "failed"
        recent = WorkNotice.objects.filter(channel=channel, sent_at__gt=now - dt.timedelta(minutes=1)).count()
        if recent >= ROBOT_PER_MINUTE:
            notice.next_attempt_at = now + RETRY_AFTER
            notice.save(update_fields=["next_attempt_at"])
            return "deferred"
        text = get_template(notice.template).text.format(**notice.params)
        notice.attempts += 1
        try:
            dingtalk_post(channel, text)
        except TemporaryError as exc:
            notice.last_error = str(exc)[:200]
            if notice.attempts >= MAX_ATTEMPTS:
                notice.status = WorkNotice.Status.FAILED
            else:
                notice.next_attempt_at = now + RETRY_AFTER * notice.attempts
            notice.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            return "failed" if notice.status == WorkNotice.Status.FAILED else "deferred"
        except PermanentError as exc:
            logger.warning("work notice %s refused by channel %s: %s", notice.pk, channel.pk, exc)
            notice.status, notice.last_error = WorkNotice.Status.FAILED, str(exc)[:200]
            notice.save(update_fields=["attempts", "last_error", "status"])
            return "failed"
        notice.status, notice.sent_at, notice.next_attempt_at = WorkNotice.Status.SENT, timezone.now(), None
        notice.save(update_fields=["attempts", "status", "sent_at", "next_attempt_at"])
        return "sent"


def work_notice_retry_due() -> int:
    """Re-enqueue pending notices whose next attempt has come (beat, every minute)."""
    due = list(
        WorkNotice.objects.filter(status=WorkNotice.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    for pk in due:
        outbox.enqueue(SEND_TASK, kwargs={"notice_id": pk})
    return len(due)


def work_channels_of_departments(department_ids: list[int]) -> list[WorkChannel]:
    return list(WorkChannel.objects.filter(department_id__in=department_ids, active=True).order_by("pk"))


def township_notice(
    *, township_id: int, template: str, params: Mapping[str, Any], idempotency_key: str
) -> int:
    """The "township_notice" hook: queue the notice to each of the township's active channels."""
    channels = WorkChannel.objects.filter(township_id=township_id, active=True).order_by("pk")
    for channel in channels:
        work_notice_queue(
            channel=channel,
            template=template,
            params=params,
            idempotency_key=f"{idempotency_key}:ch{channel.pk}",
        )
    return len(channels)
