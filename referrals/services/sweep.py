"""The red/yellow/blue sweep: move colours whose day has come, notify each new colour once.

Run by Celery beat every few minutes (referrals.tasks.colour_sweep). Its cost follows the number
of referrals whose colour changes, not the number open: each referral carries the date its next
colour starts (`next_colour_on`, a partial index over running clocks), and the sweep reads only
rows whose date has come.

Once only, however it is run (security.md, "Reliability"):
- a transaction-level advisory lock lets one sweep work at a time; a second beat process that
  fires at the same moment finds the lock taken and returns at once;
- the UPDATE is conditional on the row still holding what the colour was computed from (colour,
  due date, allotted days, a running clock), so a stale computation changes nothing;
- notifications are inserted ON CONFLICT DO NOTHING against their unique (referral, colour,
  audience), and only the rows actually inserted count towards the warning SMS, whose idempotency
  key is per contact, colour and day. A task delivered twice therefore has one effect.

The UPDATE bypasses django-simple-history (stack.md): the Notification rows are the per-referral
record of each colour change, and one audit event per sweep records the counts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from assist_center.audit import audit_record
from assist_center.sms.services import sms_queue

from ..colours import colour_for, next_colour_day
from ..models import Colour, DepartmentContact, Notification, Referral

logger = logging.getLogger(__name__)

# pg_try_advisory_xact_lock key: "referral" colour sweep (any constant unique in the project).
SWEEP_LOCK_KEY = 5_200_517
BATCH = 10_000


@dataclass(frozen=True)
class Change:
    referral_id: int
    old: str
    new: str
    next_on: dt.date | None
    due_date: dt.date
    allotted: int


def compute_changes(rows: list[tuple[int, int, dt.date, str]], *, today: dt.date) -> list[Change]:
    """(id, allotted, due, colour) rows -> what each should become today (colour and next day)."""
    # Thousands of referrals share a handful of (allotted, due) pairs on any day: compute each once.
    memo: dict[tuple[int, dt.date], tuple[str, dt.date | None]] = {}
    out = []
    for pk, allotted, due, colour in rows:
        key = (allotted, due)
        found = memo.get(key)
        if found is None:
            found = memo[key] = (
                str(colour_for(allotted=allotted, due_date=due, today=today)),
                next_colour_day(allotted=allotted, due_date=due, today=today),
            )
        out.append(
            Change(
                referral_id=pk, old=colour, new=found[0], next_on=found[1], due_date=due, allotted=allotted
            )
        )
    return out


_APPLY_SQL = """
WITH v(id, old, new, next_on, due, allotted) AS (
    SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::date[], %s::date[], %s::int[])
),
moved AS (
    UPDATE referrals_referral AS r
       SET colour = v.new, next_colour_on = v.next_on
      FROM v
     WHERE r.id = v.id
       AND r.colour = v.old
       AND r.due_date = v.due
       AND r.allotted_days = v.allotted
       AND r.status IN ('pending', 'accepted')
    RETURNING r.id, r.department_id, v.old, v.new
),
told AS (
    SELECT id, 'department' AS audience, department_id, new FROM moved WHERE new <> old AND new <> 'none'
    UNION ALL
    SELECT id, 'coordinator', NULL, new FROM moved WHERE new <> old AND new = 'red'
),
ins AS (
    INSERT INTO referrals_notification (referral_id, audience, department_id, colour, created_at)
    SELECT id, audience, department_id, new, %s FROM told
    ON CONFLICT ON CONSTRAINT notification_once DO NOTHING
    RETURNING referral_id, audience, department_id, colour
)
SELECT referral_id, audience, department_id, colour FROM ins
UNION ALL
SELECT count(*), '#changed', NULL, '' FROM moved WHERE new <> old
"""


def apply_changes(changes: list[Change]) -> tuple[int, list[tuple[int, str, int | None, str]]]:
    """Write computed changes in one statement per batch.

    Returns how many referrals changed colour and the notifications actually inserted. Rows are
    sorted by id so that concurrent writers lock in the same order.
    """
    changed = 0
    inserted: list[tuple[int, str, int | None, str]] = []
    now = timezone.now()
    changes = sorted(changes, key=lambda c: c.referral_id)
    with connection.cursor() as cursor:
        # Reach each row by its primary key: with few changes among many open referrals the planner
        # may prefer hashing the whole table, a cost that grows with every open referral.
        cursor.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
        for start in range(0, len(changes), BATCH):
            chunk = changes[start : start + BATCH]
            cursor.execute(
                _APPLY_SQL,
                [
                    [c.referral_id for c in chunk],
                    [c.old for c in chunk],
                    [c.new for c in chunk],
                    [c.next_on for c in chunk],
                    [c.due_date for c in chunk],
                    [c.allotted for c in chunk],
                    now,
                ],
            )
            for row in cursor.fetchall():
                if row[1] == "#changed":
                    changed += int(row[0])
                else:
                    inserted.append(row)
        cursor.execute("RESET enable_hashjoin; RESET enable_mergejoin")
    return changed, inserted


def _warn_departments(told: list[tuple[int, str, int | None, str]], *, today: dt.date) -> int:
    """One SMS per department contact: how many referrals turned red, yellow, blue (no personal data).

    The key is per contact and day: colours change in the first sweep after midnight (a referral
    never changes colour on the day its dates were set), so a day has one summary per contact.
    """
    counts: dict[int, Counter[str]] = {}
    for _, audience, department_id, colour in told:
        if audience == Notification.Audience.DEPARTMENT and department_id is not None:
            counts.setdefault(department_id, Counter())[colour] += 1
    if not counts:
        return 0
    sent = 0
    for contact in DepartmentContact.objects.filter(department_id__in=list(counts), active=True).order_by(
        "pk"
    ):
        n = counts[contact.department_id]
        try:
            sms_queue(
                to=contact.phone,
                template="deadline_summary",
                params={"red": n[Colour.RED], "yellow": n[Colour.YELLOW], "blue": n[Colour.BLUE]},
                idempotency_key=f"deadline-summary:{contact.pk}:{today.isoformat()}",
            )
            sent += 1
        except Exception:
            # A bad contact number must not undo the colours: the workbench still shows them.
            logger.warning("deadline SMS to contact %s could not be queued", contact.pk, exc_info=True)
    return sent


def _lock_taken() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])
        (got,) = cursor.fetchone()
    return not got


def colour_sweep(*, today: dt.date | None = None) -> int:
    """Move every running referral whose next colour day has come; return how many changed colour."""
    today = today or timezone.localdate()
    with transaction.atomic():
        if _lock_taken():
            logger.info("colour sweep: another sweep is running; skipped")
            return 0
        rows: list[Any] = list(
            Referral.objects.filter(status__in=Referral.CLOCK_STATUSES, next_colour_on__lte=today)
            .order_by("id")
            .values_list("id", "allotted_days", "due_date", "colour")
        )
        if not rows:
            return 0
        changes = compute_changes(rows, today=today)
        changed, told = apply_changes(changes)
        new_colours = Counter(
            colour for _, audience, _d, colour in told if audience == Notification.Audience.DEPARTMENT
        )
        sms = _warn_departments(told, today=today)
        if told:
            audit_record(
                actor=None,
                action="referral.colour_sweep",
                subject=("referrals.sweep", today.isoformat()),
                new={"today": today, "examined": len(rows), "notified": dict(new_colours), "sms": sms},
            )
    logger.info("colour sweep %s: %s examined, %s changed", today, len(rows), changed)
    return changed
