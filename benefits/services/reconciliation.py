"""A department's list of existing recipients, compared with the rolls: one task per mismatch.

Called by the `existing_recipient` pool import (eligibility.services.registry) with the list's
records (persons already resolved through the registry), inside the import's transaction. Only
the items the list mentions are compared, so a list of one item raises nothing about the others.
Three mismatches, each one roll task for the household's township with both records side by side:
on the list but not enrolled, enrolled but not on the list, and a different monthly amount.
A task stays unique while open (`roll_task_open_once`): importing the same list again, or a list
that still shows the same mismatch, adds nothing until the township has dealt with it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from assist_center.actors import AuditActor
from assist_center.audit import audit_record
from assist_center.workdays import add_working_days

from ..models import Enrolment, RollTask

# The township has this many working days to look at a mismatch.
RECONCILE_WORKING_DAYS = 10
# Status words of a department's list that mean "still receiving" (在册, and 渐退: paid until the end).
ON_LIST_STATUSES = frozenset({"在册", "渐退", "active", "gradual_exit"})


@dataclass(frozen=True)
class RecipientRecord:
    """One row of a department's list, its person found in the registry."""

    record_id: str
    person_id: int
    household_id: int
    township_id: int
    item: str
    status: str
    effective_date: dt.date
    monthly_amount: Decimal | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "person": self.person_id,
            "item": self.item,
            "status": self.status,
            "effective_date": self.effective_date.isoformat(),
            "monthly_amount": str(self.monthly_amount) if self.monthly_amount is not None else None,
        }


@dataclass
class ReconcileResult:
    compared: int = 0
    matched: int = 0
    created: dict[str, int] = field(default_factory=dict)


def _roll_json(e: Enrolment) -> dict[str, Any]:
    return {
        "enrolment": e.pk,
        "item": e.item,
        "person": e.person_id,
        "since": e.since.isoformat(),
        "state": e.state,
        "monthly_amount": str(e.monthly_amount) if e.monthly_amount is not None else None,
        "kind": e.kind,
        "source": e.source,
    }


def rolls_reconcile(
    *, records: list[RecipientRecord], actor: AuditActor, job_id: int | None = None
) -> ReconcileResult:
    """Compare the list with the open enrolments of the items it mentions; create the missing tasks."""
    result = ReconcileResult()
    items = {r.item for r in records}
    if not items:
        return result
    due = add_working_days(timezone.localdate(), RECONCILE_WORKING_DAYS)
    on_list = [r for r in records if r.status in ON_LIST_STATUSES]
    with transaction.atomic():
        enrolments = list(Enrolment.objects.filter(item__in=items).exclude(state=Enrolment.State.ENDED))
        by_person = {(e.household_id, e.item, e.person_id): e for e in enrolments if e.person_id is not None}
        by_household = {(e.household_id, e.item): e for e in enrolments if e.person_id is None}
        matched: dict[int, list[RecipientRecord]] = defaultdict(list)
        tasks: list[RollTask] = []

        def task(
            kind: str,
            *,
            township_id: int,
            household_id: int,
            item: str,
            person: int | None,
            enrolment: Enrolment | None,
            dept: dict[str, Any],
        ) -> None:
            tasks.append(
                RollTask(
                    township_id=township_id,
                    household_id=household_id,
                    enrolment=enrolment,
                    kind=kind,
                    item=item,
                    department_record=dept,
                    roll_record=_roll_json(enrolment) if enrolment else {},
                    due_date=due,
                    import_job_id=job_id,
                    dedupe_key=f"reconcile:{kind}:{household_id}:{item}:{person or ''}",
                )
            )

        for r in sorted(on_list, key=lambda r: r.record_id):
            result.compared += 1
            e = by_person.get((r.household_id, r.item, r.person_id)) or by_household.get(
                (r.household_id, r.item)
            )
            if e is None:
                task(
                    RollTask.Kind.ON_LIST_NOT_ENROLLED,
                    township_id=r.township_id,
                    household_id=r.household_id,
                    item=r.item,
                    person=r.person_id,
                    enrolment=None,
                    dept=r.as_json(),
                )
            else:
                matched[e.pk].append(r)
        for e in enrolments:
            rows = matched.get(e.pk)
            if not rows:
                task(
                    RollTask.Kind.ENROLLED_NOT_ON_LIST,
                    township_id=e.township_id,
                    household_id=e.household_id,
                    item=e.item,
                    person=e.person_id,
                    enrolment=e,
                    dept={},
                )
                continue
            result.matched += 1
            amounts = [r.monthly_amount for r in rows if r.monthly_amount is not None]
            # Several members listed for one household item: the household receives their sum.
            listed = sum(amounts, Decimal(0)) if amounts else None
            if listed is not None and e.monthly_amount is not None and listed != e.monthly_amount:
                dept = (
                    rows[0].as_json()
                    if len(rows) == 1
                    else {"records": [r.as_json() for r in rows], "monthly_amount": str(listed)}
                )
                task(
                    RollTask.Kind.AMOUNT_DIFFERS,
                    township_id=e.township_id,
                    household_id=e.household_id,
                    item=e.item,
                    person=e.person_id,
                    enrolment=e,
                    dept=dept,
                )
        open_keys = set(
            RollTask.objects.filter(
                dedupe_key__in=[t.dedupe_key for t in tasks], status=RollTask.Status.OPEN
            ).values_list("dedupe_key", flat=True)
        )
        new = [t for t in tasks if t.dedupe_key not in open_keys]
        RollTask.objects.bulk_create(new, ignore_conflicts=True)
        for t in new:
            result.created[t.kind] = result.created.get(t.kind, 0) + 1
        audit_record(
            actor=actor,
            action="rolls.reconcile",
            subject=("eligibility.importjob", str(job_id or "")),
            new={
                "items": sorted(items),
                "compared": result.compared,
                "matched": result.matched,
                "tasks": result.created,
            },
        )
    return result
