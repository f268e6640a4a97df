"""The red/yellow/blue sweep: move colours whose day has come, notify each new colour once.

Run by Celery beat every few minutes (referrals.tasks.colour_sweep). Its cost follows the number
of referrals whose colour changes, not the number open: between two days only referrals with
certain (allotted days, due date) pairs change colour (referrals.colours.colour_moves: a handful of
pairs a day), and an index on exactly that pair over running clocks finds them. Nothing the sweep
writes is in an index of the referral table, so each colour change is a HOT update, a fraction of
the cost of updating every index (bench sweep_100k_s).

What it may rely on: every running referral holds the right colour for the day its colour was last
set. Referrals get their colour when their dates are set (services.cases.schedule for a new or
reassigned referral, services.actions.record_colour_change when an answer or an extension moves
the due date), and the sweep remembers the days it ran (ColourSweep). Each sweep moves the pairs
whose colour differs between the day before the last day swept and today: the extra day heals an
action that computed its colour just before midnight and committed just after that night's sweep.
With no earlier sweep, a different rule (thresholds, working-day calendar, COLOUR_RULE_VERSION), or
`full=True`, every running referral is recomputed once, and colours the rule no longer gives are
taken back.

Once only, however it is run (security.md, "Reliability"):
- a transaction-level advisory lock lets one sweep work at a time; a second beat process that
  fires at the same moment finds the lock taken and returns at once (a full recomputation waits
  for it instead), and one that runs after it finds nothing left to move;
- the UPDATE is conditional on the row still holding what the colour was computed from (allotted
  days, due date, a running clock) and on the colour only moving forward, so a stale computation
  changes nothing;
- notifications are inserted ON CONFLICT DO NOTHING against their unique (referral, colour,
  audience), and only the rows actually inserted count towards the warning SMS (a colour reached
  again after an extension is not announced twice). A task delivered twice therefore has one
  effect.

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
from django.db.models import F
from django.utils import timezone

from assist_center.audit import audit_record
from assist_center.sms.services import sms_queue
from assist_center.workdays import calendar_fingerprint

from ..colours import (
    COLOUR_RULE_VERSION,
    COLOURS_IN_ORDER,
    blue_fraction,
    colour_for,
    colour_moves,
    yellow_days_left,
)
from ..models import Colour, ColourSweep, DepartmentContact, Referral
from .work_notices import work_channels_of_departments, work_notice_queue

logger = logging.getLogger(__name__)

# The sweep's advisory lock key (any constant unique in the project).
SWEEP_LOCK_KEY = 5_200_517
_CLOCK = tuple(str(s) for s in Referral.CLOCK_STATUSES)


@dataclass(frozen=True)
class Move:
    """Every running referral with these allotted days and due date turns `new` (if behind it)."""

    allotted: int
    due_date: dt.date
    new: str


def _running_allotments() -> list[int]:
    """The distinct allotted-day counts of running referrals: a skip scan of referral_clock_idx,
    one index probe per distinct count (a handful), however many referrals are open."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE n(v) AS (
                SELECT min(allotted_days) FROM referrals_referral WHERE status = ANY(%(clock)s)
                UNION ALL
                SELECT (SELECT min(allotted_days) FROM referrals_referral
                         WHERE status = ANY(%(clock)s) AND allotted_days > n.v)
                  FROM n WHERE n.v IS NOT NULL
            )
            SELECT v FROM n WHERE v IS NOT NULL
            """,
            {"clock": list(_CLOCK)},
        )
        return [row[0] for row in cursor.fetchall()]


def _every_running_pair() -> list[tuple[int, dt.date]]:
    """Every (allotted days, due date) of a running referral: the reconciliation of a first sweep."""
    return list(
        Referral.objects.filter(status__in=_CLOCK)
        .order_by()
        .values_list("allotted_days", "due_date")
        .distinct()
    )


def plan_moves(*, today: dt.date, since: dt.date | None) -> list[Move]:
    """What changes colour on `today`, given every running referral is right for `since`.

    With no `since` (no sweep yet, or the rule changed), every running pair is computed afresh,
    uncoloured ones included: a milder rule can take a colour back (settle_milder).
    """
    if since is None:
        return [
            Move(allotted, due, str(colour_for(allotted=allotted, due_date=due, today=today)))
            for allotted, due in _every_running_pair()
        ]
    return [
        Move(allotted, due, str(new))
        for allotted in _running_allotments()
        for due, new in colour_moves(allotted=allotted, since=since, today=today)
    ]


_APPLY_SQL = """
WITH v(allotted, due, new) AS (
    SELECT * FROM unnest(%(allotted)s::int[], %(due)s::date[], %(new)s::text[])
),
moved AS (
    UPDATE referrals_referral AS r
       SET colour = v.new
      FROM v
     WHERE r.allotted_days = v.allotted
       AND r.due_date = v.due
       AND r.status = ANY(%(clock)s)
       AND array_position(%(order)s::text[], r.colour::text) < array_position(%(order)s::text[], v.new)
    RETURNING r.id, r.department_id, v.new
),
told AS (
    SELECT id, 'department' AS audience, department_id, new FROM moved WHERE new <> 'none'
    UNION ALL
    SELECT id, 'coordinator', NULL, new FROM moved WHERE new = 'red'
),
ins AS (
    INSERT INTO referrals_notification (referral_id, audience, department_id, colour, created_at)
    SELECT id, audience, department_id, new, %(now)s FROM told
    ON CONFLICT ON CONSTRAINT notification_once DO NOTHING
    RETURNING audience, department_id, colour
)
SELECT department_id, colour, count(*) FROM ins WHERE audience = 'department' GROUP BY department_id, colour
UNION ALL
SELECT NULL, '#changed', count(*) FROM moved
"""


# Only when the rule itself changed (new thresholds or calendar): colours ahead of the new rule
# go back, silently (nobody is warned that a warning went away).
_SETTLE_SQL = """
WITH v(allotted, due, new) AS (
    SELECT * FROM unnest(%(allotted)s::int[], %(due)s::date[], %(new)s::text[])
)
UPDATE referrals_referral AS r
   SET colour = v.new
  FROM v
 WHERE r.allotted_days = v.allotted
   AND r.due_date = v.due
   AND r.status = ANY(%(clock)s)
   AND array_position(%(order)s::text[], r.colour::text) > array_position(%(order)s::text[], v.new)
"""


def _params(moves: list[Move]) -> dict[str, Any]:
    return {
        "allotted": [m.allotted for m in moves],
        "due": [m.due_date for m in moves],
        "new": [m.new for m in moves],
        "clock": list(_CLOCK),
        "order": list(COLOURS_IN_ORDER),
        "now": timezone.now(),
    }


def apply_moves(moves: list[Move]) -> tuple[int, dict[int, Counter[str]]]:
    """Move colours forward in one statement, notifying each new colour.

    Returns how many referrals changed colour and, per department, how many it was newly told of
    for each colour. A repeated or stale sweep moves nothing (the UPDATE's conditions).
    """
    if not moves:
        return 0, {}
    changed = 0
    told: dict[int, Counter[str]] = {}
    with connection.cursor() as cursor:
        # Reach the rows through referral_clock_idx: with few pairs among many open referrals the
        # planner may prefer hashing the whole table, a cost that grows with every open referral.
        cursor.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
        cursor.execute(_APPLY_SQL, _params(moves))
        for department_id, colour, count in cursor.fetchall():
            if colour == "#changed":
                changed = int(count)
            elif count:
                told.setdefault(department_id, Counter())[colour] += int(count)
        cursor.execute("RESET enable_hashjoin; RESET enable_mergejoin")
    return changed, told


def settle_milder(moves: list[Move]) -> int:
    """Take back colours the rule in force no longer gives (after a full recomputation only)."""
    if not moves:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_SETTLE_SQL, _params(moves))
        return cursor.rowcount


def _warn_departments(told: dict[int, Counter[str]], *, today: dt.date, run: int) -> int:
    """One SMS per department contact and sweep: how many referrals turned red, yellow, blue (no
    personal data).

    Colours move in the first sweep after midnight, and again only when the rule changed during
    the day; `run` (the day's changes before this sweep) keeps those summaries apart, while a
    retried send of the same summary keeps its key.
    """
    if not told:
        return 0
    sent = 0
    for contact in DepartmentContact.objects.filter(department_id__in=list(told), active=True).order_by("pk"):
        n = told[contact.department_id]
        try:
            sms_queue(
                to=contact.phone,
                template="deadline_summary",
                params={"red": n[Colour.RED], "yellow": n[Colour.YELLOW], "blue": n[Colour.BLUE]},
                idempotency_key=f"deadline-summary:{contact.pk}:{today.isoformat()}:{run}",
            )
            sent += 1
        except Exception:
            # A bad contact number must not undo the colours: the workbench still shows them.
            logger.warning("deadline SMS to contact %s could not be queued", contact.pk, exc_info=True)
    # The same summary to the departments' 浙政钉 / DingTalk groups that the coordinator set up.
    for channel in work_channels_of_departments(list(told)):
        n = told[int(channel.department_id or 0)]
        work_notice_queue(
            channel=channel,
            template="deadline_summary",
            params={"red": n[Colour.RED], "yellow": n[Colour.YELLOW], "blue": n[Colour.BLUE]},
            idempotency_key=f"deadline-summary:channel{channel.pk}:{today.isoformat()}:{run}",
        )
        sent += 1
    return sent


def _lock(*, wait: bool) -> bool:
    """The sweep's advisory lock for this transaction: taken at once, or after waiting if `wait`."""
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])
        (got,) = cursor.fetchone()
    return bool(got)


def rule_in_force() -> dict[str, Any]:
    """What the colours are computed with: if any of it changes, every colour is recomputed."""
    return {
        "blue_fraction": blue_fraction(),
        "yellow_days_left": yellow_days_left(),
        "calendar": calendar_fingerprint(),
        "rule_version": COLOUR_RULE_VERSION,
    }


def _since(today: dt.date, rule: dict[str, Any]) -> dt.date | None:
    """The day from which colours may have moved, or None to recompute them all (see above)."""
    last = ColourSweep.objects.filter(day__lte=today).order_by("-day").first()
    if last is None or any(getattr(last, name) != value for name, value in rule.items()):
        return None
    return last.day - dt.timedelta(days=1)


def colour_sweep(*, today: dt.date | None = None, full: bool = False) -> int:
    """Move every running referral whose colour changes by `today`; return how many changed.

    `full` recomputes every running referral (after dates were changed outside the services, as
    the demo seeder does), waiting for a sweep already running rather than skipping.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        if not _lock(wait=full):
            logger.info("colour sweep: another sweep is running; skipped")
            return 0
        # Read once: what is stored below must be what these colours were computed with.
        rule = rule_in_force()
        since = None if full else _since(today, rule)
        moves = plan_moves(today=today, since=since)
        changed, told = apply_moves(moves)
        taken_back = settle_milder(moves) if since is None else 0
        now = timezone.now()
        record, _ = ColourSweep.objects.get_or_create(day=today, defaults={**rule, "ran_at": now})
        sms = _warn_departments(told, today=today, run=record.changed)
        ColourSweep.objects.filter(day=today).update(
            **rule, ran_at=now, changed=F("changed") + changed + taken_back
        )
        if changed or taken_back:
            audit_record(
                actor=None,
                action="referral.colour_sweep",
                subject=("referrals.sweep", today.isoformat()),
                new={
                    "today": today,
                    "since": since,
                    "pairs": len(moves),
                    "changed": changed,
                    "taken_back": taken_back,
                    "notified": dict(sum(told.values(), Counter())),
                    "sms": sms,
                },
            )
    logger.info(
        "colour sweep %s (since %s): %s pairs, %s changed, %s taken back",
        today,
        since,
        len(moves),
        changed,
        taken_back,
    )
    return changed + taken_back
