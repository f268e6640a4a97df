"""Monitoring of enrolled households after each pool import, and the assistant's resolution of a warning.

`monitoring_after_import` starts from the records the import changed (PoolRecord.job_id, indexed)
and never from the rolls: its cost grows with the changed records, not with the number of enrolled
households. Changed records of people in enrolled households go through the pure rules of
eligibility.monitoring_rules; each change that matters becomes one MonitoringWarning for the
household's township (the dedupe key makes the same change imported twice one warning), carrying
the evidence and a re-check of the affected item with the household's current records.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Person
from assist_center.actors import Actor
from assist_center.audit import audit_record
from assist_center.errors import ConflictError, field_error
from assist_center.permissions import may_handle_monitoring
from assist_center.scopes import get_in_scope_or_404
from assist_center.workdays import add_working_days
from benefits.models import Enrolment
from benefits.services.enrolments import enrolment_begin_exit

from ..facts import dec
from ..models import MonitoringWarning, PoolRecord
from ..monitoring_rules import (
    MONITORED_CATEGORIES,
    WARNING_DUE_WORKING_DAYS,
    ChangedRecord,
    HouseholdContext,
    assess_change,
    warning_dedupe_key,
)
from ..rules import evaluate
from .whatif import StandardsCache, facts_for, load_rosters, params_of

log = structlog.get_logger(__name__)

CHUNK_RECORDS = 5000
GRACE_MONTHS_DEFAULT = 3
# 渐退: assistance continues for a grace period after the household no longer qualifies; the
# county's practice is three to six months.
GRACE_MONTHS_RANGE = (3, 6)
MAX_NOTE = 2000
Status = MonitoringWarning.Status
RESOLUTIONS = (Status.NO_EFFECT, Status.ADJUSTED, Status.EXIT_STARTED)


# --- after an import ---------------------------------------------------------------------------


@dataclass
class MonitoringSummary:
    job_id: int
    changed_records: int = 0  # monitored categories changed by the job
    enrolled_records: int = 0  # of which belong to a member of an enrolled household
    changes: int = 0  # that matter
    warnings_created: int = 0
    warnings_existing: int = 0  # the same change seen before (re-import, task redelivered)
    households_rechecked: int = 0


def _changed_chunks(job_id: int) -> Any:
    """The job's changed records of monitored categories, keyset-paged by id."""
    last = 0
    while True:
        rows = list(
            PoolRecord.objects.filter(job_id=job_id, category__in=MONITORED_CATEGORIES, pk__gt=last)
            .order_by("pk")
            .values_list(
                "pk",
                "category",
                "department",
                "source_record_id",
                "person_hash",
                "effective_date",
                "data",
                "content_hash",
            )[:CHUNK_RECORDS]
        )
        if not rows:
            return
        yield [ChangedRecord(*row) for row in rows]
        if len(rows) < CHUNK_RECORDS:
            return
        last = rows[-1][0]


def _dibao_amount(standards: dict[str, Any]) -> Decimal | None:
    dibao = standards.get("dibao")
    return dec(dibao.params.get("amount_per_person_month")) if dibao is not None else None


def _recheck(household_ids: set[int], cache: StandardsCache, as_of: dt.date) -> dict[int, dict[str, Any]]:
    """The affected households' current outcome of every basic item, with the failing reasons."""
    rosters = load_rosters(sorted(household_ids))
    standards = cache.for_townships({r.township_id for r in rosters.values()})
    out: dict[int, dict[str, Any]] = {}
    for roster, facts in facts_for(rosters.values(), as_of=as_of):
        params = params_of(standards[roster.township_id], ("dibao", "low_income_edge", "extreme_poverty"))
        results = {r.item: r for r in evaluate(facts, params)}
        out[roster.household_id] = {
            item: {
                "outcome": str(r.outcome),
                "reasons": [c.reason for c in r.criteria if c.outcome != "pass"],
            }
            for item, r in results.items()
            if item in params
        }
    return out


def monitoring_after_import(*, job_id: int, today: dt.date | None = None) -> MonitoringSummary:
    """Warn the townships about every change the import made that matters to an enrolled household.

    Idempotent: a second run (task redelivered, the same file imported again) creates nothing new.
    Queries: a constant handful per 5,000 changed records, whatever the size of the rolls.
    """
    today = today or timezone.localdate()
    summary = MonitoringSummary(job_id=job_id)
    due = add_working_days(today, WARNING_DUE_WORKING_DAYS)
    cache = StandardsCache(today)
    with transaction.atomic():
        for chunk in _changed_chunks(job_id):
            summary.changed_records += len(chunk)
            hashes = list({r.person_hash for r in chunk})
            members = Person.objects.filter(
                household__is_enrolled=True, id_number_hash__in=hashes
            ).values_list("id_number_hash", "household_id", "household__township_id")
            household_of: dict[str, tuple[int, int]] = {h: (hid, int(tid or 0)) for h, hid, tid in members}
            if not household_of:
                continue
            household_ids = {hid for hid, _tid in household_of.values()}
            sizes = dict(
                Person.objects.filter(household_id__in=household_ids)
                .values("household_id")
                .annotate(n=Count("pk"))
                .values_list("household_id", "n")
            )
            standards = cache.for_townships({tid for _hid, tid in household_of.values()})
            found: dict[str, MonitoringWarning] = {}
            for rec in chunk:
                place = household_of.get(rec.person_hash)
                if place is None:
                    continue
                summary.enrolled_records += 1
                household_id, township_id = place
                context = HouseholdContext(
                    household_id, int(sizes.get(household_id, 1)), _dibao_amount(standards[township_id])
                )
                change = assess_change(rec, context)
                if change is None:
                    continue
                summary.changes += 1
                key = warning_dedupe_key(household_id, rec)
                found[key] = MonitoringWarning(
                    household_id=household_id,
                    township_id=township_id,
                    change=change.code,
                    item=change.item,
                    evidence=change.evidence,
                    due_date=due,
                    dedupe_key=key,
                )
            if not found:
                continue
            existing = set(
                MonitoringWarning.objects.filter(dedupe_key__in=list(found)).values_list(
                    "dedupe_key", flat=True
                )
            )
            new = [w for k, w in found.items() if k not in existing]
            summary.warnings_existing += len(existing)
            if not new:
                continue
            rechecked = _recheck({w.household_id for w in new}, cache, today)
            summary.households_rechecked += len(rechecked)
            for w in new:
                w.evidence = {**w.evidence, "recheck": rechecked.get(w.household_id, {})}
            # A concurrent run of the same job inserts the same keys: ON CONFLICT DO NOTHING.
            MonitoringWarning.objects.bulk_create(new, ignore_conflicts=True)
            summary.warnings_created += len(new)
        audit_record(
            actor=None,
            action="monitoring.run",
            subject=("eligibility.importjob", str(job_id)),
            new={
                "changed_records": summary.changed_records,
                "enrolled_records": summary.enrolled_records,
                "changes": summary.changes,
                "warnings_created": summary.warnings_created,
                "warnings_existing": summary.warnings_existing,
            },
        )
    log.info("monitoring.done", **vars(summary))
    return summary


# --- resolution --------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def warning_begin_exits(
    *, actor: Actor, warning: MonitoringWarning, grace_end: dt.date, note: str
) -> list[int]:
    """Put the household's open enrolments of the warned item in gradual exit; return their ids.

    The assistant decided the exit (the note says why); monitoring only proposed it. The roll's own
    service moves each enrolment under its row lock, in the caller's transaction, so the warning
    and the rolls change together or not at all. An enrolment already in exit keeps its grace end.
    A warning without an item names no enrolment: nothing is ended on a guess.
    """
    if not warning.item:
        return []
    ids = list(
        Enrolment.objects.filter(
            household_id=warning.household_id, item=warning.item, state=Enrolment.State.ACTIVE
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for enrolment_id in ids:
        enrolment_begin_exit(
            actor=actor, enrolment_id=enrolment_id, grace_end=grace_end, reason=note, warning_id=warning.pk
        )
    return ids


def warning_resolve(
    *,
    actor: Actor,
    warning_id: int,
    resolution: str,
    note: str,
    grace_months: int | None = None,
    today: dt.date | None = None,
) -> MonitoringWarning:
    """Close an open warning: no effect, assistance adjusted, or a gradual exit (渐退) started.

    Out of scope: Http404. In scope but not the township assistant or coordinator: PermissionDenied.
    Two people resolving at once: one wins, the other gets ConflictError (409). The note is
    required (the decision is a person's and must say why); an exit takes `grace_months` (3-6,
    default 3) and records the date the grace period ends.
    """
    warning = get_in_scope_or_404(
        MonitoringWarning.objects.select_related("household__village"), actor, pk=warning_id
    )
    if not may_handle_monitoring(actor):
        raise PermissionDenied
    if resolution not in RESOLUTIONS:
        raise field_error("resolution", _("Choose no effect, adjusted or start a gradual exit."))
    note = (note or "").strip()
    if not note:
        raise field_error("note", _("Say what you found and decided."))
    if len(note) > MAX_NOTE or "\x00" in note:
        raise field_error("note", _("The note may have at most %(n)d characters.") % {"n": MAX_NOTE})
    grace_until: dt.date | None = None
    if resolution == Status.EXIT_STARTED:
        months = GRACE_MONTHS_DEFAULT if grace_months is None else grace_months
        low, high = GRACE_MONTHS_RANGE
        if isinstance(months, bool) or not isinstance(months, int) or not low <= months <= high:
            raise field_error(
                "grace_months",
                _("The grace period is %(low)d to %(high)d months.") % {"low": low, "high": high},
            )
        grace_until = add_months(today or timezone.localdate(), months)
    now = timezone.now()
    with transaction.atomic():
        # Conditional UPDATE: of two assistants resolving at once, the second matches no row.
        won = MonitoringWarning.objects.filter(pk=warning.pk, status=Status.OPEN).update(
            status=resolution,
            resolution_note=note,
            grace_until=grace_until,
            resolved_by=actor,
            resolved_at=now,
        )
        if not won:
            raise ConflictError(_("This warning has already been resolved."), {"warning": warning.pk})
        exits = (
            warning_begin_exits(actor=actor, warning=warning, grace_end=grace_until, note=note)
            if grace_until is not None
            else []
        )
        audit_record(
            actor=actor,
            action="monitoring.warning.resolve",
            subject=warning,
            old={"status": Status.OPEN},
            new={
                "status": resolution,
                "change": warning.change,
                "item": warning.item,
                "household": warning.household_id,
                "grace_until": grace_until,
                "enrolments_in_exit": exits,
            },
            reason=note,
            region=warning.household.village,
        )
    warning.refresh_from_db()
    return warning
