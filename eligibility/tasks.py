"""Celery tasks of the data check (issue 4 builds the verification behind them)."""

from __future__ import annotations

import structlog
from celery import shared_task

log = structlog.get_logger(__name__)


@shared_task(name="eligibility.tasks.application_verify")
def application_verify(application_id: int) -> None:
    """Run the data check of an authorised application.

    Intake queues this through the outbox when an application becomes authorised. The data pool
    and the rules arrive with the eligibility issue; until then the task records that the check
    is waiting, so the queue contract is fixed and visible in the worker log.
    """
    log.info("verification.pending_rules", application_id=application_id)
