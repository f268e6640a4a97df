"""structlog set-up: context (request id) merged in, PII redacted, rendered through stdlib logging."""

import structlog

from .redaction import structlog_processor


def configure_structlog() -> None:
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
            structlog_processor,
            structlog.processors.KeyValueRenderer(key_order=["event", "request_id"], sort_keys=True),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
