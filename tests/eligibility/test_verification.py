"""The data check through its service and task, with pool rows made directly in the database."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from applications.models import Application
from applications.services.transitions import application_transition
from assist_center.errors import ConflictError
from assist_center.models import AuditEvent
from eligibility.models import PoolRecord, VerificationReport
from eligibility.services.verification import application_verify_run
from eligibility.tasks import application_verify

from ..factories import ApplicationFactory
from .db import in_pool, poor_family, publish_demo_standards, rich_family

S = Application.Status
Trigger = VerificationReport.Trigger


@pytest.fixture
def standards(county_map: Any) -> None:
    publish_demo_standards(county_map.county)


@pytest.mark.django_db
def test_the_task_saves_a_report_and_moves_the_application_to_review(
    county_map: Any, standards: None
) -> None:
    app = ApplicationFactory.create(
        village=county_map.village_a1, people=in_pool(poor_family()), needs=["dibao"], authorised=True
    )
    application_verify(app.pk)
    app.refresh_from_db()
    assert app.status == S.UNDER_REVIEW
    report = VerificationReport.objects.get(application=app)
    assert report.trigger == Trigger.AUTHORISED
    outcomes = {r["item"]: r["outcome"] for r in report.results}
    assert outcomes["dibao"] == "eligible"
    assert outcomes["disability_care"] == "not_eligible"
    dibao = next(r for r in report.results if r["item"] == "dibao")
    income = next(c for c in dibao["criteria"] if c["name"] == "income")
    assert income["reason"] == "家庭月人均收入 0.00 元，低于低保标准 1,150.00 元"
    assert dibao["standard"]["version"] == 1
    assert {s["item"] for s in report.standards} >= {"dibao", "medical"}
    assert len(report.input_hash) == 64 and report.duration_ms > 0
    assert report.facts["counted_members"]["value"] == 3
    moves = AuditEvent.objects.filter(action="application.status", subject_id=str(app.pk)).order_by("pk")
    assert [e.new_values["status"] for e in moves] == [
        S.AWAITING_AUTHORISATION,
        S.AUTHORISED,
        S.VERIFYING,
        S.UNDER_REVIEW,
    ]
    assert AuditEvent.objects.filter(action="verification.run", subject_id=str(app.pk)).count() == 1


@pytest.mark.django_db
def test_items_found_by_policy_come_first_then_the_asked_ones(county_map: Any, standards: None) -> None:
    app = ApplicationFactory.create(
        village=county_map.village_a1,
        people=in_pool(poor_family()),
        needs=["dibao", "temporary"],
        authorised=True,
    )
    report = application_verify_run(application_id=app.pk, trigger=Trigger.AUTHORISED)
    rows = report.results
    found = [r["item"] for r in rows if r["policy_finds_person"]]
    assert found and "education" in found and "medical" in found
    assert [r["item"] for r in rows[: len(found)]] == found
    assert [r["item"] for r in rows[len(found) : len(found) + 2]] == ["dibao", "temporary"]
    assert all(not r["asked"] for r in rows[: len(found)])


@pytest.mark.django_db
def test_a_redelivered_task_makes_no_second_report(county_map: Any, standards: None) -> None:
    app = ApplicationFactory.create(
        village=county_map.village_a1, people=in_pool(poor_family()), authorised=True
    )
    application_verify(app.pk)
    application_verify(app.pk)
    first = VerificationReport.objects.get(application=app)
    again = application_verify_run(application_id=app.pk, trigger=Trigger.AUTHORISED)
    assert again.pk == first.pk
    assert VerificationReport.objects.filter(application=app).count() == 1


@pytest.mark.django_db
def test_the_same_inputs_give_the_same_hash_and_a_changed_record_another(
    county_map: Any, standards: None, personas: Any
) -> None:
    app = ApplicationFactory.create(
        village=county_map.village_a1, people=in_pool(poor_family()), authorised=True
    )
    first = application_verify_run(application_id=app.pk, trigger=Trigger.AUTHORISED)
    second = application_verify_run(application_id=app.pk, trigger=Trigger.MANUAL, actor=personas.assistant_a)
    assert second.pk != first.pk and second.trigger == Trigger.MANUAL
    assert second.input_hash == first.input_hash
    assert second.results == first.results
    record = PoolRecord.objects.filter(category="student").get()
    record.data = {**record.data, "status": "毕业"}
    record.save(update_fields=["data"])
    third = application_verify_run(application_id=app.pk, trigger=Trigger.MANUAL, actor=personas.coordinator)
    assert third.input_hash != first.input_hash
    assert third.requested_by == personas.coordinator


@pytest.mark.django_db
def test_a_household_with_a_car_and_wages_is_not_eligible_and_the_reason_says_why(
    county_map: Any, standards: None
) -> None:
    app = ApplicationFactory.create(
        village=county_map.village_a1, people=in_pool(rich_family()), authorised=True
    )
    report = application_verify_run(application_id=app.pk, trigger=Trigger.AUTHORISED)
    dibao = next(r for r in report.results if r["item"] == "dibao")
    assert dibao["outcome"] == "not_eligible"
    reasons = [c["reason"] for c in dibao["criteria"]]
    assert "家庭月人均收入 9,000.00 元，不低于低保标准 1,150.00 元" in reasons
    assert "家庭名下有机动车 1 辆，超过 0 辆的限制" in reasons
    vehicle = next(c for c in dibao["criteria"] if c["name"] == "vehicles")
    assert vehicle["records"][0]["department"] == "traffic_police"


@pytest.mark.django_db
def test_missing_data_needs_a_person(county_map: Any, standards: None) -> None:
    members = poor_family()
    members[1].records.clear()  # a working-age spouse the pool knows nothing about
    app = ApplicationFactory.create(village=county_map.village_a1, people=in_pool(members), authorised=True)
    report = application_verify_run(application_id=app.pk, trigger=Trigger.AUTHORISED)
    dibao = next(r for r in report.results if r["item"] == "dibao")
    assert dibao["outcome"] == "needs_person"
    assert any("劳动年龄" in c["reason"] for c in dibao["criteria"])


@pytest.mark.django_db
def test_a_township_standard_is_used_for_its_villages(county_map: Any, standards: None) -> None:
    import datetime as dt

    from eligibility.rules import DEMO_PARAMS
    from eligibility.standards import standard_publish

    standard_publish(
        actor="test",
        item="dibao",
        region=county_map.town_a,
        effective_from=dt.date(2026, 1, 1),
        params={**DEMO_PARAMS["dibao"], "amount_per_person_month": "1300"},
        note="",
        today=dt.date(2026, 1, 1),
    )
    app = ApplicationFactory.create(
        village=county_map.village_a1, people=in_pool(poor_family()), authorised=True
    )
    report = application_verify_run(application_id=app.pk, trigger=Trigger.AUTHORISED)
    dibao = next(r for r in report.standards if r["item"] == "dibao")
    assert dibao["region"] == county_map.town_a.code
    assert "1,300.00" in next(r for r in report.results if r["item"] == "dibao")["criteria"][1]["reason"]


@pytest.mark.django_db
def test_manual_rerun_is_for_the_township_assistant_or_the_coordinator(
    county_map: Any, standards: None, personas: Any
) -> None:
    app = ApplicationFactory.create(
        village=county_map.village_a1, people=in_pool(poor_family()), verified=True
    )
    with pytest.raises(Http404):
        application_verify_run(application_id=app.pk, trigger=Trigger.MANUAL, actor=personas.assistant_b)
    with pytest.raises(PermissionDenied):
        application_verify_run(application_id=app.pk, trigger=Trigger.MANUAL, actor=personas.cadre_a1)
    report = application_verify_run(application_id=app.pk, trigger=Trigger.MANUAL, actor=personas.assistant_a)
    assert report.requested_by == personas.assistant_a
    app.refresh_from_db()
    assert app.status == S.UNDER_REVIEW


@pytest.mark.django_db
def test_a_withdrawn_application_is_not_checked(county_map: Any, standards: None) -> None:
    app = ApplicationFactory.create(
        village=county_map.village_a1, people=in_pool(poor_family()), authorised=True
    )
    application_transition(application_id=app.pk, to=S.WITHDRAWN, actor=None, reason="家属撤回申请")
    application_verify(app.pk)  # the task logs and stops
    assert not VerificationReport.objects.filter(application=app).exists()
    with pytest.raises(ConflictError):
        application_verify_run(application_id=app.pk, trigger=Trigger.AUTHORISED)


@pytest.mark.django_db
def test_without_standards_every_item_needs_a_person(county_map: Any) -> None:
    app = ApplicationFactory.create(
        village=county_map.village_a1, people=in_pool(poor_family()), authorised=True
    )
    report = application_verify_run(application_id=app.pk, trigger=Trigger.AUTHORISED)
    assert {r["outcome"] for r in report.results} == {"needs_person"}
    assert report.standards == []
