"""Celery tasks of referrals: thin, idempotent, ids only."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="referrals.tasks.colour_sweep", ignore_result=True)
def colour_sweep() -> int:
    """Move warning colours whose day has come (beat, every 5 minutes); safe to run twice."""
    from .services.sweep import colour_sweep as sweep

    return sweep()


@shared_task(name="referrals.tasks.work_notice_send", ignore_result=True)
def work_notice_send(notice_id: int) -> str:
    """Send one 浙政钉 / DingTalk notice (once; a redelivered task finds it sent)."""
    from .services.work_notices import work_notice_send as send

    return send(notice_id=notice_id)


@shared_task(name="referrals.tasks.work_notice_retry_due", ignore_result=True)
def work_notice_retry_due() -> int:
    """Re-enqueue notices the robot's rate limit or a timeout held back (beat, every minute)."""
    from .services.work_notices import work_notice_retry_due as retry

    return retry()
