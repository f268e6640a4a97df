"""Item decisions: scoped, audited, a rejection always with a person's reason; closing the review."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from applications.models import Application
from assist_center.errors import ApplicationError, ConflictError
from assist_center.models import AuditEvent
from eligibility.models import ItemDecision, VerificationReport
from eligibility.services.decisions import application_decide_complete, approved_items, item_decide
from eligibility.services.verification import application_verify_run

from ..factories import ApplicationFactory
from .db import in_pool, poor_family, publish_demo_standards

S = Application.Status


@pytest.fixture
def reviewed(county_map: Any) -> Application:
    publish_demo_standards(county_map.county)
    app = ApplicationFactory.create(
        village=county_map.village_a1, people=in_pool(poor_family()), needs=["dibao"], authorised=True
    )
    application_verify_run(application_id=app.pk, trigger=VerificationReport.Trigger.AUTHORISED)
    app.refresh_from_db()
    return app


def eligible_items(app: Application) -> list[str]:
    report = VerificationReport.objects.filter(application=app).first()
    assert report is not None
    return [r["item"] for r in report.results if r["outcome"] == "eligible"]


@pytest.mark.django_db
def test_the_township_assistant_approves_an_item_and_it_is_audited(
    reviewed: Application, personas: Any
) -> None:
    decision = item_decide(
        actor=personas.assistant_a, application_id=reviewed.pk, item="dibao", decision="approve"
    )
    assert decision.decided_by == personas.assistant_a and decision.report.application_id == reviewed.pk
    event = AuditEvent.objects.get(action="item.decide", subject_id=str(reviewed.pk))
    assert event.new_values["item"] == "dibao" and event.new_values["decision"] == "approve"
    assert event.actor == personas.assistant_a
    assert approved_items(reviewed.pk) == ["dibao"]


@pytest.mark.django_db
def test_another_township_gets_404_and_a_cadre_403(reviewed: Application, personas: Any) -> None:
    with pytest.raises(Http404):
        item_decide(actor=personas.assistant_b, application_id=reviewed.pk, item="dibao", decision="approve")
    with pytest.raises(PermissionDenied):
        item_decide(actor=personas.cadre_a1, application_id=reviewed.pk, item="dibao", decision="approve")
    with pytest.raises(Http404):
        item_decide(actor=personas.dept_civil, application_id=reviewed.pk, item="dibao", decision="approve")
    assert not ItemDecision.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   "])
def test_a_rejection_without_a_reason_is_refused(reviewed: Application, personas: Any, reason: str) -> None:
    with pytest.raises(ApplicationError) as exc:
        item_decide(
            actor=personas.assistant_a,
            application_id=reviewed.pk,
            item="dibao",
            decision="reject",
            reason=reason,
        )
    assert "reason" in exc.value.extra["fields"]
    assert not ItemDecision.objects.exists()


@pytest.mark.django_db
def test_a_rejection_with_a_reason_is_recorded(reviewed: Application, personas: Any) -> None:
    item_decide(
        actor=personas.coordinator,
        application_id=reviewed.pk,
        item="dibao",
        decision="reject",
        reason="入户调查发现家庭有未登记的经营收入",
    )
    event = AuditEvent.objects.get(action="item.decide")
    assert event.reason == "入户调查发现家庭有未登记的经营收入"
    assert approved_items(reviewed.pk) == []


@pytest.mark.django_db
def test_the_system_never_rejects_by_itself(reviewed: Application) -> None:
    # A check that finds items "not eligible" records no decision at all: people decide.
    assert not ItemDecision.objects.exists()
    report = VerificationReport.objects.get(application=reviewed)
    assert any(r["outcome"] == "not_eligible" for r in report.results)


@pytest.mark.django_db
def test_unknown_item_or_decision_and_wrong_status_are_refused(reviewed: Application, personas: Any) -> None:
    with pytest.raises(ApplicationError):
        item_decide(
            actor=personas.assistant_a, application_id=reviewed.pk, item="lottery", decision="approve"
        )
    with pytest.raises(ApplicationError):
        item_decide(actor=personas.assistant_a, application_id=reviewed.pk, item="dibao", decision="maybe")
    Application.objects.filter(pk=reviewed.pk).update(status=S.WITHDRAWN)
    with pytest.raises(ConflictError):
        item_decide(actor=personas.assistant_a, application_id=reviewed.pk, item="dibao", decision="approve")


@pytest.mark.django_db
def test_the_review_closes_only_when_every_asked_or_eligible_item_is_decided(
    reviewed: Application, personas: Any
) -> None:
    actor = personas.assistant_a
    with pytest.raises(ApplicationError):
        application_decide_complete(actor=actor, application_id=reviewed.pk)
    wanted = sorted(set(eligible_items(reviewed)) | {"dibao"})
    assert len(wanted) > 1
    item_decide(actor=actor, application_id=reviewed.pk, item=wanted[0], decision="approve")
    with pytest.raises(ApplicationError) as exc:
        application_decide_complete(actor=actor, application_id=reviewed.pk)
    assert wanted[1] in exc.value.extra["items"]
    for item in wanted[1:]:
        item_decide(actor=actor, application_id=reviewed.pk, item=item, decision="home_visit")
    with pytest.raises(ApplicationError):  # a home visit is not a final decision
        application_decide_complete(actor=actor, application_id=reviewed.pk)
    for item in wanted[1:]:
        item_decide(actor=actor, application_id=reviewed.pk, item=item, decision="approve")
    application_decide_complete(actor=actor, application_id=reviewed.pk)
    reviewed.refresh_from_db()
    assert reviewed.status == S.DECIDED
    assert approved_items(reviewed.pk) == wanted
    with pytest.raises(ConflictError):
        item_decide(
            actor=actor, application_id=reviewed.pk, item="dibao", decision="reject", reason="改变主意"
        )
