"""SMS verification codes: send (rate-limited), check (attempt-limited), consume once.

A code is 6 random digits, stored only as an HMAC keyed with PII_HASH_KEY and bound to the phone
and purpose, valid for 10 minutes and for 5 checks; only the newest code of a phone and purpose
counts. Limits live in the cache (Redis) because they must be atomic across web processes and
hosts; see `_limit_hit` for what happens when the cache is down.
"""

from __future__ import annotations

import hmac
import secrets
import time
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assist_center.errors import ApplicationError
from assist_center.phones import InvalidPhone, normalise_mobile
from assist_center.pii import blind_index, phone_index
from assist_center.sms.services import sms_queue

from ..models import ApplicationMember, OtpChallenge, OtpPurpose

__all__ = [
    "CODE_LENGTH",
    "MAX_ATTEMPTS",
    "OTP_MINUTES",
    "PHONE_COOLDOWN_SECONDS",
    "LimitUnavailable",
    "RateLimited",
    "limit_hit",
    "otp_check",
    "otp_consume",
    "otp_send",
    "otp_verify",
]

CODE_LENGTH = 6
OTP_MINUTES = 10
MAX_ATTEMPTS = 5
# Limits (issue 3): per phone one code a minute (per purpose) and five an hour, per IP twenty an hour. The
# phone limits protect the person being texted (SMS bombing), the IP limit our SMS bill.
PHONE_COOLDOWN_SECONDS = 60
PHONE_PER_HOUR = 5
IP_PER_HOUR = 20
_HOUR = 3600

WRONG_CODE = _("The SMS code is wrong or has expired. Please request a new one if needed.")
TOO_MANY_ATTEMPTS = _("Too many wrong codes. Please request a new SMS code.")
RATE_LIMITED = _("Too many SMS codes requested. Please wait a while and try again.")
WAIT_A_MINUTE = _("An SMS code was sent less than a minute ago. Please wait a minute before asking again.")
SMS_UNAVAILABLE = _("SMS codes cannot be sent at the moment. Please try again in a few minutes.")


class RateLimited(Exception):
    """A limit was exceeded."""


class LimitUnavailable(Exception):
    """The cache that counts limits did not answer."""


def _window_count(key: str, period: int) -> float:
    """Count one hit in a sliding window of `period` seconds; return the estimated hits inside it.

    Two fixed buckets (this period and the last), the last one weighted by how much of it still lies
    inside the window: atomic (one INCR), bounded memory, and far tighter than one fixed window,
    which lets twice the limit through around a bucket edge. Buckets follow time.time(), so tests
    move them with time-machine.
    """
    now = time.time()
    bucket = int(now // period)
    current_key = f"{key}:{bucket}"
    # add() then incr(): INCR on Redis is atomic, and add() sets the expiry only on the first hit.
    cache.add(current_key, 0, timeout=2 * period + 60)
    current = cache.incr(current_key)
    previous = cache.get(f"{key}:{bucket - 1}", 0)
    elapsed = (now % period) / period
    return float(current) + float(previous or 0) * (1.0 - elapsed)


def _cooldown(key: str, seconds: int) -> bool:
    """Whether at least `seconds` have passed since the last allowed hit; if so, record this one.

    The hit time is stored in a bucket of `seconds`; the previous bucket is read too, so "one per
    minute" holds across a bucket edge. Two racing hits in one bucket: add() lets one through.
    """
    now = time.time()
    bucket = int(now // seconds)
    previous = cache.get(f"{key}:{bucket - 1}")
    if previous is not None and now - float(previous) < seconds:
        return False
    return bool(cache.add(f"{key}:{bucket}", now, timeout=2 * seconds + 60))


def limit_hit(name: str, ident: str, *, limit: int, period: int) -> None:
    """Count a hit for `ident` under the limit `name`; raise RateLimited over it, LimitUnavailable
    when the cache is down (the caller decides whether that fails open or closed).

    `ident` is hashed before it reaches Redis: it may be a phone or an IP address.
    """
    key = f"rl:{name}:{blind_index('ratelimit', ident)[:32]}"
    try:
        count = _window_count(key, period)
    except Exception as exc:  # redis.ConnectionError, TimeoutError, ...: whatever the client raises
        raise LimitUnavailable from exc
    if count > limit:
        raise RateLimited


def _send_limits(*, e164: str, purpose: str, ip: str | None) -> None:
    try:
        if ip:
            limit_hit("otp-ip", ip, limit=IP_PER_HOUR, period=_HOUR)
        # Per phone AND purpose: a resident who has just applied may at once need a code to sign on
        # the family page; the hourly cap below is per phone whatever the purpose.
        key = f"rl:otp-cool:{purpose}:{blind_index('ratelimit', e164)[:32]}"
        try:
            allowed = _cooldown(key, PHONE_COOLDOWN_SECONDS)
        except Exception as exc:
            raise LimitUnavailable from exc
        if not allowed:
            raise ApplicationError(WAIT_A_MINUTE, {"fields": {"phone": str(WAIT_A_MINUTE)}}, status=429)
        limit_hit("otp-phone", e164, limit=PHONE_PER_HOUR, period=_HOUR)
    except RateLimited:
        raise ApplicationError(RATE_LIMITED, status=429) from None
    except LimitUnavailable:
        # Fail CLOSED: without the counters anyone could make us text a stranger's phone without
        # end (SMS bombing) and run up the bill. The cost is that residents cannot get a code while
        # Redis is down; Redis restarts by itself within seconds, and on-behalf submissions by an
        # assistant need no code. The answer is a clear 503, never an error page.
        raise ApplicationError(SMS_UNAVAILABLE, status=503) from None


def _code_hash(*, e164: str, purpose: str, code: str) -> str:
    return blind_index(f"otp:{purpose}:{e164}", code)


def _phone_or_error(phone: Any, *, message: Any) -> str:
    if not isinstance(phone, str):
        raise ApplicationError(message, {"fields": {"phone": str(message)}})
    try:
        return normalise_mobile(phone)
    except InvalidPhone as exc:
        text = {
            "empty": _("Enter the mobile phone number."),
            "not_mobile": _("Enter a mobile phone number (not a landline)."),
        }.get(exc.code, _("Enter a valid mobile phone number."))
        raise ApplicationError(text, {"fields": {"phone": str(text)}}) from None


def _check_purpose(purpose: Any) -> str:
    if not isinstance(purpose, str) or purpose not in OtpPurpose.values:
        message = _("Unknown purpose.")
        raise ApplicationError(message, {"fields": {"purpose": str(message)}})
    return purpose


def otp_send(*, phone: str, purpose: str, ip: str | None) -> None:
    """Send a new code to `phone` for `purpose`, or raise ApplicationError (400 bad input, 429 over a
    limit, 503 when limits cannot be counted).

    For the `status` purpose, a phone that is no applicant's gets no SMS, but the caller cannot tell:
    the answer is the same, so the endpoint reveals nothing about who applied.
    """
    purpose = _check_purpose(purpose)
    e164 = _phone_or_error(phone, message=_("Enter the mobile phone number."))
    _send_limits(e164=e164, purpose=purpose, ip=ip)
    hashed = phone_index(e164)
    if purpose == OtpPurpose.STATUS and not _is_applicant_phone(hashed):
        return
    code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
    with transaction.atomic():
        challenge = OtpChallenge.objects.create(
            phone_hash=hashed,
            purpose=purpose,
            code_hash=_code_hash(e164=e164, purpose=purpose, code=code),
            expires_at=timezone.now() + timedelta(minutes=OTP_MINUTES),
        )
        sms_queue(
            to=e164,
            template="otp",
            params={"code": code, "minutes": OTP_MINUTES},
            idempotency_key=f"otp:{challenge.pk}",
        )


def _is_applicant_phone(hashed: str) -> bool:
    return ApplicationMember.objects.filter(phone_hash=hashed, role=ApplicationMember.Role.APPLICANT).exists()


def _code_is_well_formed(code: Any) -> bool:
    return isinstance(code, str) and len(code) == CODE_LENGTH and all(c in "0123456789" for c in code)


def otp_verify(*, phone: str, purpose: str, code: str) -> int:
    """Check `code` against the newest live challenge without consuming it; return the challenge id.

    Every check of a well-formed code counts as an attempt, in its own transaction when called
    outside one. Call it before opening your transaction: a caller that rolls back on the refusal
    would roll the count back too, and the code could then be guessed without limit.
    """
    purpose = _check_purpose(purpose)
    try:
        e164 = normalise_mobile(phone) if isinstance(phone, str) else ""
    except InvalidPhone:
        e164 = ""
    if not e164 or not _code_is_well_formed(code):
        raise ApplicationError(WRONG_CODE, {"fields": {"otp": str(WRONG_CODE)}})
    now = timezone.now()
    with transaction.atomic():
        challenge = (
            OtpChallenge.objects.select_for_update()
            .filter(phone_hash=phone_index(e164), purpose=purpose)
            .order_by("-created_at", "-pk")
            .first()
        )
        if challenge is None or challenge.consumed_at is not None or challenge.expires_at <= now:
            raise ApplicationError(WRONG_CODE, {"fields": {"otp": str(WRONG_CODE)}})
        if challenge.attempts >= MAX_ATTEMPTS:
            raise ApplicationError(TOO_MANY_ATTEMPTS, {"fields": {"otp": str(TOO_MANY_ATTEMPTS)}})
        challenge.attempts += 1
        challenge.save(update_fields=["attempts"])
        matches = hmac.compare_digest(challenge.code_hash, _code_hash(e164=e164, purpose=purpose, code=code))
    if not matches:
        left = MAX_ATTEMPTS - challenge.attempts
        message = TOO_MANY_ATTEMPTS if left <= 0 else WRONG_CODE
        raise ApplicationError(message, {"fields": {"otp": str(message)}})
    return challenge.pk


def otp_consume(*, challenge_id: int) -> None:
    """Mark a verified challenge used, in the caller's transaction; a second use is refused.

    Conditional on "not yet consumed and not expired", so of two requests racing with one code,
    exactly one succeeds.
    """
    used = OtpChallenge.objects.filter(
        pk=challenge_id, consumed_at__isnull=True, expires_at__gt=timezone.now()
    ).update(consumed_at=timezone.now())
    if not used:
        raise ApplicationError(WRONG_CODE, {"fields": {"otp": str(WRONG_CODE)}})


def otp_check(*, phone: str, purpose: str, code: str, consume: bool = True) -> None:
    """Raise ApplicationError unless `code` is the live code sent to `phone` for `purpose`.

    With `consume` (the default) the code is used up at once. Call it outside your transaction (see
    otp_verify); to consume only when your own work succeeds, call otp_verify first and otp_consume
    inside your transaction.
    """
    challenge_id = otp_verify(phone=phone, purpose=purpose, code=code)
    if consume:
        with transaction.atomic():
            otp_consume(challenge_id=challenge_id)
