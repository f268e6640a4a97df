"""Phone numbers: normalise to E.164, insist on a mobile where SMS is needed, mask for display."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberType

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise, StrPromise

__all__ = [
    "DEFAULT_REGION",
    "ERROR_MESSAGES",
    "InvalidPhone",
    "PhoneErrorCode",
    "mask_phone",
    "normalise_mobile",
    "normalise_phone",
]

DEFAULT_REGION = "CN"
_CN_COUNTRY_CODE = 86
_MAX_RAW_LENGTH = 64
_DIGITS = "0123456789"
# Everything else is refused before phonenumbers sees it: the library would otherwise read letters
# as a vanity number ("1-800-FLOWERS" becomes a valid CN mobile), take "ext 12" as an extension
# and accept digits of other scripts.
_ALLOWED = frozenset(_DIGITS + "+-().")
_WHITESPACE = frozenset(" \t\n\r\v\f\u3000")
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_FULL_MASK = "****"

PhoneErrorCode = Literal["empty", "invalid", "not_mobile"]

# Messages never echo the number: they reach pages, API responses and logs.
ERROR_MESSAGES: Mapping[PhoneErrorCode, StrPromise] = {
    "empty": _("Enter a phone number."),
    "invalid": _("Enter a valid phone number."),
    "not_mobile": _("Enter a mobile number that can receive text messages."),
}


class InvalidPhone(ValidationError):
    """A rejected phone number; `code` names the reason, the message never contains the number."""

    code: PhoneErrorCode

    def __init__(self, code: PhoneErrorCode, message: StrOrPromise | None = None) -> None:
        super().__init__(message if message is not None else ERROR_MESSAGES[code], code=code)

    def __reduce__(self) -> tuple[Any, ...]:
        # ValidationError pickles as cls(message, code, params), which does not fit this signature.
        return (type(self), (self.code, self.message))


def normalise_phone(raw: str) -> str:
    """Return the number as E.164 (`+8613800138000`), reading national numbers as Chinese."""
    return _e164(_parse(raw))


def normalise_mobile(raw: str) -> str:
    """Like normalise_phone, but refuse anything that cannot receive SMS."""
    number = _parse(raw)
    if not _is_mobile(number):
        raise InvalidPhone("not_mobile")
    return _e164(number)


def mask_phone(e164: str) -> str:
    """Return a display mask: `138****8000` for a CN mobile, `010****8888` for a CN landline,
    `+852 ****5678` elsewhere.

    Meant for stored E.164 values; anything unreadable gives `****` instead of an error, because a
    page showing a mask must neither fail nor fall back to the full value.
    """
    if not isinstance(e164, str) or not e164:
        return _FULL_MASK
    digits = e164[1:] if e164[0] == "+" else e164
    if not digits or any(c not in _DIGITS for c in digits):
        return _FULL_MASK
    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except NumberParseException:
        return _FULL_MASK
    national = phonenumbers.national_significant_number(number)
    if number.country_code == _CN_COUNTRY_CODE:
        if _is_cn_mobile_shape(national):
            return f"{national[:3]}****{national[-4:]}"
        # Landlines are written with the trunk 0 in China; what shows is the area code's start.
        if len(national) >= 9:
            written = "0" + national
            return f"{written[:3]}****{written[-4:]}"
    shown = min(4, len(national) // 2)
    tail = national[-shown:] if shown else ""
    return f"+{number.country_code} ****{tail}"


def _parse(raw: str) -> PhoneNumber:
    if not isinstance(raw, str) or len(raw) > _MAX_RAW_LENGTH:
        raise InvalidPhone("invalid")
    # NFKC first: full-width digits, "＋" and "－" come from Chinese phone keyboards.
    text = "".join(c for c in unicodedata.normalize("NFKC", str(raw)) if c not in _WHITESPACE)
    if not text:
        raise InvalidPhone("empty")
    if any(c not in _ALLOWED for c in text) or "+" in text[1:]:
        raise InvalidPhone("invalid")
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except NumberParseException:
        raise InvalidPhone("invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("invalid")
    return number


def _e164(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _is_cn_mobile_shape(national: str) -> bool:
    return len(national) == 11 and national[0] == "1" and national[1] in "3456789"


def _is_mobile(number: PhoneNumber) -> bool:
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return False
    if number.country_code == _CN_COUNTRY_CODE:
        # The SMS gateways take only 11-digit 1[3-9] numbers; this keeps that true whatever a later
        # metadata update classifies as mobile (the 13-digit IoT ranges, for instance).
        return _is_cn_mobile_shape(phonenumbers.national_significant_number(number))
    return True
