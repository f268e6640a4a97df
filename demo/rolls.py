"""The demo county's rolls and a year of its ledger, built the way production builds them.

Granted outcomes of the completed referrals enrol through the referrals service that records them
(`outcomes_to_rolls`, idempotent on the outcome: the cases stage already ran it, a database seeded
before it existed gets it now); the civil-affairs list of existing recipients (the pool's
`existing_recipient` records) enrols its households through the enrolment service and is then
reconciled with the rolls, which leaves roll tasks where the two differ; the monthly ledger
service writes the twelve months before this one. Every step is idempotent, so a second run
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from applications.models import Person
from assist_center.errors import ConflictError
from assist_center.models import Department
from benefits.models import Enrolment
from benefits.services.enrolments import enrolment_start
from benefits.services.ledger import ledger_write_month, month_start
from benefits.services.reconciliation import ON_LIST_STATUSES, RecipientRecord, rolls_reconcile
from eligibility.models import PoolRecord
from referrals.models import Referral, ReferralOutcome
from referrals.services.actions import outcomes_to_rolls

# The audit trail's label for what the seeder did: a labelled entry point acts for the county.
ACTOR = "demo seed"
LEDGER_MONTHS = 12


@dataclass
class SeedRollsResult:
    granted: int = 0
    existing: int = 0
    already_enrolled: int = 0
    tasks: Counter[str] = field(default_factory=Counter)
    ledger_entries: int = 0
    months: list[str] = field(default_factory=list)


def _granted(result: SeedRollsResult) -> None:
    referrals = (
        Referral.objects.filter(status=Referral.Status.COMPLETED, outcomes__granted=True)
        .select_related("department", "case__application")
        .distinct()
        .order_by("pk")
    )
    for referral in referrals:
        outcomes = list(ReferralOutcome.objects.filter(referral=referral, granted=True).order_by("pk"))
        written = outcomes_to_rolls(
            referral=referral, outcomes=outcomes, household_id=referral.case.application.household_id
        )
        result.granted += sum(1 for w in written if "enrolment" in w or "benefit" in w)


def _amount(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01")) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _existing_recipients(result: SeedRollsResult) -> None:
    rows = list(
        PoolRecord.objects.filter(category="existing_recipient")
        .order_by("pk")
        .values_list("source_record_id", "department", "person_hash", "effective_date", "data")
    )
    places = {
        h: (pk, household_id, township_id)
        for pk, h, household_id, township_id in Person.objects.filter(
            id_number_hash__in={r[2] for r in rows}
        ).values_list("pk", "id_number_hash", "household_id", "household__township_id")
    }
    departments = dict(Department.objects.values_list("code", "pk"))
    records: list[RecipientRecord] = []
    for record_id, department, person_hash, effective_date, data in rows:
        place = places.get(person_hash)
        item = str(data.get("item") or "")
        if place is None or not item:
            continue
        person_id, household_id, township_id = place
        record = RecipientRecord(
            record_id=record_id,
            person_id=person_id,
            household_id=household_id,
            township_id=int(township_id or 0),
            item=item,
            status=str(data.get("status") or ""),
            effective_date=effective_date,
            monthly_amount=_amount(data.get("monthly_amount")),
        )
        records.append(record)
        if record.status not in ON_LIST_STATUSES:
            continue
        try:
            enrolment = enrolment_start(
                actor=ACTOR,
                household_id=household_id,
                item=item,
                since=effective_date,
                source=Enrolment.Source.EXISTING_RECIPIENT,
                source_ref=record_id,
                department_id=departments.get(department),
                monthly_amount=record.monthly_amount,
                kind="" if record.monthly_amount is not None else item,
            )
        except ConflictError:
            # On the rolls already (a granted outcome): the reconciliation below shows any difference.
            result.already_enrolled += 1
            continue
        if enrolment.source_ref == record_id:
            result.existing += 1
    if records:
        result.tasks.update(rolls_reconcile(records=records, actor=ACTOR).created)


def _ledger(result: SeedRollsResult, today: dt.date) -> None:
    month = month_start(today)
    months = []
    for _n in range(LEDGER_MONTHS):
        month = month_start(month - dt.timedelta(days=1))
        months.append(month)
    for m in reversed(months):
        result.ledger_entries += ledger_write_month(month=m)
        result.months.append(f"{m:%Y-%m}")


def seed_rolls(*, today: dt.date | None = None) -> SeedRollsResult:
    """Enrol the demo county and write its ledger's past year; all or nothing (one transaction)."""
    result = SeedRollsResult()
    with transaction.atomic():
        _granted(result)
        _existing_recipients(result)
        _ledger(result, today or timezone.localdate())
    return result
