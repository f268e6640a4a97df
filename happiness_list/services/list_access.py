"""The way into a household's list: its token, a phone of the household, an SMS code, a lockout.

A token is a household's 幸福签 card token: the QR code on its card and the link of the closure
SMS are the same token, so reprinting the card retires both (404).
The SMS code goes only to a phone on record for the household (a member's, or a guardian's the
assistant registered), and every answer is the same whether or not the phone belongs to it: an
unknown phone, another household's phone and a member's phone all get "sent" and, with a wrong
code, "wrong code". Five failed codes for one token lock it for LOCK_SECONDS.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from applications.models import ApplicationMember, Household, OtpPurpose, Person
from applications.services.otp import WRONG_CODE, otp_consume, otp_send, otp_verify
from assist_center.actors import Actor
from assist_center.audit import RESIDENT, audit_record
from assist_center.errors import ApplicationError, field_error
from assist_center.permissions import is_centre
from assist_center.phones import InvalidPhone, normalise_mobile
from assist_center.pii import phone_index
from assist_center.scopes import get_in_scope_or_404

from ..models import Guardian, HappinessCard

__all__ = [
    "LOCK_FAILURES",
    "LOCK_SECONDS",
    "TOKEN_SHAPE",
    "Resolved",
    "happiness_assisted_open",
    "happiness_code_check",
    "happiness_code_send",
    "household_list_url",
    "household_phone_method",
    "otp_token_purpose_send",
    "token_resolve",
]

logger = logging.getLogger(__name__)

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")
# issue 12: "five wrong codes lock the token for a while".
LOCK_FAILURES = 5
LOCK_SECONDS = 30 * 60
# One code a minute and six an hour per token and phone, counted the same for every phone, so
# the limits cannot tell a household's phone from a stranger's.
SEND_COOLDOWN_SECONDS = 60
SEND_PER_HOUR = 6

LOCKED = _(
    "Too many wrong codes for this list. Please try again in %(minutes)s minutes, or ask the township office."
)
WAIT = _("An SMS code was sent less than a minute ago. Please wait a minute before asking again.")
TOO_MANY_SENT = _("Too many SMS codes requested. Please wait a while and try again.")
UNAVAILABLE = _("The list cannot be opened at the moment. Please try again in a few minutes.")


@dataclass(frozen=True)
class Resolved:
    household_id: int
    # The application whose family token was used (its case opens for rating), else None.
    application_id: int | None
    token: str


def token_resolve(token: str) -> Resolved:
    """The household a 幸福签 card token opens; Http404 for anything else.

    The closure SMS carries the same card token (household_list_url). A rotated token is simply
    no longer in the table: 404 like a token never issued.
    """
    if not isinstance(token, str) or not TOKEN_SHAPE.fullmatch(token):
        raise Http404
    card = HappinessCard.objects.filter(token=token).values_list("household_id", flat=True).first()
    if card is None:
        raise Http404
    return Resolved(household_id=card, application_id=None, token=token)


def household_phone_method(*, household_id: int, phone_hash: str) -> str | None:
    """ "phone" for a member's phone on record, "guardian" for a registered guardian's, else None."""
    if not phone_hash:
        return None
    member = (
        Person.objects.filter(household_id=household_id, phone_hash=phone_hash)
        .exclude(registry_status=Person.RegistryStatus.DECEASED)
        .exists()
        or ApplicationMember.objects.filter(
            application__household_id=household_id,
            phone_hash=phone_hash,
            role__in=(ApplicationMember.Role.APPLICANT, ApplicationMember.Role.MEMBER),
            in_other_household=False,
        ).exists()
    )
    if member:
        return "phone"
    if Guardian.objects.filter(household_id=household_id, phone_hash=phone_hash, active=True).exists():
        return "guardian"
    return None


def _key(kind: str, *parts: str) -> str:
    # Hashed: the cache never holds a token or a phone.
    return f"happiness:{kind}:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


def _lock_check(token: str) -> None:
    """Raise the 429 (saying in how many minutes to try again) while the token is locked.

    The lock holds its end as a timestamp (not only as the cache's expiry), so the wait it names
    is exact and follows time.time().
    """
    try:
        until = cache.get(_key("lock", token))
    except Exception:
        # Fail closed: without the counter the codes could be guessed without end.
        raise ApplicationError(UNAVAILABLE, status=503) from None
    if until is None:
        return
    left = float(until) - time.time()
    if left > 0:
        minutes = max(1, -(-int(left) // 60))
        raise ApplicationError(LOCKED % {"minutes": minutes}, {"retry_after": int(left) + 1}, status=429)


def _count_failure(token: str) -> None:
    key = _key("fail", token)
    try:
        cache.add(key, 0, timeout=LOCK_SECONDS)
        failures = cache.incr(key)
        if failures >= LOCK_FAILURES:
            cache.set(_key("lock", token), time.time() + LOCK_SECONDS, timeout=LOCK_SECONDS + 60)
            cache.delete(key)
    except Exception:
        logger.warning("happiness: could not count a failed code (cache unavailable)")


def _clean_phone(phone: Any) -> str:
    if not isinstance(phone, str) or not phone.strip():
        raise field_error("phone", _("Enter the mobile phone number."))
    try:
        return normalise_mobile(phone)
    except InvalidPhone as exc:
        raise field_error("phone", exc.messages[0]) from None


def _send_limits(token: str, e164: str) -> None:
    now = time.time()
    try:
        # The last send's time is the value (not only the key's expiry), so the minute follows
        # time.time(); otp_send keeps its own atomic minute per phone as well.
        cool = _key("cool", token, e164)
        last = cache.get(cool)
        if last is not None and now - float(last) < SEND_COOLDOWN_SECONDS:
            raise ApplicationError(WAIT, {"fields": {"phone": str(WAIT)}}, status=429)
        cache.set(cool, now, timeout=SEND_COOLDOWN_SECONDS + 60)
        hour = _key("hour", token, e164, str(int(now // 3600)))
        cache.add(hour, 0, timeout=2 * 3600)
        if cache.incr(hour) > SEND_PER_HOUR:
            raise ApplicationError(TOO_MANY_SENT, status=429)
    except ApplicationError:
        raise
    except Exception:
        raise ApplicationError(UNAVAILABLE, status=503) from None


def happiness_code_send(*, token: str, phone: Any, ip: str | None) -> None:
    """Send an SMS code for the list to `phone` if it is on record for the token's household.

    The same answer (None) otherwise, after the same limits: the caller learns nothing.
    """
    resolved = token_resolve(token)
    e164 = _clean_phone(phone)
    _lock_check(resolved.token)
    _send_limits(resolved.token, e164)
    method = household_phone_method(household_id=resolved.household_id, phone_hash=phone_index(e164))
    if method is None:
        return
    try:
        otp_send(phone=e164, purpose=OtpPurpose.HAPPINESS, ip=ip)
    except ApplicationError as exc:
        if exc.status != 429:
            raise
        # The phone's own limits across all purposes were hit (it asked for other codes lately). A
        # 429 here, and not for a stranger's phone, would tell that the phone is the household's.
        logger.info("happiness: a code was not sent, the phone's limits were reached")


def happiness_code_check(*, token: str, phone: Any, otp: Any) -> tuple[Resolved, str]:
    """Check the code for the token's household; (resolved, method) or the one refusal for all.

    A phone that is not the household's, a wrong code and an expired one all answer WRONG_CODE and
    count towards the token's lockout. The code is used up when it opens the list.
    """
    resolved = token_resolve(token)
    _lock_check(resolved.token)
    try:
        e164 = _clean_phone(phone)
    except ApplicationError:
        _count_failure(resolved.token)
        raise
    code = otp.strip() if isinstance(otp, str) else ""
    method = household_phone_method(household_id=resolved.household_id, phone_hash=phone_index(e164))
    if method is None:
        _count_failure(resolved.token)
        raise ApplicationError(WRONG_CODE, {"fields": {"otp": str(WRONG_CODE)}})
    try:
        challenge_id = otp_verify(phone=e164, purpose=OtpPurpose.HAPPINESS, code=code)
    except ApplicationError:
        _count_failure(resolved.token)
        raise
    with transaction.atomic():
        otp_consume(challenge_id=challenge_id)
        audit_record(
            actor=RESIDENT,
            action="happiness.open",
            subject=("applications.household", str(resolved.household_id)),
            new={"method": method, "application": resolved.application_id},
        )
    try:
        cache.delete(_key("fail", resolved.token))
    except Exception:
        logger.warning("happiness: could not clear the failure count (cache unavailable)")
    return resolved, method


def happiness_assisted_open(*, actor: Actor, household_id: int, reason: str = "") -> Household:
    """An assistant opens a household's list for the resident at the township window (logged).

    Out of the actor's scope: Http404; in scope but not the centre (a village cadre): 403.
    """
    household = get_in_scope_or_404(Household.objects.select_related("township"), actor, pk=household_id)
    if not is_centre(actor):
        raise PermissionDenied
    audit_record(
        actor=actor,
        action="happiness.assisted_open",
        subject=household,
        new={"method": "assisted"},
        reason=reason,
        region=household.township,
    )
    return household


def otp_token_purpose_send(*, purpose: str, token: Any, phone: Any, ip: str | None) -> bool:
    """The "otp_token_purpose_send" hook: POST /api/v1/public/otp/ with purpose `happiness`.

    The same checks and the same silence as the gate page's own form (happiness_code_send).
    """
    if purpose != OtpPurpose.HAPPINESS:
        return False
    if not isinstance(token, str):
        raise Http404
    happiness_code_send(token=token, phone=phone, ip=ip)
    return True


def household_list_url(*, household_id: int) -> str:
    """The "household_list_url" hook: the closure SMS's link, the household's card token.

    The household gets its card (and token) now if it has none; a reprint later rotates the token
    and this link then answers 404 like any old card.
    """
    from .cards import card_ensure, card_url

    return card_url(card_ensure(household_id=household_id).token)
