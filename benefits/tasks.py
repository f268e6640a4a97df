"""Celery tasks of the rolls and the ledger: thin, idempotent, safe with two beats."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="benefits.tasks.grace_end_sweep", ignore_result=True)
def grace_end_sweep() -> int:
    """End gradual exits whose grace end passed (beat, hourly)."""
    from .services.sweeps import grace_end_sweep as sweep

    return sweep()


@shared_task(name="benefits.tasks.grace_reminder_sweep", ignore_result=True)
def grace_reminder_sweep() -> int:
    """Remind townships of exits ending within a few working days (beat, daily)."""
    from .services.sweeps import grace_reminder_sweep as sweep

    return sweep()


@shared_task(name="benefits.tasks.ledger_write_month", ignore_result=True)
def ledger_write_month() -> int:
    """Write this month's ledger entries of the rolls (beat, daily: a new enrolment is paid the next day)."""
    from .services.ledger import ledger_write_month as write

    return write()
