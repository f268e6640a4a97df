"""Second factor for staff and organisation accounts: TOTP, and recovery codes for a lost phone.

Recovery codes are django-otp static tokens, issued with the TOTP device (`manage.py
totp_enroll`) or anew (`manage.py recovery_codes`), printed once and never shown again. The
table holds a keyed digest of each code, not the code (django-otp would store it in clear, and
a database dump would then pass the second factor of every account); a code is deleted when
used, so each works once.

The login forms pick the device from what was typed: six digits are the authenticator's code,
anything else a recovery code. django-otp 1.7 otherwise asks the user to choose a device in a
second round trip, which neither login page offered.
"""

from __future__ import annotations

import secrets
import unicodedata
from typing import Any

from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import audit_record

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "recovery"
# No 0/o, 1/l/i: read off paper by someone locked out, typed on a phone.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_CODE_LENGTH = 10


def normalise_code(code: str) -> str:
    """Lowercase, without spaces or hyphens, full-width characters folded (NFKC)."""
    text = unicodedata.normalize("NFKC", code or "")
    return "".join(ch for ch in text.lower() if ch not in " -\u3000\t")


def recovery_code_digest(code: str) -> str:
    """The 16-hex-digit keyed digest stored in place of a code (StaticToken.token is 16 wide)."""
    return salted_hmac("assist_center.recovery_code", normalise_code(code), algorithm="sha256").hexdigest()[
        :16
    ]


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def recovery_codes_issue(*, user: AbstractBaseUser, actor: Any = None) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new ones and return them (once)."""
    codes = [_new_code() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
        StaticToken.objects.bulk_create(
            [StaticToken(device=device, token=recovery_code_digest(code)) for code in codes]
        )
        audit_record(
            actor=actor,
            action="staff.recovery_codes_issued",
            subject=user,
            new={"count": len(codes)},
        )
    return codes


def recovery_codes_left(user: AbstractBaseUser) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _looks_like_totp(token: str) -> bool:
    return len(token) == 6 and token.isascii() and token.isdigit()


class SecondFactorFormMixin:
    """Put before django-otp's OTPAuthenticationFormMixin: choose the device from the token."""

    cleaned_data: dict[str, Any]
    otp_error_messages: dict[str, Any]

    def _chosen_device(self, user: Any) -> Any:
        device = super()._chosen_device(user)  # type: ignore[misc]
        if device is not None:
            return device
        token = normalise_code(self.cleaned_data.get("otp_token") or "")
        if not token:
            return None
        if _looks_like_totp(token):
            return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        return StaticDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()

    def _verify_token(self, user: Any, token: str, device: Any = None) -> Any:
        if device is None:
            # No device of the kind typed: the same "invalid token" as a wrong code, rather than
            # django-otp's "choose a device", which no page here offers.
            raise forms.ValidationError(self.otp_error_messages["invalid_token"], code="invalid_token")
        if isinstance(device, StaticDevice):
            # The row lock makes a code single-use under two simultaneous logins: clean_otp runs in
            # a transaction, and the second one finds the token already deleted.
            device = StaticDevice.objects.select_for_update().get(pk=device.pk)
            token = recovery_code_digest(token)
        return super()._verify_token(user, token, device)  # type: ignore[misc]
