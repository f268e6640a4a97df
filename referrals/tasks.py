"""Celery tasks of referrals: thin, idempotent, ids only."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="referrals.tasks.colour_sweep", ignore_result=True)
def colour_sweep() -> int:
    """Move warning colours whose day has come (beat, every 5 minutes); safe to run twice."""
    from .services.sweep import colour_sweep as sweep

    return sweep()
