"""The roll's history and the ledger refuse, in the database, what would rewrite them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from benefits.models import BenefitEntry, Enrolment, EnrolmentEvent
from benefits.services.enrolments import enrolment_start
from benefits.services.ledger import ledger_write_month
from tests import factories as f

from .helpers import csv_bytes, run


@pytest.fixture
def enrolment(county_map: Any) -> Enrolment:
    household = f.household(county_map.village_a1)
    e = enrolment_start(
        actor=None,
        household_id=household.pk,
        item="dibao",
        since=dt.date(2026, 1, 1),
        source=Enrolment.Source.ASSISTANT_ENTRY,
        monthly_amount=Decimal("850.00"),
        reason="县民政局存量名单核对",
    )
    ledger_write_month(month=dt.date(2026, 1, 1))
    return e


def _sql(statement: str, params: list[Any]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE benefits_enrolmentevent SET reason = 'rewritten' WHERE enrolment_id = %s",
        "DELETE FROM benefits_enrolmentevent WHERE enrolment_id = %s",
    ],
)
def test_raw_sql_cannot_update_or_delete_an_enrolment_event(enrolment: Enrolment, statement: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"):
        _sql(statement, [enrolment.pk])
    assert EnrolmentEvent.objects.get(enrolment=enrolment).reason == "县民政局存量名单核对"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE benefits_benefitentry SET amount = 1 WHERE enrolment_id = %s",
        "UPDATE benefits_benefitentry SET source = 'payment_file' WHERE enrolment_id = %s",
        "DELETE FROM benefits_benefitentry WHERE enrolment_id = %s",
    ],
)
def test_raw_sql_cannot_rewrite_or_delete_a_month_of_the_ledger(enrolment: Enrolment, statement: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"):
        _sql(statement, [enrolment.pk])
    entry = BenefitEntry.objects.get(enrolment=enrolment)
    assert entry.amount == Decimal("850.00") and entry.source == BenefitEntry.Source.ENROLMENT_MONTH


def test_queryset_update_and_delete_are_refused_too(enrolment: Enrolment) -> None:
    for action in (
        lambda: BenefitEntry.objects.filter(enrolment=enrolment).update(amount=Decimal("1")),
        lambda: BenefitEntry.objects.filter(enrolment=enrolment).delete(),
        lambda: EnrolmentEvent.objects.filter(enrolment=enrolment).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            action()
    assert BenefitEntry.objects.filter(enrolment=enrolment).count() == 1


PAYMENT = ("id_number", "record_id", "effective_date", "amount", "period")


def test_a_corrected_payment_file_still_updates_its_own_rows_but_they_cannot_be_deleted_or_rekeyed(
    county_map: Any,
) -> None:
    household = f.household(county_map.village_a1)
    person = household.members.get()
    run("payment_dibao", csv_bytes(PAYMENT, [(person.id_number, "P1", "2026-02-10", "850.00", "2026-02-01")]))
    run("payment_dibao", csv_bytes(PAYMENT, [(person.id_number, "P1", "2026-02-10", "900.00", "2026-02-01")]))
    entry = BenefitEntry.objects.get(source_key="file:payment_dibao:P1")
    assert entry.amount == Decimal("900.00")  # the corrected file's upsert passed the trigger
    for statement in (
        "DELETE FROM benefits_benefitentry WHERE id = %s",
        "UPDATE benefits_benefitentry SET source_key = 'file:payment_dibao:P9' WHERE id = %s",
        "UPDATE benefits_benefitentry SET source = 'referral_outcome' WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            _sql(statement, [entry.pk])
    assert BenefitEntry.objects.filter(source_key="file:payment_dibao:P1").exists()
