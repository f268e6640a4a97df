"""SMS: queueing is idempotent, delivery sends once, retries back off, and no full phone leaks."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings

from assist_center.models import AuditEvent, OutboxMessage, SmsMessage
from assist_center.phones import InvalidPhone
from assist_center.pii import phone_index
from assist_center.sms import backends
from assist_center.sms import services as sms
from assist_center.sms.backends import (
    AliyunBackend,
    ConsoleBackend,
    OutboundSms,
    PermanentSmsError,
    TemporarySmsError,
    TencentBackend,
)
from assist_center.sms.templates import TEMPLATES, validate_params
from assist_center.tasks import sms_retry_due, sms_send

PHONE = "13800138000"
E164 = "+8613800138000"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
OTP = {"code": "493021", "minutes": 5}


class FlakyBackend(backends.BaseBackend):
    """Fails temporarily every time (a provider outage)."""

    calls = 0

    def send(self, message: OutboundSms) -> str:
        type(self).calls += 1
        raise TemporarySmsError(f"isp.SYSTEM_ERROR: provider busy for {message.to}")


class RejectingBackend(backends.BaseBackend):
    def send(self, message: OutboundSms) -> str:
        raise PermanentSmsError("isv.MOBILE_NUMBER_ILLEGAL: number refused")


@pytest.fixture(autouse=True)
def locmem_outbox() -> Iterator[list[OutboundSms]]:
    backends.outbox.clear()
    FlakyBackend.calls = 0
    yield backends.outbox
    backends.outbox.clear()


def queue_otp(key: str = "otp:1", to: str = PHONE) -> SmsMessage:
    return sms.sms_queue(to=to, template="otp", params=OTP, idempotency_key=key)


def deliver_due() -> None:
    """Run the retry sweep, then each sms_send task it enqueued (what beat + a worker would do)."""
    before = set(OutboxMessage.objects.values_list("pk", flat=True))
    sms_retry_due()
    for message in OutboxMessage.objects.exclude(pk__in=before).order_by("pk"):
        sms_send(**message.kwargs)


# --- queue and deliver -------------------------------------------------------------------------


@pytest.mark.django_db
def test_queueing_twice_with_one_key_makes_one_message_and_one_send(locmem_outbox: list[OutboundSms]) -> None:
    first = queue_otp()
    again = queue_otp()

    assert first.pk == again.pk
    assert SmsMessage.objects.count() == 1
    task = OutboxMessage.objects.get()
    assert task.task_name == "assist_center.tasks.sms_send"
    assert task.dedupe_key == f"sms:{first.pk}"
    assert task.kwargs == {"sms_id": first.pk, "attempt": 0}

    sms_send(**task.kwargs)
    sms_send(**task.kwargs)  # the broker delivered the task twice

    assert len(locmem_outbox) == 1
    sent = locmem_outbox[0]
    assert (sent.to, sent.template, sent.params) == (E164, "otp", {"code": "493021", "minutes": "5"})
    first.refresh_from_db()
    assert first.status == SmsMessage.Status.SENT
    assert first.attempts == 1
    assert first.provider_message_id
    assert first.sent_at is not None


@pytest.mark.django_db
def test_recipient_is_stored_encrypted_with_a_blind_index() -> None:
    message = queue_otp(to="138 0013 8000")
    with connection.cursor() as cursor:
        cursor.execute('SELECT to_hash, "to" FROM assist_center_smsmessage WHERE id = %s', [message.pk])
        to_hash, raw = cursor.fetchone()
    assert to_hash == phone_index(E164)
    assert raw.startswith("fernet:")
    assert PHONE not in raw
    assert SmsMessage.objects.get(pk=message.pk).to == E164


@pytest.mark.django_db
@pytest.mark.parametrize("to", ["057683312345", "12345", ""])
def test_a_number_that_cannot_receive_sms_is_refused(to: str) -> None:
    with pytest.raises(InvalidPhone):
        queue_otp(to=to)
    assert not SmsMessage.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("template", "params"),
    [
        ("family_invite", {"url": "https://example.org/family/abc?m=13800138000"}),
        ("case_closed", {"receipt": "110105199001010010", "url": "https://example.org/h/x"}),
        ("case_closed", {"receipt": "R-1", "url": "https://example.org/h/+86 138 0013 8000"}),
        ("otp", {"code": "493021"}),
        ("otp", {"code": "493021", "minutes": 5, "extra": "x"}),
        ("otp", {"code": ["493021"], "minutes": 5}),
        ("no_such_template", {}),
    ],
)
def test_bad_template_parameters_are_refused(template: str, params: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as exc_info:
        sms.sms_queue(to=PHONE, template=template, params=params, idempotency_key="k1")
    assert "13800138000" not in str(exc_info.value)
    assert "110105199001010010" not in str(exc_info.value)
    assert not SmsMessage.objects.exists()


def test_every_template_renders_with_its_parameters() -> None:
    samples = {
        "code": "123456",
        "minutes": "5",
        "receipt": "R20260302001",
        "url": "https://x.test/a",
        "status_url": "https://x.test/status/",
        "colour": "红色",
        "count": "3",
        "granted": "最低生活保障、医疗救助",
        "red": "1",
        "yellow": "2",
        "blue": "3",
        "date": "2026-10-12",
        "org": "三门县爱心公益协会",
        "month": "2026年11月",
        "need": "GY2026A7K2",
        "item": "最低生活保障",
        "amount": "850.00",
    }
    for code, template in TEMPLATES.items():
        params = validate_params(code, {p: samples[p] for p in template.params})
        text = template.render(params)
        assert all(value in text for value in params.values())


@pytest.mark.django_db
def test_idempotency_key_shaped_like_personal_data_is_refused() -> None:
    with pytest.raises(ValueError):
        queue_otp(key=f"otp:{PHONE}")


# --- retries -----------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(SMS_BACKEND="tests.core.test_sms.FlakyBackend", SMS_MAX_ATTEMPTS=5)
def test_temporary_errors_back_off_and_fail_after_max_attempts() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        message = queue_otp()
        sms_send(sms_id=message.pk, attempt=0)

        message.refresh_from_db()
        assert message.status == SmsMessage.Status.PENDING
        assert message.attempts == 1
        assert message.next_attempt_at == T0 + dt.timedelta(minutes=2)
        assert "isp.SYSTEM_ERROR" in message.last_error
        assert PHONE not in message.last_error

        # Not due yet: nothing is sent.
        clock.move_to(T0 + dt.timedelta(minutes=1))
        deliver_due()
        assert FlakyBackend.calls == 1

        # A duplicate of the first task (Redis redelivery) does not make an extra attempt.
        sms_send(sms_id=message.pk, attempt=0)
        assert FlakyBackend.calls == 1

        now = T0 + dt.timedelta(minutes=1)
        for attempts, wait in [(2, 4), (3, 8), (4, 16)]:
            message.refresh_from_db()
            now = message.next_attempt_at
            clock.move_to(now)
            deliver_due()
            message.refresh_from_db()
            assert message.attempts == attempts
            assert message.status == SmsMessage.Status.PENDING
            assert message.next_attempt_at == now + dt.timedelta(minutes=wait)

        clock.move_to(message.next_attempt_at)
        deliver_due()

    message.refresh_from_db()
    assert message.status == SmsMessage.Status.FAILED
    assert message.attempts == 5
    assert message.next_attempt_at is None
    assert FlakyBackend.calls == 5
    event = AuditEvent.objects.get(action="sms.failed")
    assert event.subject_id == str(message.pk)
    assert event.actor is None
    stored = json.dumps([event.old_values, event.new_values, event.reason], ensure_ascii=False)
    assert PHONE not in stored
    assert E164 not in stored
    assert event.new_values["attempts"] == 5

    # A failed message stays failed: a late duplicate task sends nothing.
    sms_send(sms_id=message.pk)
    assert FlakyBackend.calls == 5


@pytest.mark.django_db
@override_settings(SMS_BACKEND="tests.core.test_sms.RejectingBackend")
def test_a_permanent_error_fails_at_once_with_an_audit_event() -> None:
    message = queue_otp()
    sms_send(sms_id=message.pk, attempt=0)
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.FAILED
    assert message.attempts == 1
    assert AuditEvent.objects.filter(action="sms.failed", subject_id=str(message.pk)).count() == 1


@pytest.mark.django_db
def test_a_queued_message_whose_task_was_lost_is_sent_again_later(locmem_outbox: list[OutboundSms]) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        message = queue_otp()
        # The task never arrives (Redis restarted without persistence).
        clock.move_to(T0 + sms.LOST_HANDOFF_AFTER - dt.timedelta(seconds=1))
        deliver_due()
        assert locmem_outbox == []
        clock.move_to(T0 + sms.LOST_HANDOFF_AFTER)
        deliver_due()
        deliver_due()  # a second scheduler at the same moment adds nothing
    assert len(locmem_outbox) == 1
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.SENT


def test_backoff_doubles_and_is_capped() -> None:
    assert [sms.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 5, 6, 7, 30)] == [
        2,
        4,
        8,
        16,
        32,
        60,
        60,
        60,
    ]


# --- backends ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_file_backend_writes_one_json_line_per_message(tmp_path: Path) -> None:
    path = tmp_path / "dev" / "sms.jsonl"
    with override_settings(SMS_BACKEND="assist_center.sms.backends.FileBackend", SMS_FILE_PATH=str(path)):
        message = queue_otp()
        sms_send(sms_id=message.pk, attempt=0)
        other = sms.sms_queue(
            to=PHONE,
            template="family_invite",
            params={"url": "https://x.test/family/tok"},
            idempotency_key="fi:1",
        )
        sms_send(sms_id=other.pk, attempt=0)

    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["to"] == E164
    assert first["template"] == "otp"
    assert first["params"] == {"code": "493021", "minutes": "5"}
    assert first["idempotency_key"] == "otp:1"
    assert dt.datetime.fromisoformat(first["sent_at"]).tzinfo is not None
    assert "493021" in first["text"]
    assert json.loads(lines[1])["template"] == "family_invite"
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_file_backend_lines_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "sms.jsonl"
    long_url = "https://x.test/family/" + "a" * 150

    def write(n: int) -> None:
        backend = backends.FileBackend()
        for i in range(50):
            backend.send(OutboundSms(E164, "family_invite", {"url": long_url}, f"t{n}:{i}"))

    with override_settings(SMS_FILE_PATH=str(path)):
        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    keys = [json.loads(line)["idempotency_key"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(keys) == sorted(f"t{n}:{i}" for n in range(4) for i in range(50))


def test_console_backend_masks_the_recipient() -> None:
    stream = io.StringIO()
    ConsoleBackend(stream).send(OutboundSms(E164, "otp", {"code": "493021", "minutes": "5"}, "otp:1"))
    out = stream.getvalue()
    assert "138****8000" in out
    assert PHONE not in out
    assert "493021" in out


def test_console_backend_prints_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleBackend().send(OutboundSms(E164, "otp", {"code": "493021", "minutes": "5"}, "otp:1"))
    out = capsys.readouterr().out
    assert "138****8000" in out
    assert PHONE not in out


@pytest.mark.parametrize("backend", [AliyunBackend, TencentBackend])
def test_provider_backends_explain_a_missing_sdk(
    backend: type[backends.BaseBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The dev extra installs both SDKs (tests/core/test_sms_providers.py): hide them, as on a host
    # installed without the provider's extra.
    for module in ("alibabacloud_dysmsapi20170525", "tencentcloud", "tencentcloud.common"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImproperlyConfigured, match="pip install"):
        backend().send(OutboundSms(E164, "otp", {"code": "1", "minutes": "5"}, "k"))


def test_get_backend_follows_the_setting() -> None:
    with override_settings(SMS_BACKEND="assist_center.sms.backends.ConsoleBackend"):
        assert isinstance(backends.get_backend(), ConsoleBackend)
    with (
        override_settings(SMS_BACKEND="assist_center.sms.templates.SmsTemplate"),
        pytest.raises((ImproperlyConfigured, TypeError)),
    ):
        backends.get_backend()


# --- admin -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sms_admin_shows_the_recipient_masked(personas: Any, login: Any) -> None:
    queue_otp()
    response = login(personas.coordinator).get("/admin/assist_center/smsmessage/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "138****8000" in html
    assert PHONE not in html

    message = SmsMessage.objects.get()
    detail = login(personas.coordinator).get(f"/admin/assist_center/smsmessage/{message.pk}/change/")
    assert detail.status_code == 200
    assert "138****8000" in detail.content.decode()
    assert PHONE not in detail.content.decode()


@pytest.mark.django_db
def test_sms_changelist_query_count_does_not_grow_with_rows(
    personas: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    client = login(personas.coordinator)
    queue_otp("k0")
    client.get("/admin/assist_center/smsmessage/")  # warm the session and caches
    # 12, and one for the coordinator's calendar banner (is next year's calendar entered?).
    with django_assert_max_num_queries(13) as one:
        client.get("/admin/assist_center/smsmessage/")
    for i in range(1, 15):
        queue_otp(f"k{i}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get("/admin/assist_center/smsmessage/")


@pytest.mark.django_db
def test_sms_admin_is_the_coordinators_only(personas: Any, login: Any) -> None:
    for persona in (personas.assistant_a, personas.cadre_a1, personas.dept_civil, personas.auditor):
        assert login(persona).get("/admin/assist_center/smsmessage/").status_code == 403


@pytest.mark.django_db
@override_settings(SMS_BACKEND="tests.core.test_sms.RejectingBackend")
def test_coordinator_retries_a_failed_message(
    personas: Any, login: Any, locmem_outbox: list[OutboundSms]
) -> None:
    message = queue_otp()
    sms_send(sms_id=message.pk, attempt=0)
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.FAILED

    response = login(personas.coordinator).post(
        "/admin/assist_center/smsmessage/",
        {"action": "retry_failed", "_selected_action": [message.pk]},
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.PENDING
    assert message.attempts == 0
    event = AuditEvent.objects.get(action="sms.retry")
    assert event.actor == personas.coordinator
    task = OutboxMessage.objects.order_by("-pk").first()
    assert task is not None
    assert task.kwargs == {"sms_id": message.pk, "attempt": 0}

    with override_settings(SMS_BACKEND="assist_center.sms.backends.LocmemBackend"):
        sms_send(**task.kwargs)
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.SENT
    assert len(locmem_outbox) == 1
