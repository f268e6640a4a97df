"""The rolls' periodic work: end exits whose grace end passed, remind townships before it.

Both are deadlines as data (the indexed `grace_end` of exits) swept by beat; both are safe with
two beats and a redelivered task. The end goes through `enrolment_end`, whose row lock and state
check let exactly one of two concurrent sweeps end an enrolment (the other gets a ConflictError and
moves on). The reminder runs under a transaction-level advisory lock and keys each task by
enrolment and grace end, so a second run on the same day adds nothing and sends nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assist_center import hooks
from assist_center.audit import audit_record
from assist_center.errors import ConflictError
from assist_center.models import Region
from assist_center.sms.services import sms_queue
from assist_center.workdays import add_working_days

from ..models import Enrolment, RollTask, TownshipContact
from .enrolments import enrolment_end

logger = logging.getLogger(__name__)

# The township hears of an exit this many working days before its grace end: time to visit the
# household and tell it, or to withdraw the exit if the circumstances changed back.
REMINDER_WORKING_DAYS = 5
SWEEP_BATCH = 1000
REMINDER_LOCK = "benefits-grace-reminder"


def grace_end_sweep(*, today: dt.date | None = None) -> int:
    """End every gradual exit whose grace end is before `today`; return how many this run ended."""
    today = today or timezone.localdate()
    ended = 0
    due = list(
        Enrolment.objects.filter(state=Enrolment.State.GRADUAL_EXIT, grace_end__lt=today)
        .order_by("grace_end", "pk")
        .values_list("pk", "grace_end")[:SWEEP_BATCH]
    )
    for pk, grace_end in due:
        if grace_end is None:  # never, by enrolment_exit_has_grace_end
            continue
        try:
            enrolment_end(
                actor=None,
                enrolment_id=pk,
                ended_on=grace_end,
                why=Enrolment.EndReason.GRACE_ENDED,
                # The person's exit was decided when it began; the date only carries it out.
                reason=str(_("The gradual exit decided earlier reached its grace end.")),
            )
            ended += 1
        except ConflictError:
            # Another beat, or an assistant withdrawing or ending it, got there first.
            continue
    return ended


def _try_lock(key: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [key])
        (got,) = cursor.fetchone()
    return bool(got)


def reminder_key(enrolment_id: int, grace_end: dt.date) -> str:
    return f"grace-ending:{enrolment_id}:{grace_end.isoformat()}"


def grace_reminder_sweep(*, today: dt.date | None = None) -> int:
    """Create a roll task for each exit ending within REMINDER_WORKING_DAYS working days, once, and
    text each township's contacts how many; return how many tasks this run created."""
    today = today or timezone.localdate()
    horizon = add_working_days(today, REMINDER_WORKING_DAYS)
    with transaction.atomic():
        if not _try_lock(REMINDER_LOCK):
            return 0
        due = list(
            Enrolment.objects.filter(
                state=Enrolment.State.GRADUAL_EXIT, grace_end__gte=today, grace_end__lte=horizon
            ).values(
                "pk", "household_id", "township_id", "item", "grace_end", "monthly_amount", "kind", "since"
            )
        )
        keys = {reminder_key(e["pk"], e["grace_end"]): e for e in due if e["grace_end"] is not None}
        # Any status: a reminder the township already handled is not raised again.
        seen = set(RollTask.objects.filter(dedupe_key__in=list(keys)).values_list("dedupe_key", flat=True))
        new = [(k, e) for k, e in keys.items() if k not in seen]
        tasks = [
            RollTask(
                township_id=e["township_id"],
                household_id=e["household_id"],
                enrolment_id=e["pk"],
                kind=RollTask.Kind.GRACE_ENDING,
                item=e["item"],
                roll_record={
                    "enrolment": e["pk"],
                    "item": e["item"],
                    "since": e["since"].isoformat(),
                    "grace_end": str(e["grace_end"]),
                    "monthly_amount": str(e["monthly_amount"]) if e["monthly_amount"] is not None else None,
                    "kind": e["kind"],
                },
                due_date=e["grace_end"],
                dedupe_key=k,
            )
            for k, e in new
        ]
        RollTask.objects.bulk_create(tasks)
        by_township: dict[int, list[RollTask]] = defaultdict(list)
        for task in tasks:
            by_township[task.township_id].append(task)
        townships = Region.objects.in_bulk(list(by_township))
        for township_id, township_tasks in by_township.items():
            audit_record(
                actor=None,
                action="enrolment.grace_reminder",
                subject=("assist_center.region", str(township_id)),
                new={
                    "tasks": [t.pk for t in township_tasks],
                    "enrolments": [t.enrolment_id for t in township_tasks],
                },
                region=townships.get(township_id),
            )
        _text_townships(by_township, today=today)
    return len(tasks)


def _text_townships(by_township: dict[int, list[RollTask]], *, today: dt.date) -> None:
    if not by_township:
        return
    for township_id, tasks in by_township.items():
        first_due = min(t.due_date for t in tasks if t.due_date is not None)
        # The township's work groups too (referrals' 浙政钉 / DingTalk channels, through the hook).
        hooks.call(
            "township_notice",
            township_id=township_id,
            template="grace_ending",
            params={"count": len(tasks), "date": first_due.isoformat()},
            idempotency_key=f"grace-ending:t{township_id}:{today.isoformat()}:{min(t.pk for t in tasks)}",
        )
    for contact in TownshipContact.objects.filter(township_id__in=list(by_township), active=True).order_by(
        "pk"
    ):
        tasks = by_township[contact.township_id]
        first = min(t.due_date for t in tasks if t.due_date is not None)
        try:
            sms_queue(
                to=contact.phone,
                template="grace_ending",
                params={"count": len(tasks), "date": first.isoformat()},
                # The run's first task: a later run on the same day with new exits texts again.
                idempotency_key=f"grace-ending:{contact.pk}:{today.isoformat()}:{min(t.pk for t in tasks)}",
            )
        except Exception:
            # A bad contact number must not lose the tasks: the township still sees them.
            logger.warning("grace reminder SMS to contact %s could not be queued", contact.pk, exc_info=True)
