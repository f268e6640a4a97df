"""Remove ID-number- and phone-shaped strings from anything that may be logged."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, MutableMapping
from typing import Any

# Full-width digits, `Ｘ` and `＋` come from Chinese phone keyboards and reach logs through raw input.
_D = "[0-9０-９]"
_NOT_DIGIT_BEFORE = "(?<![0-9０-９])"
_NOT_DIGIT_AFTER = "(?![0-9０-９])"
# An optional space or dash at the usual group boundaries (`110105 19900101 0010`,
# `138-0013-8000`) and nowhere else, so two ordinary numbers that happen to stand side by side
# (`331099100000 123456`) are not read as one ID.
_S = "[ \t\u3000-]?"

# 18-character resident IDs (trailing x/X too) and 15-digit legacy IDs. Only digits around the match
# stop it: `ID110105199001010010` must be redacted, while longer digit runs (order numbers,
# nanosecond timestamps) are not personal data and stay.
_ID = re.compile(
    f"{_NOT_DIGIT_BEFORE}{_D}{{3}}{_S}{_D}{{3}}{_S}{_D}{{4}}{_S}{_D}{{4}}{_S}{_D}{{3}}{_S}[0-9０-９XxＸｘ]"
    f"{_NOT_DIGIT_AFTER}"
    f"|{_NOT_DIGIT_BEFORE}{_D}{{15}}{_NOT_DIGIT_AFTER}"
)
# Mainland mobiles with or without +86 / 0086 / 86, and landlines in E.164 (`+8657683312345`) or
# with the dashed area code (`0576-83312345`).
_PHONE = re.compile(
    f"{_NOT_DIGIT_BEFORE}(?:(?:[+＋]|00)?86{_S})?[1１][3-9３-９]{_D}{_S}{_D}{{4}}{_S}{_D}{{4}}{_NOT_DIGIT_AFTER}"
    f"|[+＋]86{_S}{_D}{{2,3}}{_S}{_D}{{3,4}}{_S}{_D}{{4}}{_NOT_DIGIT_AFTER}"
    f"|{_NOT_DIGIT_BEFORE}0[1-9]{_D}{{1,2}}-{_D}{{7,8}}{_NOT_DIGIT_AFTER}"
)

# Capability tokens in public paths (/family/<token>/, /happiness/<token>/): whoever reads a log
# line must not be able to open the household's pages.
_TOKEN_PATH = re.compile(r"/(family|happiness)/[A-Za-z0-9_-]{16,}")

ID_MASK = "[ID]"
PHONE_MASK = "[PHONE]"

# Attributes every LogRecord has; anything else on a record came from `extra=` and may hold PII.
_STANDARD_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


# SHA-256 digests (archived forms' hashes in the audit trail) are 64 lowercase hex characters: one
# in a few dozen holds an 18-digit run that reads like an ID number. A whole digest is not personal
# data, and a digest with `[ID]` in it can no longer prove the file it names, so digests are left as
# they are; digits next to a capital or a non-hex letter are still read as an ID.
_HEX_DIGEST = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{64}(?![0-9A-Za-z])")


def _redact_plain(text: str) -> str:
    return _PHONE.sub(PHONE_MASK, _ID.sub(ID_MASK, text))


def redact(text: str) -> str:
    """Return text with every ID-number- and phone-shaped run replaced by a placeholder."""
    if len(text) < 64 or not _HEX_DIGEST.search(text):
        return _redact_plain(text)
    parts: list[str] = []
    end = 0
    for digest in _HEX_DIGEST.finditer(text):
        parts.append(_redact_plain(text[end : digest.start()]))
        parts.append(digest.group())
        end = digest.end()
    parts.append(_redact_plain(text[end:]))
    return "".join(parts)


def redact_for_logs(text: str) -> str:
    """`redact`, and household tokens in paths too: what may be written to a log or sent to Sentry.

    Kept apart from `redact`, which also decides what "looks like personal data" (task arguments,
    SMS parameters): an SMS legitimately carries the family link to the family's own phone.
    """
    return _TOKEN_PATH.sub(r"/\1/[TOKEN]", redact(text))


def redact_value(value: Any, *, text: Callable[[str], str] = redact) -> Any:
    """Apply `text` (by default `redact`) to every string inside a value, keeping its shape."""
    if isinstance(value, str):
        return text(value)
    # An ID or phone passed as a number (`id_number=110105199001010010`) is still one.
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value)
        redacted = text(digits)
        return value if redacted == digits else redacted
    if isinstance(value, dict):
        return {k: redact_value(v, text=text) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(redact_value(v, text=text) for v in value)
    return value


class RedactPiiFilter(logging.Filter):
    """A logging filter that redacts the message, extras and exception text of each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = redact_for_logs(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now so the handler never sees the raw exception text.
            record.exc_text = redact_for_logs(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact_for_logs(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_for_logs(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_RECORD_ATTRS:
                setattr(record, key, redact_value(value, text=redact_for_logs))
        return True


def sentry_before_send(event: Any, hint: Any) -> Any:
    """Sentry hook (events and breadcrumbs): the same redaction as the logs, on every string."""
    return redact_value(event, text=redact_for_logs)


def structlog_processor(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    """structlog processor doing the same redaction on every key of an event."""
    return {k: redact_value(v, text=redact_for_logs) for k, v in event_dict.items()}
