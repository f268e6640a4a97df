"""The benefits ledger's writers: a month of the rolls, and one benefit from a case or a delivery.

Every entry has a `source_key` (BenefitEntry) and every writer inserts with ON CONFLICT DO
NOTHING on it, so a task or a call that runs twice writes once. Department payment files are
written by the pool import pipeline (eligibility.services.payments), in bulk.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assist_center.actors import AuditActor
from assist_center.audit import audit_record
from assist_center.errors import field_error

from ..models import BenefitEntry, Enrolment

ENTRY_TABLE = BenefitEntry._meta.db_table
ENROLMENT_TABLE = Enrolment._meta.db_table


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def enrolment_month_key(enrolment_id: int, month: dt.date) -> str:
    return f"enrolment:{enrolment_id}:{month:%Y-%m}"


# An enrolment is paid for a month when it began by the month's end and was still open at its
# start (an exit ending mid-month is paid for that month). A month a department's payment file
# already covers for the household and item is left to the file: "or the payment file provides them".
_MONTH_SQL = f"""
INSERT INTO {ENTRY_TABLE} AS b
    (household_id, person_id, enrolment_id, item, provider_code, provider_name, amount, in_kind,
     period, paid_on, source, source_key, content_hash, import_job_id, created_at, updated_at)
SELECT e.household_id, e.person_id, e.id, e.item, coalesce(d.code, ''), coalesce(d.name, ''),
       e.monthly_amount, '', %(first)s, NULL, 'enrolment_month',
       'enrolment:' || e.id || ':' || %(month)s, '', NULL, %(now)s, %(now)s
FROM {ENROLMENT_TABLE} e
LEFT JOIN assist_center_department d ON d.id = e.department_id
WHERE e.monthly_amount IS NOT NULL
  AND e.since <= %(last)s
  AND (e.state <> 'ended' OR e.ended_on >= %(first)s)
  AND NOT EXISTS (
      SELECT 1 FROM {ENTRY_TABLE} f
      WHERE f.household_id = e.household_id AND f.period = %(first)s AND f.item = e.item
        AND f.source = 'payment_file' AND f.person_id IS NOT DISTINCT FROM coalesce(e.person_id, f.person_id)
  )
ON CONFLICT (source_key) DO NOTHING
"""  # noqa: S608 - table names from the models


def ledger_write_month(*, month: dt.date | None = None) -> int:
    """Write the month's entries of every enrolment with a monthly amount; return how many are new.

    Idempotent per month: the key is (enrolment, month), so a second run, a second beat or a
    redelivered task inserts nothing.
    """
    day = month or timezone.localdate()
    first, last = month_start(day), month_end(day)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                _MONTH_SQL, {"first": first, "last": last, "month": f"{first:%Y-%m}", "now": timezone.now()}
            )
            written = cursor.rowcount
        if written:
            audit_record(
                actor=None,
                action="ledger.month",
                subject=("benefits.benefitentry", f"{first:%Y-%m}"),
                new={"month": f"{first:%Y-%m}", "written": written},
            )
    return written


def benefit_record(
    *,
    actor: AuditActor,
    household_id: int,
    source: str,
    source_key: str,
    period: dt.date,
    person_id: int | None = None,
    item: str = "",
    provider_code: str = "",
    provider_name: str = "",
    amount: Decimal | None = None,
    in_kind: str = "",
    paid_on: dt.date | None = None,
    enrolment_id: int | None = None,
) -> tuple[BenefitEntry, bool]:
    """Record one benefit (a one-off granted outcome, a charity completion); (entry, created).

    The same `source_key` again returns the first entry unchanged: the caller's retry is harmless.
    """
    if source not in BenefitEntry.Source.values:
        raise field_error("source", _("Unknown source."))
    if not source_key or len(source_key) > 120:
        raise field_error("source_key", _("A benefit needs a source key of 1 to 120 characters."))
    in_kind = (in_kind or "").strip()[:200]
    if amount is None and not in_kind:
        raise field_error("amount", _("Give an amount or the benefit in kind."))
    now = timezone.now()
    with transaction.atomic():
        existing = BenefitEntry.objects.filter(source_key=source_key).first()
        if existing is not None:
            return existing, False
        entry = BenefitEntry(
            household_id=household_id,
            person_id=person_id,
            enrolment_id=enrolment_id,
            item=item,
            provider_code=provider_code[:64],
            provider_name=provider_name[:100],
            amount=amount,
            in_kind=in_kind,
            period=month_start(period),
            paid_on=paid_on,
            source=source,
            source_key=source_key,
            created_at=now,
            updated_at=now,
        )
        try:
            with transaction.atomic():
                entry.save(force_insert=True)
        except IntegrityError:
            # A concurrent twin committed first.
            return BenefitEntry.objects.get(source_key=source_key), False
        audit_record(
            actor=actor,
            action="ledger.record",
            subject=entry,
            new={
                "household": household_id,
                "source": source,
                "source_key": source_key,
                "amount": amount,
                "in_kind": in_kind,
                "period": entry.period,
            },
        )
    return entry, True
