"""Celery tasks of the happiness list: thin, idempotent, safe with two beats."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="happiness_list.tasks.receipt_sample_month", ignore_result=True)
def receipt_sample_month() -> int:
    """Draw last month's receipt-check sample and text it (beat, daily; once per month by its run row)."""
    from .services.receipts import receipt_sample_month as sample

    return sample()


@shared_task(name="happiness_list.tasks.flag_check_nightly", ignore_result=True)
def flag_check_nightly() -> int:
    """The night's omission and duplicate check (beat, nightly; once per day by its run row)."""
    from .services.flags import flag_check_nightly as check

    run = check()
    return run.raised if run is not None else 0
