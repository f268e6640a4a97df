"""Celery tasks of the 公益谷: thin, idempotent, safe with two beats."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="charity.tasks.claim_sweep", ignore_result=True)
def claim_sweep() -> int:
    """Release lapsed claims, send reminders, open phone tasks (beat, every 15 minutes)."""
    from .services.claims import claim_sweep as sweep

    return sweep().released


@shared_task(name="charity.tasks.need_profiles_refresh", ignore_result=True)
def need_profiles_refresh() -> int:
    """Re-apply the fewer-than-5 rule to every public need as the registry changes (beat, hourly)."""
    from .services.needs import need_profiles_refresh as refresh

    return refresh()
