"""A department's granted outcome puts the household on the rolls, or in the ledger, in its transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from assist_center.errors import ConflictError
from assist_center.models import AuditEvent
from benefits.models import BenefitEntry, Enrolment, EnrolmentEvent
from referrals.models import Referral, ReferralOutcome
from referrals.services.actions import OutcomeInput, outcomes_to_rolls, referral_complete
from tests import factories as f

from .builders import open_case

MONTHLY = OutcomeInput(
    item="dibao",
    granted=True,
    benefit_kind="低保金",
    amount="650.00",
    period="monthly",
    start_date=dt.date(2026, 12, 1),
)


def _referral(county_map: Any, personas: Any, items: list[str], *, linked: bool = True) -> Referral:
    case = open_case(county_map.village_a1, actor=personas.assistant_a, items=items)
    if linked:
        home = f.household(county_map.village_a1)
        case.application.household = home
        case.application.save(update_fields=["household"])
    return case.referrals.get()


@pytest.mark.django_db
def test_a_granted_monthly_outcome_enrols_the_household_once(county_map: Any, personas: Any) -> None:
    r = _referral(county_map, personas, ["dibao"])
    referral_complete(actor=personas.dept_civil, referral_id=r.pk, outcomes=[MONTHLY])
    outcome = ReferralOutcome.objects.get(referral=r)
    e = Enrolment.objects.get()
    household_id = r.case.application.household_id
    assert (e.household_id, e.item, e.since, e.monthly_amount, e.kind) == (
        household_id,
        "dibao",
        dt.date(2026, 12, 1),
        Decimal("650.00"),
        "",
    )
    assert (e.source, e.source_ref, e.department, e.state) == (
        Enrolment.Source.GRANTED_OUTCOME,
        str(outcome.pk),
        county_map.dept_civil,
        Enrolment.State.ACTIVE,
    )
    assert list(EnrolmentEvent.objects.filter(enrolment=e).values_list("kind", flat=True)) == ["started"]
    start = AuditEvent.objects.get(action="enrolment.start", subject_id=str(e.pk))
    assert start.new_values["source_ref"] == str(outcome.pk)
    done = AuditEvent.objects.get(action="referral.complete", subject_id=str(r.pk))
    assert done.actor == personas.dept_civil
    assert done.new_values["rolls"] == [{"item": "dibao", "outcome": outcome.pk, "enrolment": e.pk}]
    # A retried completion is refused (the referral is done) and enrols nothing more; the rolls'
    # writer itself, called again for the same outcome, returns the same enrolment.
    with pytest.raises(ConflictError):
        referral_complete(actor=personas.dept_civil, referral_id=r.pk, outcomes=[MONTHLY])
    again = outcomes_to_rolls(referral=r, outcomes=[outcome], household_id=household_id)
    assert again == [{"item": "dibao", "outcome": outcome.pk, "enrolment": e.pk}]
    assert Enrolment.objects.count() == 1 and EnrolmentEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_one_off_grant_is_one_ledger_entry(county_map: Any, personas: Any) -> None:
    r = _referral(county_map, personas, ["temporary"])
    grant = OutcomeInput(
        item="temporary", granted=True, benefit_kind="临时救助金", amount="2000", period="once"
    )
    referral_complete(actor=personas.dept_civil, referral_id=r.pk, outcomes=[grant])
    outcome = ReferralOutcome.objects.get(referral=r)
    entry = BenefitEntry.objects.get()
    assert (entry.household_id, entry.item, entry.amount, entry.source, entry.source_key) == (
        r.case.application.household_id,
        "temporary",
        Decimal("2000.00"),
        BenefitEntry.Source.REFERRAL_OUTCOME,
        f"outcome:{outcome.pk}",
    )
    assert entry.provider_code == r.department.code
    assert AuditEvent.objects.filter(action="ledger.record", subject_id=str(entry.pk)).exists()
    assert not Enrolment.objects.exists()
    outcomes_to_rolls(referral=r, outcomes=[outcome], household_id=r.case.application.household_id)
    assert BenefitEntry.objects.count() == 1


@pytest.mark.django_db
def test_a_refused_outcome_enrols_nothing(county_map: Any, personas: Any) -> None:
    r = _referral(county_map, personas, ["dibao"])
    refused = OutcomeInput(item="dibao", granted=False, reason="家庭收入超过标准")
    referral_complete(actor=personas.dept_civil, referral_id=r.pk, outcomes=[refused])
    assert not Enrolment.objects.exists() and not BenefitEntry.objects.exists()
    assert not AuditEvent.objects.filter(action="enrolment.start").exists()
    done = AuditEvent.objects.get(action="referral.complete", subject_id=str(r.pk))
    assert done.new_values["rolls"] == []


@pytest.mark.django_db
def test_a_household_already_on_the_rolls_keeps_its_enrolment_and_the_outcome_is_recorded(
    county_map: Any, personas: Any
) -> None:
    from benefits.services.enrolments import enrolment_start

    r = _referral(county_map, personas, ["dibao"])
    household_id = r.case.application.household_id
    assert household_id is not None
    listed = enrolment_start(
        actor=None,
        household_id=household_id,
        item="dibao",
        since=dt.date(2026, 1, 1),
        source=Enrolment.Source.EXISTING_RECIPIENT,
        source_ref="pool:9",
        monthly_amount=Decimal("600.00"),
    )
    referral_complete(actor=personas.dept_civil, referral_id=r.pk, outcomes=[MONTHLY])
    r.refresh_from_db()
    assert r.status == Referral.Status.COMPLETED
    assert list(Enrolment.objects.values_list("pk", flat=True)) == [listed.pk]
    done = AuditEvent.objects.get(action="referral.complete", subject_id=str(r.pk))
    assert done.new_values["rolls"][0]["already_enrolled"] == listed.pk


@pytest.mark.django_db
def test_an_application_without_a_household_completes_and_says_nothing_was_enrolled(
    county_map: Any, personas: Any
) -> None:
    r = _referral(county_map, personas, ["dibao"], linked=False)
    referral_complete(actor=personas.dept_civil, referral_id=r.pk, outcomes=[MONTHLY])
    assert not Enrolment.objects.exists()
    done = AuditEvent.objects.get(action="referral.complete", subject_id=str(r.pk))
    assert done.new_values["rolls"][0]["skipped"] == "no_household"


@pytest.mark.django_db
def test_a_yearly_grant_enrols_the_kind_and_leaves_the_months_to_the_payment_file(
    county_map: Any, personas: Any
) -> None:
    from benefits.services.ledger import ledger_write_month

    r = _referral(county_map, personas, ["dibao"])
    yearly = OutcomeInput(
        item="dibao", granted=True, benefit_kind="低保金（按年发放）", amount="9600", period="yearly"
    )
    referral_complete(actor=personas.dept_civil, referral_id=r.pk, outcomes=[yearly])
    e = Enrolment.objects.get()
    assert (e.monthly_amount, e.kind) == (None, "低保金（按年发放）")
    assert e.source == Enrolment.Source.GRANTED_OUTCOME
    assert ledger_write_month() == 0 and not BenefitEntry.objects.exists()
