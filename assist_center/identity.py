"""Resident ID numbers (GB 11643-1999): normalise, validate, and read the facts they encode.

Only explicit ASCII comparisons are used on input: Python's `str.isdigit`, `\\d` and `int()` accept
digits of other scripts (Arabic-Indic, Devanagari, ...), which would let a look-alike number through
validation and then fail to match the same person's number in the HMAC index.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise, StrPromise

__all__ = [
    "ERROR_MESSAGES",
    "DocumentType",
    "IdErrorCode",
    "InvalidIdNumber",
    "ResidentId",
    "make_id_number",
    "normalise_id_number",
    "parse_id_number",
    "validate_id_number",
]

ID_LENGTH = 18
# Room for a number typed with spaces between every digit group, but nothing that makes NFKC
# normalisation of a hostile multi-megabyte payload expensive.
_MAX_RAW_LENGTH = 100
_DIGITS = "0123456789"
_DIGIT_VALUE: Mapping[str, int] = {c: i for i, c in enumerate(_DIGITS)}
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
# NFKC maps U+3000 and the other Unicode spaces to U+0020 first; U+3000 is listed anyway so that
# the set reads as the specification says.
_WHITESPACE = frozenset(" \t\n\r\v\f\u3000")
_EARLIEST_BIRTH = date(1900, 1, 1)

_PROVINCE_RANGES = ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65))
PROVINCE_CODES = frozenset(f"{code:02d}" for low, high in _PROVINCE_RANGES for code in range(low, high + 1))
PERMIT_CODES = frozenset({"81", "82", "83"})
_FOREIGNER_LEAD = "9"


class DocumentType(models.TextChoices):
    CITIZEN = "citizen", _("Resident identity card")
    HK_MACAO_TW_PERMIT = "hk_macao_tw_permit", _("Residence permit for Hong Kong, Macao and Taiwan residents")
    FOREIGNER_PERMANENT = "foreigner_permanent", _("Foreign permanent resident ID card")


IdErrorCode = Literal[
    "not_str", "empty", "nul", "characters", "length", "checksum", "province", "date", "future", "too_old"
]

# No message may contain the number or any part of it (security.md): they are shown on pages,
# sent through the API and end up in logs. That is also why they carry no digits beyond "18".
ERROR_MESSAGES: Mapping[IdErrorCode, StrPromise] = {
    "not_str": _("The ID number must be text."),
    "empty": _("Enter the ID number."),
    "nul": _("The ID number contains a control character."),
    "characters": _("The ID number may contain only digits, and an X as its last character."),
    "length": _("The ID number must be 18 characters."),
    "checksum": _("The ID number's check character is wrong; please look for a typing mistake."),
    "province": _("The ID number does not start with a valid province code."),
    "date": _("The birth date in the ID number is not a real date."),
    "future": _("The birth date in the ID number is in the future."),
    "too_old": _("The birth year in the ID number is too early."),
}


class InvalidIdNumber(ValidationError):
    """A rejected ID number; `code` names the reason, the message never contains the number."""

    code: IdErrorCode

    def __init__(self, code: IdErrorCode, message: StrOrPromise | None = None) -> None:
        super().__init__(message if message is not None else ERROR_MESSAGES[code], code=code)

    def __reduce__(self) -> tuple[Any, ...]:
        # ValidationError pickles as cls(message, code, params), which does not fit this signature.
        return (type(self), (self.code, self.message))


@dataclass(frozen=True, repr=False)
class ResidentId:
    """A validated ID number and what it encodes.

    `province_code` is the first two digits; for a foreigner's permanent-residence number it is
    digits 2-3 (the province where the card was applied for).
    """

    number: str
    document_type: DocumentType
    sex: Literal["M", "F"]
    birth_date: date
    province_code: str

    def __repr__(self) -> str:
        # A logged or printed ResidentId must not disclose the number or the birth date.
        return f"ResidentId(masked={self.masked!r}, document_type={self.document_type.value!r})"

    @property
    def masked(self) -> str:
        return f"{self.number[:3]}{'*' * 11}{self.number[-4:]}"

    def age_on(self, day: date) -> int:
        """Return the age in completed years on `day`; someone born on 29 February ages on 1 March."""
        if day < self.birth_date:
            raise ValueError("day is before the birth date")
        return age_on(self.birth_date, day)


def age_on(birth: date, day: date) -> int:
    """Return the age in completed years on `day` (the one age function; 29 February ages on 1 March)."""
    return day.year - birth.year - int((day.month, day.day) < (birth.month, birth.day))


def normalise_id_number(raw: str) -> str:
    """Return `raw` under NFKC without any whitespace and with `x` as `X`; validate nothing."""
    text = unicodedata.normalize("NFKC", str(raw))
    return "".join(c for c in text if c not in _WHITESPACE).replace("x", "X")


def parse_id_number(raw: str, *, today: date | None = None) -> ResidentId:
    """Validate an ID number as typed by a person and return its facts, or raise InvalidIdNumber.

    `today` (default: the local date in TIME_ZONE) bounds the birth date from above.
    """
    if not isinstance(raw, str):
        raise InvalidIdNumber("not_str")
    if len(raw) > _MAX_RAW_LENGTH:
        raise InvalidIdNumber("length")
    # PostgreSQL rejects NUL in text; name it rather than lump it with ordinary bad characters.
    if "\x00" in raw:
        raise InvalidIdNumber("nul")
    number = normalise_id_number(raw)
    if not number:
        raise InvalidIdNumber("empty")
    if any(c not in _DIGITS and c != "X" for c in number) or "X" in number[:-1]:
        raise InvalidIdNumber("characters")
    if len(number) != ID_LENGTH:
        raise InvalidIdNumber("length")
    if number[-1] != _check_character(number[:-1]):
        raise InvalidIdNumber("checksum")

    document_type, province_code = _document_type(number)
    birth_date = _birth_date(number, today=today if today is not None else timezone.localdate())
    sex: Literal["M", "F"] = "M" if _DIGIT_VALUE[number[16]] % 2 else "F"
    return ResidentId(
        number=number,
        document_type=document_type,
        sex=sex,
        birth_date=birth_date,
        province_code=province_code,
    )


def validate_id_number(value: str) -> None:
    """Django validator for form, serializer and model fields."""
    parse_id_number(value)


def make_id_number(*, region6: str, birth: date, seq: int) -> str:
    """Build a well-formed number with its check character (for seed data and tests).

    `region6` is any six ASCII digits (a foreigner's number: "9", the acceptance-province code and
    the three-digit nationality code); `seq` is 0-999, odd for men and even for women.
    """
    if len(region6) != 6 or any(c not in _DIGITS for c in region6):
        raise ValueError("region6 must be six ASCII digits")
    if not 0 <= seq <= 999:
        raise ValueError("seq must be between 0 and 999")
    # Explicit widths: strftime("%Y") does not zero-pad years before 1000 on every platform.
    body = f"{region6}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    return body + _check_character(body)


def _check_character(body: str) -> str:
    """ISO 7064 MOD 11-2 over the 17 ASCII digits of `body`."""
    total = sum(_DIGIT_VALUE[c] * weight for c, weight in zip(body, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def _ascii_int(digits: str) -> int:
    value = 0
    for c in digits:
        value = value * 10 + _DIGIT_VALUE[c]
    return value


def _document_type(number: str) -> tuple[DocumentType, str]:
    if number[0] == _FOREIGNER_LEAD:
        # The 2023 card puts the acceptance province in digits 2-3. No published list says whether
        # national immigration offices use codes outside the province list, so a valid card is
        # not risked on it: the code is reported, not checked.
        return DocumentType.FOREIGNER_PERMANENT, number[1:3]
    province = number[:2]
    if province in PERMIT_CODES:
        return DocumentType.HK_MACAO_TW_PERMIT, province
    # Only the province is checked: abolished county codes stay valid on cards issued before.
    if province not in PROVINCE_CODES:
        raise InvalidIdNumber("province")
    return DocumentType.CITIZEN, province


def _birth_date(number: str, *, today: date) -> date:
    try:
        birth = date(_ascii_int(number[6:10]), _ascii_int(number[10:12]), _ascii_int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber("date") from None
    if birth < _EARLIEST_BIRTH:
        raise InvalidIdNumber("too_old")
    if birth > today:
        raise InvalidIdNumber("future")
    return birth
