"""Checks of plain inputs that services take from forms and APIs alike."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .errors import field_error

MAX_TEXT = 1000


def clean_text(field: str, value: Any, *, required: bool, max_length: int = MAX_TEXT) -> str:
    """The stripped text, or a field error: not a string, a NUL byte, blank when required, too long.

    None counts as blank. The message names no value: what was typed may be personal data.
    """
    if value is None:
        value = ""
    if not isinstance(value, str) or "\x00" in value:
        raise field_error(field, _("Enter plain text."))
    value = value.strip()
    if required and not value:
        raise field_error(field, pgettext_lazy("form", "This field is required."))
    if len(value) > max_length:
        raise field_error(field, _("At most %(n)d characters.") % {"n": max_length})
    return value
