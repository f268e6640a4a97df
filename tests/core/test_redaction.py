"""No full ID number or phone reaches a log line (security.md, personal data handling)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from django.conf import settings
from django.test import override_settings

from assist_center.redaction import ID_MASK, PHONE_MASK, RedactPiiFilter, redact, structlog_processor

ID = "110105199001010010"
ID_X = "11010519900101007X"
MOBILE = "13800138000"

IDS = [
    ID,
    ID_X,
    ID_X.lower(),
    "110105 19900101 0010",
    "110105-19900101-007x",
    "１１０１０５１９９００１０１００７Ｘ",  # full-width, from a phone keyboard
    "110105900101001",  # 15-digit card issued before 1999
]
PHONES = [
    MOBILE,
    "+8613800138000",
    "+86 138 0013 8000",
    "+86-138-0013-8000",
    "8613800138000",
    "0086 13800138000",
    "138 0013 8000",
    "138-0013-8000",
    "１３８００１３８０００",
    "+8657683312345",  # landline, as stored in E.164
    "0576-83312345",
]
ORDINARY = [
    "331099100000",  # 12-digit statistical region code
    "1764432000000",  # 13-digit millisecond timestamp
    "12345.67",
    "¥1,234,567.00",
    "20261130123456789012",  # a 20-digit order number
    "2026-11-30 08:00:00",
    "331099100000 123456",  # two numbers side by side are not an ID
    "1764432000000 12345",
    "household #42 has 3 members and an income of 18000",
]


def digits_of(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKC", text) if c.isdigit())


@pytest.mark.parametrize("value", IDS)
def test_id_numbers_are_redacted_in_text(value: str) -> None:
    out = redact(f"lookup of {value} failed; id={value}; 身份证号{value}。ID{value}")
    assert value not in out
    assert digits_of(value) not in digits_of(out)
    assert out.count(ID_MASK) == 4


@pytest.mark.parametrize("value", PHONES)
def test_phones_are_redacted_in_text(value: str) -> None:
    out = redact(f"sms to {value} failed; tel:{value}, 电话{value}")
    assert value not in out
    assert digits_of(value)[-8:] not in digits_of(out)
    assert out.count(PHONE_MASK) == 3


@pytest.mark.parametrize("value", ORDINARY)
def test_ordinary_numbers_are_kept(value: str) -> None:
    assert redact(f"value {value} ok") == f"value {value} ok"


def test_a_sha256_digest_with_an_id_shaped_run_is_kept_whole() -> None:
    # The archived form's hash in the audit trail: with `[ID]` in it, it no longer proves the file.
    digest = "c73024f2a" + ID + "e0be" + "0" * 33
    assert len(digest) == 64
    assert redact(f"form_sha256={digest}") == f"form_sha256={digest}"
    assert redact(f"{digest} {ID} {MOBILE}") == f"{digest} {ID_MASK} {PHONE_MASK}"


def test_an_id_inside_a_longer_hex_or_capitalised_run_is_still_redacted() -> None:
    assert ID not in redact("a" * 30 + ID + "b" * 30)  # 78 characters: not a digest
    assert ID not in redact("ID" + ID + "abcdef" * 8)


# --- the logging filter -----------------------------------------------------------------------


@pytest.fixture
def filtered_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s %(extra_field)s"))
    handler.addFilter(RedactPiiFilter())
    logger = logging.getLogger("tests.redaction.unit")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def test_filter_redacts_message_args_and_extras(filtered_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = filtered_logger
    logger.warning(f"inline {ID}", extra={"extra_field": "-"})
    logger.warning("args %s %s %s", ID_X, "+86 138 0013 8000", 13800138000, extra={"extra_field": "-"})
    logger.warning("dict %(id)s", {"id": ID}, extra={"extra_field": "-"})
    logger.warning("extra", extra={"extra_field": f"phone={MOBILE}"})
    out = stream.getvalue()
    for value in (ID, ID_X, "138 0013 8000", MOBILE, "13800138000"):
        assert value not in out
    assert out.count(ID_MASK) == 3
    assert out.count(PHONE_MASK) == 3


def test_filter_redacts_exception_tracebacks(filtered_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = filtered_logger
    try:
        try:
            raise KeyError(f"no person with id {ID}")
        except KeyError as exc:
            raise ValueError(f"could not text {MOBILE} for {ID_X.lower()}") from exc
    except ValueError:
        logger.exception("lookup failed", extra={"extra_field": "-"})
    out = stream.getvalue()
    assert "Traceback" in out
    assert "ValueError" in out and "KeyError" in out
    for value in (ID, ID_X.lower(), MOBILE):
        assert value not in out


def test_filter_redacts_stack_info(filtered_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = filtered_logger
    phone = MOBILE  # the stack shows source lines, which may hold a literal
    logger.warning("with stack %s", phone, stack_info=True, extra={"extra_field": "-"})
    assert MOBILE not in stream.getvalue()


def test_filter_keeps_ordinary_numbers(filtered_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = filtered_logger
    logger.info(
        "region %s at %d paid %s", "331099100000", 1764432000000, "1234.56", extra={"extra_field": "-"}
    )
    assert "region 331099100000 at 1764432000000 paid 1234.56" in stream.getvalue()


def test_a_bad_format_string_is_still_logged_and_redacted(
    filtered_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = filtered_logger
    logger.warning(f"broken %d {ID}", "not-a-number", extra={"extra_field": "-"})
    out = stream.getvalue()
    assert "broken" in out
    assert ID not in out


# --- through the configured LOGGING (console handler) and structlog -----------------------------


@contextmanager
def console_output(*logger_names: str) -> Iterator[io.StringIO]:
    """Point every plain StreamHandler a record from these loggers reaches at one buffer.

    The handlers are the ones django.setup() built from settings.LOGGING. Re-running dictConfig
    inside a test instead would close every existing handler, pytest's own included.
    """
    buffer = io.StringIO()
    handlers: list[logging.StreamHandler[Any]] = []
    for name in logger_names:
        logger: logging.Logger | None = logging.getLogger(name)
        while logger is not None:
            # Exactly StreamHandler: pytest's capture handlers subclass it and are not ours to move.
            handlers += [h for h in logger.handlers if type(h) is logging.StreamHandler and h not in handlers]
            logger = logger.parent if logger.propagate else None
    previous = [h.setStream(buffer) for h in handlers]
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)


def test_the_configured_console_handler_carries_the_filter() -> None:
    console = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    assert console, "settings.LOGGING configures a console handler on the root logger"
    assert all(any(isinstance(f, RedactPiiFilter) for f in h.filters) for h in console)
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["redact_pii"]  # type: ignore[index]


def test_configured_console_handler_redacts() -> None:
    logger = logging.getLogger("assist_center")
    with console_output("assist_center") as out:
        logger.error("resident %s called from %s", ID, "+86 138-0013-8000")
        try:
            raise RuntimeError(f"duplicate id {ID_X}")
        except RuntimeError:
            logger.exception("import row failed")
    err = out.getvalue()
    assert "resident [ID] called from [PHONE]" in err
    assert "RuntimeError: duplicate id [ID]" in err
    for value in (ID, ID_X, "138-0013-8000"):
        assert value not in err


def test_structlog_events_are_redacted() -> None:
    log = structlog.get_logger("assist_center.tests")
    with console_output("assist_center.tests") as out:
        log.error(
            "lookup",
            id_number=ID,
            phone="+8613800138000",
            rows=[{"mobile": "138 0013 8000"}],
            region="331099100000",
        )
        try:
            raise LookupError(f"not found: {ID_X}")
        except LookupError:
            log.exception(f"failed for {MOBILE}")
    err = out.getvalue()
    assert "event='lookup'" in err
    assert "id_number='[ID]'" in err
    assert "phone='[PHONE]'" in err
    assert "region='331099100000'" in err
    assert "LookupError: not found: [ID]" in err
    for value in (ID, ID_X, MOBILE, "+8613800138000", "138 0013 8000"):
        assert value not in err


def test_structlog_processor_redacts_nested_and_numeric_values() -> None:
    event = structlog_processor(
        None,
        "info",
        {
            "event": f"call {MOBILE}",
            "id": int(ID),
            "count": 12,
            "ok": True,
            "nested": {"ids": (ID_X, "331099100000")},
        },
    )
    assert event == {
        "event": "call [PHONE]",
        "id": "[ID]",
        "count": 12,
        "ok": True,
        "nested": {"ids": ("[ID]", "331099100000")},
    }


def test_django_default_loggers_are_redacted_too() -> None:
    with console_output("django.request", "django.server") as out, override_settings(DEBUG=True):
        # Django's own console handler prints only when DEBUG is on; pytest-django turns it off.
        logging.getLogger("django.request").error("Not Found: /persons/%s/", ID)
        logging.getLogger("django.server").info('"GET /?phone=%s HTTP/1.1" 200', MOBILE)
    err = out.getvalue()
    assert "Not Found" in err
    assert ID not in err
    assert MOBILE not in err


def test_household_tokens_in_paths_are_masked_in_logs_only() -> None:
    from assist_center.redaction import redact_for_logs

    line = "GET /family/Qh2RCYLidbY0L8V6hxWFT-0DzdH84krTUyrHC31zLmRE/ 200; /happiness/abcDEF0123456789xyz/"
    assert redact_for_logs(line) == "GET /family/[TOKEN]/ 200; /happiness/[TOKEN]/"
    # The family link an SMS carries to the family's own phone is not personal data.
    assert redact(line) == line


def test_sentry_events_are_redacted_like_logs() -> None:
    from assist_center.redaction import sentry_before_send

    event = {"message": "bad 110105199001010010", "extra": {"phone": "13800138000"}}
    assert sentry_before_send(event, {}) == {"message": "bad [ID]", "extra": {"phone": "[PHONE]"}}
