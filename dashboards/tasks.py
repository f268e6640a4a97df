"""Celery tasks of the dashboards: thin and idempotent."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="dashboards.tasks.dashboards_refresh", ignore_result=True)
def dashboards_refresh() -> int:
    """Recompute the county's dashboard pages before their snapshots expire (beat, every 5 minutes)."""
    from .snapshots import dashboards_refresh as refresh

    return refresh()
