"""seed_demo's rolls stage: enrolments from granted outcomes and the existing recipients' list, a
year of monthly ledger entries, all through the benefits services, and nothing new the second time."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from applications.models import Household
from assist_center.models import AuditEvent
from benefits.models import BenefitEntry, Enrolment, EnrolmentEvent
from benefits.services.ledger import month_start
from eligibility.models import PoolRecord
from referrals.models import ReferralOutcome


@pytest.fixture
def demo_cases(db: Any, tmp_path: Path) -> Any:
    with override_settings(VAR_DIR=tmp_path, DEMO_PASSWORD="", DEBUG=True):
        call_command(
            "seed_demo",
            stage=["county", "pool", "cases"],
            households=80,
            seed=7,
            count=8,
            stdout=io.StringIO(),
        )
        yield


def _counts() -> tuple[int, ...]:
    return (
        Enrolment.objects.count(),
        EnrolmentEvent.objects.count(),
        BenefitEntry.objects.count(),
        AuditEvent.objects.count(),
    )


def test_the_rolls_stage_enrols_the_production_way_and_writes_a_year_of_ledger(demo_cases: Any) -> None:
    listed = PoolRecord.objects.filter(category="existing_recipient")
    assert listed.exists()
    out = io.StringIO()
    call_command("seed_demo", stage=["rolls"], stdout=out)
    assert "演示在册名单已生成" in out.getvalue()

    # Every household on the department's list is on the rolls for the item, through the service:
    # from the list, or already from a granted outcome (the reconciliation then compares them).
    existing = Enrolment.objects.filter(source=Enrolment.Source.EXISTING_RECIPIENT)
    assert existing.exists()
    assert set(existing.values_list("source_ref", flat=True)) <= set(
        listed.values_list("source_record_id", flat=True)
    )
    listed_households = set(
        Household.objects.filter(
            members__id_number_hash__in=listed.values_list("person_hash", flat=True)
        ).values_list("pk", flat=True)
    )
    on_rolls = set(
        Enrolment.objects.filter(item="dibao").exclude(state="ended").values_list("household_id", flat=True)
    )
    assert listed_households <= on_rolls
    assert EnrolmentEvent.objects.filter(enrolment__in=existing).count() == existing.count()
    # The flag monitoring selects by now follows the rolls.
    enrolled = set(Enrolment.objects.exclude(state="ended").values_list("household_id", flat=True))
    assert set(Household.objects.filter(is_enrolled=True).values_list("pk", flat=True)) == enrolled

    # Granted recurring outcomes are on the rolls, their outcome the source reference.
    granted = ReferralOutcome.objects.filter(granted=True, period__in=["monthly", "yearly"])
    assert granted.exists()
    refs = set(
        Enrolment.objects.filter(source=Enrolment.Source.GRANTED_OUTCOME).values_list("source_ref", flat=True)
    )
    assert refs and refs <= {str(pk) for pk in granted.values_list("pk", flat=True)}

    # The twelve months before this one, one entry per enrolment and month it was open.
    months = BenefitEntry.objects.filter(source=BenefitEntry.Source.ENROLMENT_MONTH)
    periods = set(months.values_list("period", flat=True))
    this_month = month_start(timezone.localdate())
    assert this_month not in periods and len(periods) == 12
    for enrolment in existing:
        paid = months.filter(enrolment=enrolment)
        assert paid.count() == len({p for p in periods if p >= month_start(enrolment.since)})
        assert all(e.amount == enrolment.monthly_amount for e in paid)
    assert AuditEvent.objects.filter(action="ledger.month").count() == 12
    assert AuditEvent.objects.filter(action="rolls.reconcile").exists()

    # Again, with or without --if-empty: nothing new.
    before = _counts()
    again = io.StringIO()
    call_command("seed_demo", "--if-empty", stage=["rolls"], stdout=again)
    assert "演示在册名单未生成" in again.getvalue()
    assert _counts() == before
