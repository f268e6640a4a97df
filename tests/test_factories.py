"""Each factory trait reaches the state it claims: what the database holds, audit events included."""

from __future__ import annotations

from typing import Any

import pytest

from applications.models import Application, ApplicationMember, Authorisation
from assist_center.models import AuditEvent
from eligibility.models import ItemDecision, VerificationReport
from referrals.models import Case, Colour, Referral, ReferralOutcome

from . import factories as f

pytestmark = pytest.mark.django_db

S = Application.Status


def status_moves(app: Application) -> list[str]:
    events = AuditEvent.objects.filter(action="application.status", subject_id=str(app.pk)).order_by("pk")
    return [e.new_values["status"] for e in events]


def test_a_submitted_application_awaits_authorisation_with_its_members(county_map: Any) -> None:
    app = f.ApplicationFactory.create(
        village=county_map.village_a1, people=[f.applicant(), f.member(), f.supporter()]
    )
    assert app.status == S.AWAITING_AUTHORISATION and app.channel == "on_behalf"
    assert app.submitted_by is not None and app.township == county_map.town_a
    roles = list(
        ApplicationMember.objects.filter(application=app).order_by("position").values_list("role", flat=True)
    )
    assert roles == ["applicant", "member", "supporter"]
    assert AuditEvent.objects.filter(action="application.submitted", subject_id=str(app.pk)).exists()
    assert status_moves(app) == [S.AWAITING_AUTHORISATION]
    assert not Authorisation.objects.filter(member__application=app).exists()
    # The drawn people are there to refer to, in form order.
    assert [p.name for p in app.factory_people] == list(
        ApplicationMember.objects.filter(application=app).order_by("position").values_list("name", flat=True)
    )


def test_an_authorised_application_has_every_required_signature(county_map: Any, personas: Any) -> None:
    people = [f.applicant(sign=f.Sign.SCREEN), f.member(), f.supporter(sign=f.Sign.SCREEN)]
    app = f.ApplicationFactory.create(
        village=county_map.village_a1, people=people, assistant=personas.assistant_a, authorised=True
    )
    assert app.status == S.AUTHORISED and app.authorised_at is not None
    required = ApplicationMember.objects.filter(application=app, must_authorise=True)
    assert required.count() == 3 and not required.filter(authorisation__isnull=True).exists()
    methods = dict(
        Authorisation.objects.filter(member__application=app).values_list("member__role", "method")
    )
    assert methods == {"applicant": "screen", "member": "paper", "supporter": "screen"}
    assert (
        Authorisation.objects.get(member__application=app, method="paper").uploaded_by == personas.assistant_a
    )
    assert AuditEvent.objects.filter(action="authorisation.signed").count() == 3
    assert status_moves(app) == [S.AWAITING_AUTHORISATION, S.AUTHORISED]


def test_a_verified_application_is_under_review_with_one_report(county_map: Any) -> None:
    app = f.ApplicationFactory.create(village=county_map.village_a1, verified=True)
    assert app.status == S.UNDER_REVIEW
    report = VerificationReport.objects.get(application=app)
    assert report.trigger == VerificationReport.Trigger.AUTHORISED and report.results
    assert AuditEvent.objects.filter(action="verification.run", subject_id=str(app.pk)).count() == 1
    assert status_moves(app)[-2:] == [S.VERIFYING, S.UNDER_REVIEW]


def test_a_decided_application_has_its_decisions_and_the_case_it_opened(
    county_map: Any, personas: Any
) -> None:
    app = f.ApplicationFactory.create(
        village=county_map.village_a1,
        needs=["dibao", "medical"],
        approve=["dibao"],
        decided_by=personas.coordinator,
        decided=True,
    )
    assert app.status == S.DECIDED and status_moves(app)[-1] == S.DECIDED
    decisions = dict(ItemDecision.objects.filter(application=app).values_list("item", "decision"))
    assert decisions == {"dibao": "approve", "medical": "reject"}
    assert AuditEvent.objects.filter(action="item.decide", actor=personas.coordinator).count() == 2
    case = Case.objects.get(application=app)
    assert [r.items for r in case.referrals.all()] == [["dibao"]]


def test_a_decided_application_with_nothing_approved_opens_no_case(county_map: Any) -> None:
    app = f.ApplicationFactory.create(village=county_map.village_a1, approve=[], decided=True)
    assert app.status == S.DECIDED
    assert not Case.objects.filter(application=app).exists()


def test_an_open_case_has_a_pending_referral_per_department(county_map: Any) -> None:
    case = f.CaseFactory.create(village=county_map.village_a1, items=["dibao", "medical"])
    assert case.status == Case.Status.OPEN
    assert sorted(case.referrals.values_list("department__code", "status")) == [
        ("civil_affairs", "pending"),
        ("medical_security", "pending"),
    ]
    assert AuditEvent.objects.filter(action="case.open", subject_id=str(case.pk)).exists()


def test_a_closed_case_has_every_referral_completed(county_map: Any) -> None:
    case = f.CaseFactory.create(village=county_map.village_a1, items=["dibao", "medical"], closed=True)
    assert case.status == Case.Status.CLOSED and case.closed_at is not None
    assert set(case.referrals.values_list("status", flat=True)) == {Referral.Status.COMPLETED}
    assert ReferralOutcome.objects.filter(referral__case=case, granted=True).count() == 2
    assert AuditEvent.objects.filter(action="case.close", subject_id=str(case.pk)).exists()


@pytest.mark.parametrize(
    ("trait", "status", "action"),
    [
        ("pending", Referral.Status.PENDING, "case.open"),
        ("accepted", Referral.Status.ACCEPTED, "referral.accept"),
        ("completed", Referral.Status.COMPLETED, "referral.complete"),
    ],
)
def test_each_referral_trait_reaches_its_status_through_its_action(
    county_map: Any, trait: str, status: str, action: str
) -> None:
    referral = f.ReferralFactory.create(village=county_map.village_a1, **{trait: True})
    assert referral.status == status
    subject = referral.case if action == "case.open" else referral
    assert AuditEvent.objects.filter(action=action, subject_id=str(subject.pk)).exists()


def test_an_overdue_referral_is_pending_past_its_due_date_and_red(county_map: Any) -> None:
    from django.utils import timezone

    referral = f.ReferralFactory.create(village=county_map.village_a1, overdue=True)
    assert referral.status == Referral.Status.PENDING
    assert referral.due_date < timezone.localdate()
    assert referral.colour == Colour.RED
    assert referral.notifications.filter(colour=Colour.RED).exists()


def test_a_factory_never_builds_without_the_database() -> None:
    with pytest.raises(TypeError):
        f.ApplicationFactory.build()
