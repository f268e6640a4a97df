"""Celery tasks of the core: thin wrappers that take ids and call a service.

Delivery is at-least-once (see assist_center.outbox): each task is idempotent.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from assist_center import outbox
from assist_center.audit import audit_record


@shared_task(name="assist_center.tasks.outbox_sweep", ignore_result=True)
def outbox_sweep() -> int:
    """Re-send pending outbox rows (beat, every 30 s) and purge old sent ones."""
    sent = outbox.sweep_pending()
    outbox.purge_sent()
    return sent


@shared_task(name="assist_center.tasks.sms_send", ignore_result=True)
def sms_send(sms_id: int, attempt: int | None = None) -> None:
    from assist_center.sms.services import sms_deliver

    sms_deliver(sms_id=sms_id, attempt=attempt)


@shared_task(name="assist_center.tasks.sms_retry_due", ignore_result=True)
def sms_retry_due() -> int:
    from assist_center.sms import services

    return services.sms_retry_due()


@shared_task(name="assist_center.tasks.calendar_check_next_year", ignore_result=True)
def calendar_check_next_year() -> Any:
    # Imported here: the working-day module is its own area and may import much of the core.
    from assist_center.workdays import calendar_check_next_year as check

    return check()


@shared_task(name="assist_center.tasks.ping", ignore_result=True)
def ping(marker: str) -> None:
    """Leave one audit event per marker: how health checks and tests see that queued work really ran."""
    audit_record(
        actor=None, action="ping", subject=("ping", marker[:64]), idempotency_key=f"ping:{marker}"[:128]
    )


@shared_task(name="assist_center.tasks.audit_archive", ignore_result=True)
def audit_archive() -> int:
    """Copy audit events past the retention period into the signed archive (beat, daily)."""
    from assist_center.audit_archive import audit_archive_run

    return audit_archive_run()
