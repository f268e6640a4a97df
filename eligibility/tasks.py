"""Celery tasks of the data check (issue 4 builds the verification behind them)."""

from __future__ import annotations

import structlog
from celery import shared_task
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist

log = structlog.get_logger(__name__)


@shared_task(name="eligibility.tasks.application_verify")
def application_verify(application_id: int) -> None:
    """Run the data check of an authorised application, once.

    Intake queues this through the outbox when an application becomes authorised. Redelivery
    (visibility timeout, a killed worker) must not make a second report: the service returns the
    existing "authorised" report, and this shortcut spares the lock when it plainly exists.
    """
    from assist_center.errors import ApplicationError

    from .models import VerificationReport
    from .services.verification import application_verify_run

    trigger = VerificationReport.Trigger.AUTHORISED
    if VerificationReport.objects.filter(application_id=application_id, trigger=trigger).exists():
        log.info("verification.already_done", application_id=application_id)
        return
    try:
        report = application_verify_run(application_id=application_id, trigger=trigger)
    except ObjectDoesNotExist:
        # The row is gone (a database restored from an older backup): retrying cannot help.
        log.warning("verification.application_missing", application_id=application_id)
        return
    except ApplicationError as exc:
        # Withdrawn or rejected before the worker got to it: nothing to check, nothing to retry.
        log.info("verification.skipped", application_id=application_id, status=exc.extra.get("status"))
        return
    log.info("verification.report", application_id=application_id, report_id=report.pk)
    if settings.PROVINCE_BACKEND:
        # After the local report, never before it: a province that does not answer delays nothing.
        from assist_center.outbox import enqueue

        enqueue(
            PROVINCE_TASK, kwargs={"application_id": application_id}, dedupe_key=f"province:{application_id}"
        )


PROVINCE_TASK = "eligibility.tasks.province_check"


@shared_task(name=PROVINCE_TASK, ignore_result=True)
def province_check(application_id: int) -> None:
    """Ask the provincial system for its check of an application (bounded attempts), once."""
    from .services.province import province_check_run

    try:
        province_check_run(application_id=application_id)
    except ObjectDoesNotExist:
        log.warning("province.application_missing", application_id=application_id)


@shared_task(name="eligibility.tasks.pool_import_run")
def pool_import_run(job_id: int, encoding: str = "") -> None:
    """Run a queued data-pool import. A redelivered task finds the job claimed and does nothing;
    a job stuck "running" for over 2 hours (killed worker) is re-queued by an operator in the admin."""
    from .services.imports import pool_import_run as run

    try:
        job = run(job_id=job_id, encoding=encoding)
    except ObjectDoesNotExist:
        log.warning("pool_import.job_missing", job_id=job_id)
        return
    log.info("pool_import.finished", job_id=job_id, status=job.status)


@shared_task(name="eligibility.tasks.monitoring_after_import")
def monitoring_after_import(job_id: int) -> None:
    """Warn about changes to enrolled households and find leads outside the rolls, after an import.

    Queued by the import service when a job is done. Idempotent: warnings and leads carry dedupe
    keys, so a redelivered task creates nothing new.
    """
    from .services.discovery import discovery_scan
    from .services.monitoring import monitoring_after_import as monitor

    summary = monitor(job_id=job_id)
    leads = discovery_scan(job_id=job_id)
    log.info("monitoring.after_import", job_id=job_id, warnings=summary.warnings_created, leads=leads)
