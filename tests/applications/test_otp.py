"""SMS codes: sent through the SMS outbox, stored hashed, 10 minutes, 5 tries, one use, rate-limited."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client, override_settings

from applications.models import OtpChallenge
from applications.services.otp import (
    PHONE_PER_DAY,
    RATE_LIMITED_WAIT,
    TOKEN_PER_HOUR,
    otp_check,
    otp_send,
    retry_after_seconds,
)
from assist_center.errors import ApplicationError
from assist_center.models import SmsMessage
from assist_center.pii import phone_index
from assist_center.sms import backends

from .test_intake_input import (
    deliver_sms,
    last_code,
    post_json,
)

OTP_URL = "/api/v1/public/otp/"
PHONE = "13800138000"
E164 = "+8613800138000"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

pytestmark = pytest.mark.django_db


def send(
    client: Client | None = None, phone: str = PHONE, purpose: str = "apply", ip: str = "10.0.0.1"
) -> Any:
    return post_json(client or Client(), OTP_URL, {"phone": phone, "purpose": purpose}, REMOTE_ADDR=ip)


def test_a_code_is_sent_by_sms_and_stored_only_as_a_hash() -> None:
    with time_machine.travel(T0, tick=False):
        response = send()
    assert response.status_code == 202
    assert response.json() == {"message": "验证码已发送", "expires_in": 600, "resend_after": 60}

    sms = SmsMessage.objects.get()
    assert sms.template == "otp"
    assert set(sms.params) == {"code", "minutes"}
    assert sms.params["minutes"] == "10"
    code = last_code(E164)
    assert len(code) == 6 and code.isascii() and code.isdigit()
    assert backends.outbox[-1].render() == f"您的验证码为{code}，10分钟内有效。请勿将验证码告诉他人。"

    challenge = OtpChallenge.objects.get()
    assert challenge.purpose == "apply"
    assert challenge.phone_hash == phone_index(E164)
    assert code not in challenge.code_hash and len(challenge.code_hash) == 64
    assert challenge.expires_at == T0 + dt.timedelta(minutes=10)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"phone": "0576-83312345", "purpose": "apply"}, "phone", "请填写手机号码（不能是固定电话）。"),
        ({"phone": "12345", "purpose": "apply"}, "phone", "请填写正确的手机号码。"),
        ({"phone": 13800138000, "purpose": "apply"}, "phone", "请填写手机号码。"),
        ({"phone": "", "purpose": "apply"}, "phone", "请填写手机号码。"),
        ({"phone": PHONE, "purpose": "login"}, "purpose", "未知的用途。"),
        ({"phone": PHONE}, "purpose", "未知的用途。"),
        ({"phone": PHONE, "purpose": "apply", "x": 1}, "x", "未知字段。"),
    ],
)
def test_bad_requests_are_400_with_a_message_on_the_field(
    body: dict[str, Any], field: str, message: str
) -> None:
    response = post_json(Client(), OTP_URL, body)
    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {field: message}
    assert SmsMessage.objects.count() == 0


def test_the_right_code_passes_once() -> None:
    send()
    code = last_code(E164)
    otp_check(phone=PHONE, purpose="apply", code=code)
    with pytest.raises(ApplicationError) as exc:
        otp_check(phone=PHONE, purpose="apply", code=code)
    assert str(exc.value.message) == "短信验证码不正确或已过期，如有需要请重新获取。"


def test_a_code_is_bound_to_its_purpose_and_phone() -> None:
    send()
    code = last_code(E164)
    with pytest.raises(ApplicationError):
        otp_check(phone=PHONE, purpose="family", code=code)
    with pytest.raises(ApplicationError):
        otp_check(phone="13900139000", purpose="apply", code=code)
    otp_check(phone="+86 138 0013 8000", purpose="apply", code=code)


def test_a_code_expires_after_ten_minutes() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        send()
        code = last_code(E164)
        clock.shift(dt.timedelta(minutes=9, seconds=59))
        otp_check(phone=PHONE, purpose="apply", code=code, consume=False)
        clock.shift(dt.timedelta(seconds=1))
        with pytest.raises(ApplicationError):
            otp_check(phone=PHONE, purpose="apply", code=code)


def test_five_wrong_codes_kill_the_challenge() -> None:
    send()
    code = last_code(E164)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        with pytest.raises(ApplicationError) as exc:
            otp_check(phone=PHONE, purpose="apply", code=wrong)
        assert exc.value.extra["fields"]["otp"] == "短信验证码不正确或已过期，如有需要请重新获取。"
    with pytest.raises(ApplicationError) as exc:
        otp_check(phone=PHONE, purpose="apply", code=wrong)
    assert str(exc.value.message) == "验证码错误次数过多，请重新获取短信验证码。"
    # Now even the right code is refused: the challenge is dead.
    with pytest.raises(ApplicationError) as exc:
        otp_check(phone=PHONE, purpose="apply", code=code)
    assert str(exc.value.message) == "验证码错误次数过多，请重新获取短信验证码。"
    assert OtpChallenge.objects.get().attempts == 5


def test_malformed_codes_are_refused_without_counting() -> None:
    send()
    for bad in ("12345", "1234567", "１２３４５６", "abcdef", ""):
        with pytest.raises(ApplicationError):
            otp_check(phone=PHONE, purpose="apply", code=bad)
    assert OtpChallenge.objects.get().attempts == 0


def test_only_the_newest_code_counts() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        send()
        first = last_code(E164)
        clock.shift(dt.timedelta(seconds=61))
        send()
        second = last_code(E164)
        if first != second:
            with pytest.raises(ApplicationError):
                otp_check(phone=PHONE, purpose="apply", code=first)
        otp_check(phone=PHONE, purpose="apply", code=second)


def test_one_code_per_phone_per_minute() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        assert send().status_code == 202
        clock.shift(dt.timedelta(seconds=59))
        again = send(ip="10.0.0.2")
        assert again.status_code == 429
        assert again.json()["message"] == "验证码刚刚已发送，请等待一分钟后再重新获取。"
        clock.shift(dt.timedelta(seconds=1))
        assert send().status_code == 202
    assert SmsMessage.objects.count() == 2


def test_one_code_per_minute_holds_across_a_bucket_edge() -> None:
    # 09:00:59.5 then 09:01:00.2: two different minute buckets, still less than a minute apart.
    with time_machine.travel(T0 + dt.timedelta(seconds=59.5), tick=False) as clock:
        assert send().status_code == 202
        clock.shift(dt.timedelta(seconds=0.7))
        assert send().status_code == 429


def wait_message(minutes: int) -> str:
    """The refusal as the resident reads it (the catalogue's words once merged, else the msgid)."""
    return str(RATE_LIMITED_WAIT % {"minutes": minutes})


def test_five_codes_per_phone_and_purpose_per_hour_and_the_refusal_says_when() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(5):
            assert send().status_code == 202
            clock.shift(dt.timedelta(seconds=61))
        refused = send()
        assert refused.status_code == 429
        body = refused.json()
        # Five codes between 09:00 and 09:04 fill this hour's bucket; from 10:00 the window weighs
        # them less each minute, and a sixth fits at 10:12: 67 minutes from 09:05.
        assert body["extra"]["retry_after"] == 67 * 60
        assert body["message"] == wait_message(67)
        assert "67" in body["message"]
        # Asking again too early is refused and does not push the time back; at the time said, it works.
        clock.shift(dt.timedelta(minutes=66))
        assert send().json()["extra"]["retry_after"] == 60
        clock.shift(dt.timedelta(minutes=1))
        assert send().status_code == 202


def test_a_village_office_sends_codes_for_a_queue_of_residents_from_one_address() -> None:
    # Issue 16: twenty an hour per address locked out a whole village office or a carrier's NAT.
    with time_machine.travel(T0, tick=False):
        for i in range(60):
            assert send(phone=f"1380013{8100 + i}", ip="10.9.9.9").status_code == 202
    assert SmsMessage.objects.count() == 60


def test_the_address_ceiling_still_stops_a_script_and_is_counted_for_the_centre() -> None:
    with override_settings(), time_machine.travel(T0, tick=False):
        from applications.services import otp

        ceiling = otp.IP_PER_HOUR
        otp.IP_PER_HOUR = 3
        try:
            for i in range(3):
                assert send(phone=f"1380013{8100 + i}", ip="10.9.9.9").status_code == 202
            refused = send(phone="13800139999", ip="10.9.9.9")
            assert refused.status_code == 429
            assert refused.json()["extra"]["retry_after"] > 0
            assert send(phone="13800139999", ip="10.9.9.8").status_code == 202
        finally:
            otp.IP_PER_HOUR = ceiling
        assert otp.otp_refusal_counts(day="2026-03-02")["otp_ip"] == 1
        assert otp.otp_refusal_counts(day="2026-03-02")["otp_phone"] == 0


def test_codes_for_one_family_link_are_limited_together_whatever_the_phone() -> None:
    with time_machine.travel(T0, tick=False):
        for i in range(TOKEN_PER_HOUR):
            otp_send(phone=f"1380013{8100 + i}", purpose="family", ip=None, token="family-token-1")
        with pytest.raises(ApplicationError) as exc:
            otp_send(phone="13800139999", purpose="family", ip=None, token="family-token-1")
        assert exc.value.status == 429
        assert "分钟" in str(exc.value.message) or "minutes" in str(exc.value.message)
        # Another family's link, and the same token for another purpose, are not affected.
        otp_send(phone="13800139999", purpose="family", ip=None, token="family-token-2")
        otp_send(phone="13800139998", purpose="status", ip=None, token="family-token-1")


def test_twenty_codes_per_phone_per_day_whatever_the_purpose() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        sent = 0
        while sent < PHONE_PER_DAY:
            for purpose in ("apply", "family", "status"):
                if sent < PHONE_PER_DAY:
                    assert send(purpose=purpose).status_code == 202
                    sent += 1
            clock.shift(dt.timedelta(minutes=61))
        refused = send(purpose="apply")
        assert refused.status_code == 429
        assert refused.json()["extra"]["retry_after"] > 3600


def test_the_wait_is_computed_from_the_sliding_window() -> None:
    # Six hits in this hour's bucket, half of it gone: at the edge they become the previous
    # bucket, weighing 6 x (1 - t); one more fits when that is at most 4, a third into the next.
    assert retry_after_seconds(current=6, previous=0, elapsed=0.5, limit=5, period=3600) == 50 * 60
    assert retry_after_seconds(current=1, previous=10, elapsed=0.0, limit=5, period=3600) == 42 * 60
    assert retry_after_seconds(current=0, previous=0, elapsed=0.0, limit=5, period=3600) == 60


def test_the_status_purpose_answers_the_same_for_a_phone_that_never_applied() -> None:
    response = send(purpose="status")
    assert response.status_code == 202
    assert response.json()["message"] == "验证码已发送"
    deliver_sms()
    assert SmsMessage.objects.count() == 0
    assert backends.outbox == []


def test_sending_fails_closed_with_a_clear_503_when_redis_is_down() -> None:
    dead = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                        "LOCATION": "redis://127.0.0.1:1/0",
                        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}  # fmt: skip
    with override_settings(CACHES=dead):
        response = send(client=Client(raise_request_exception=False))
        with pytest.raises(ApplicationError) as exc:
            otp_send(phone=PHONE, purpose="family", ip=None)
    assert response.status_code == 503
    assert response.json() == {"message": "短信验证码暂时无法发送，请几分钟后再试。", "extra": {}}
    assert exc.value.status == 503
    assert SmsMessage.objects.count() == 0


def test_the_phone_never_reaches_redis_in_clear() -> None:
    from django.core.cache import cache

    send()
    client = cache._cache.get_client()  # type: ignore[attr-defined]
    keys = b" ".join(client.keys("*"))
    assert keys, "the limits are counted in Redis"
    assert PHONE.encode() not in keys and b"10.0.0.1" not in keys


def test_the_minute_limit_and_the_hourly_limit_are_per_purpose() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        for purpose in ("apply", "family", "status"):
            assert send(purpose=purpose).status_code == 202
        assert send(purpose="apply").status_code == 429  # the minute, for this purpose only
        for _ in range(4):
            clock.shift(dt.timedelta(seconds=61))
            assert send(purpose="apply").status_code == 202
        clock.shift(dt.timedelta(seconds=61))
        # Five apply codes this hour: no sixth for applying, but signing and the status page work.
        assert send(purpose="apply").status_code == 429
        assert send(purpose="family").status_code == 202
        assert send(purpose="status").status_code == 202
