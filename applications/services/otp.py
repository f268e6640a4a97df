"""SMS verification codes: send (rate-limited), check (attempt-limited), consume once.

A code is 6 random digits, stored only as an HMAC keyed with PII_HASH_KEY and bound to the phone
and purpose, valid for 10 minutes and for 5 checks; only the newest code of a phone and purpose
counts. Limits live in the cache (Redis) because they must be atomic across web processes and
hosts; see `_limit_hit` for what happens when the cache is down.
"""

from __future__ import annotations

import contextlib
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
    "IP_PER_HOUR",
    "MAX_ATTEMPTS",
    "OTP_MINUTES",
    "PHONE_COOLDOWN_SECONDS",
    "PHONE_PER_DAY",
    "PHONE_PURPOSE_PER_HOUR",
    "TOKEN_PER_HOUR",
    "LimitUnavailable",
    "RateLimited",
    "limit_hit",
    "otp_check",
    "otp_consume",
    "otp_refusal_counts",
    "otp_send",
    "otp_verify",
    "retry_after_seconds",
]

CODE_LENGTH = 6
OTP_MINUTES = 10
MAX_ATTEMPTS = 5
# Limits (issue 16, replacing issue 3's twenty an hour per address). Residents share addresses: a
# carrier's NAT puts a whole town behind one, and a village office helps a queue of people from
# one connection. So the limits that bite are per phone (they protect the person being texted
# from SMS bombing) and per token (a family link or a receipt code: one household's codes), each
# per purpose; the per-address limit is only a high ceiling against a script running up the bill,
# and its refusals are counted for the centre's statistics page (otp_refusal_counts).
PHONE_COOLDOWN_SECONDS = 60  # per phone and purpose
PHONE_PURPOSE_PER_HOUR = 5  # per phone and purpose
PHONE_PER_DAY = 20  # per phone, all purposes together
TOKEN_PER_HOUR = 20  # per token and purpose: a family of several signers, each asking twice
IP_PER_HOUR = 500  # per address, all purposes: the abuse ceiling
_HOUR = 3600
_DAY = 24 * _HOUR
# How long the centre's counters of refusals are kept (the statistics page shows today's).
_REFUSALS_TTL = 3 * _DAY

WRONG_CODE = _("The SMS code is wrong or has expired. Please request a new one if needed.")
TOO_MANY_ATTEMPTS = _("Too many wrong codes. Please request a new SMS code.")
RATE_LIMITED_WAIT = _("Too many SMS codes were requested. Please try again in %(minutes)s minutes.")
WAIT_A_MINUTE = _("An SMS code was sent less than a minute ago. Please wait a minute before asking again.")
SMS_UNAVAILABLE = _("SMS codes cannot be sent at the moment. Please try again in a few minutes.")

# The limits whose refusals the centre sees, by name (otp_refusal_counts).
REFUSAL_LIMITS = ("otp-ip", "otp-phone", "otp-phone-day", "otp-token")


class RateLimited(Exception):
    """A limit was exceeded; `retry_after` is the number of seconds until a new hit is allowed."""

    def __init__(self, retry_after: int = 0) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class LimitUnavailable(Exception):
    """The cache that counts limits did not answer."""


def _estimate(current: float, previous: float, elapsed: float) -> float:
    return current + previous * (1.0 - elapsed)


def _window_count(key: str, period: int) -> tuple[float, float, float]:
    """Count one hit in a sliding window of `period` seconds; return (current, previous, elapsed).

    Two fixed buckets (this period and the last), the last one weighted by how much of it still lies
    inside the window (`_estimate`): atomic (one INCR), bounded memory, and far tighter than one
    fixed window, which lets twice the limit through around a bucket edge. Buckets follow
    time.time(), so tests move them with time-machine.
    """
    now = time.time()
    bucket = int(now // period)
    current_key = f"{key}:{bucket}"
    # add() then incr(): INCR on Redis is atomic, and add() sets the expiry only on the first hit.
    cache.add(current_key, 0, timeout=2 * period + 60)
    current = cache.incr(current_key)
    previous = cache.get(f"{key}:{bucket - 1}", 0)
    elapsed = (now % period) / period
    return float(current), float(previous or 0), elapsed


def retry_after_seconds(*, current: float, previous: float, elapsed: float, limit: int, period: int) -> int:
    """Seconds from now until one more hit fits under `limit`, if nobody tries in the meantime.

    The estimate falls as the previous bucket slides out of the window; at the bucket edge this
    bucket becomes the previous one. Searched minute by minute (two periods at most): the resident
    is told a whole number of minutes anyway.
    """
    step = 60
    for waited in range(step, 2 * period + step, step):
        at = elapsed + waited / period
        if at < 1:
            count = _estimate(current, previous, at)
        elif at < 2:
            count = _estimate(0, current, at - 1)
        else:
            count = 0
        if count + 1 <= limit:
            return waited
    return 2 * period


def _cooldown_key(purpose: str, e164: str) -> str:
    return f"rl:otp-cool:{purpose}:{blind_index('ratelimit', e164)[:32]}"


def _cooldown_open(key: str, seconds: int) -> bool:
    """Whether at least `seconds` have passed since the last allowed hit (nothing recorded).

    The hit time is stored in a bucket of `seconds`; the previous bucket is read too, so "one per
    minute" holds across a bucket edge.
    """
    now = time.time()
    bucket = int(now // seconds)
    for stored in cache.get_many([f"{key}:{bucket - 1}", f"{key}:{bucket}"]).values():
        if stored is not None and now - float(stored) < seconds:
            return False
    return True


def _cooldown_record(key: str, seconds: int) -> bool:
    """Record an allowed hit; False if another one got there first (two racing in one bucket)."""
    now = time.time()
    return bool(cache.add(f"{key}:{int(now // seconds)}", now, timeout=2 * seconds + 60))


def limit_hit(name: str, ident: str, *, limit: int, period: int) -> None:
    """Count a hit for `ident` under the limit `name`; raise RateLimited over it (with the wait),
    LimitUnavailable when the cache is down (the caller decides whether that fails open or closed).

    `ident` is hashed before it reaches Redis: it may be a phone or an IP address.
    """
    key = f"rl:{name}:{blind_index('ratelimit', ident)[:32]}"
    try:
        current, previous, elapsed = _window_count(key, period)
    except Exception as exc:  # redis.ConnectionError, TimeoutError, ...: whatever the client raises
        raise LimitUnavailable from exc
    if _estimate(current, previous, elapsed) > limit:
        # A refused hit is not counted: a resident who tries again too early is not pushed
        # further back, so the wait the message names stays true.
        # If the cache fails here, the refusal stands and the count is one high until the bucket ends.
        with contextlib.suppress(Exception):
            cache.decr(f"{key}:{int(time.time() // period)}")
        current -= 1
        raise RateLimited(
            retry_after_seconds(
                current=current, previous=previous, elapsed=elapsed, limit=limit, period=period
            )
        )


def _refusal_key(name: str, day: str) -> str:
    return f"otp-refusals:{name}:{day}"


def _count_refusal(name: str) -> None:
    """One more refusal by the limit `name` today, for the centre (never fails the request)."""
    key = _refusal_key(name, timezone.localdate().isoformat())
    try:
        cache.add(key, 0, timeout=_REFUSALS_TTL)
        cache.incr(key)
    except Exception:  # the count is a statistic; the refusal itself already happened
        return


def otp_refusal_counts(*, day: str | None = None) -> dict[str, int]:
    """How many SMS code requests each limit refused on `day` (ISO date, default today).

    No phone, address or purpose is kept: only a number per limit, for the centre to see whether
    the address ceiling refuses real residents (then raise IP_PER_HOUR) or a script.
    """
    day = day or timezone.localdate().isoformat()
    try:
        values = cache.get_many([_refusal_key(name, day) for name in REFUSAL_LIMITS])
    except Exception:
        values = {}
    # Underscores in the keys: the names are read in templates.
    return {name.replace("-", "_"): int(values.get(_refusal_key(name, day)) or 0) for name in REFUSAL_LIMITS}


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


def _refuse(name: str, exc: RateLimited) -> ApplicationError:
    _count_refusal(name)
    message = RATE_LIMITED_WAIT % {"minutes": _minutes(exc.retry_after)}
    return ApplicationError(message, {"retry_after": exc.retry_after}, status=429)


def _send_limits(*, e164: str, purpose: str, ip: str | None, token: str | None) -> None:
    """Refuse (429, saying how long to wait) or count one code; a refused request counts nowhere."""
    cool = _cooldown_key(purpose, e164)
    wait_a_minute = ApplicationError(WAIT_A_MINUTE, {"retry_after": PHONE_COOLDOWN_SECONDS}, status=429)
    name = ""
    try:
        try:
            # Per phone AND purpose: a resident who has just applied may at once need a code to
            # sign on the family page; the daily cap below is per phone whatever the purpose.
            if not _cooldown_open(cool, PHONE_COOLDOWN_SECONDS):
                raise wait_a_minute
        except ApplicationError:
            raise
        except Exception as exc:
            raise LimitUnavailable from exc
        if ip:
            name = "otp-ip"
            limit_hit(name, ip, limit=IP_PER_HOUR, period=_HOUR)
        if token:
            name = "otp-token"
            limit_hit(name, f"{purpose}:{token}", limit=TOKEN_PER_HOUR, period=_HOUR)
        name = "otp-phone"
        limit_hit(name, f"{purpose}:{e164}", limit=PHONE_PURPOSE_PER_HOUR, period=_HOUR)
        name = "otp-phone-day"
        limit_hit(name, e164, limit=PHONE_PER_DAY, period=_DAY)
        try:
            recorded = _cooldown_record(cool, PHONE_COOLDOWN_SECONDS)
        except Exception as exc:
            raise LimitUnavailable from exc
        if not recorded:
            raise wait_a_minute
    except RateLimited as exc:
        raise _refuse(name, exc) from None
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


def otp_send(*, phone: str, purpose: str, ip: str | None, token: str | None = None) -> None:
    """Send a new code to `phone` for `purpose`, or raise ApplicationError (400 bad input, 429 over a
    limit, saying in how many minutes to try again; 503 when limits cannot be counted).

    `token` names what the code is for (a family link's token, a receipt code) so that one
    household's codes are limited together whatever phone and address ask for them.

    For the `status` purpose, a phone that is no applicant's gets no SMS, but the caller cannot tell:
    the answer is the same, so the endpoint reveals nothing about who applied.
    """
    purpose = _check_purpose(purpose)
    e164 = _phone_or_error(phone, message=_("Enter the mobile phone number."))
    _send_limits(e164=e164, purpose=purpose, ip=ip, token=token)
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
