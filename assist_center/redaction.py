"""Remove ID-number- and phone-shaped strings from anything that may be logged."""

from __future__ import annotations

import logging
import re
from typing import Any

# 18-character resident IDs (also with a trailing x/X), 15-digit legacy IDs, mainland mobiles with
# or without +86, written with optional spaces or dashes. Digits glued to other digits are left:
# order numbers and timestamps are not personal data.
_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{6}\s?[0-9]{8}\s?[0-9]{3}[0-9Xx](?![0-9A-Za-z])|(?<![0-9])[0-9]{15}(?![0-9])")
_PHONE = re.compile(r"(?<![0-9])(?:\+?86[\s-]?)?1[3-9][0-9](?:[\s-]?[0-9]{4}){2}(?![0-9])")

ID_MASK = "[ID]"
PHONE_MASK = "[PHONE]"


def redact(text: str) -> str:
    """Return text with every ID-number- and phone-shaped run replaced by a placeholder."""
    return _PHONE.sub(PHONE_MASK, _ID.sub(ID_MASK, text))


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value


class RedactPiiFilter(logging.Filter):
    """A logging filter that redacts the formatted message and the exception text of each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now so the handler never sees the raw exception text.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def structlog_processor(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor doing the same redaction on every key of an event."""
    return {k: redact_value(v) for k, v in event_dict.items()}
