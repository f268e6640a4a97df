"""The report page in the admin: Chinese reasons, 政策找人 first, decisions, re-run, PDF; scoped."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from applications.models import Application
from assist_center.models import AuditEvent
from eligibility.models import ItemDecision, VerificationReport
from eligibility.services.decisions import item_decide
from eligibility.services.verification import application_verify_run

from ..factories import ApplicationFactory
from .db import in_pool, poor_family, publish_demo_standards

Trigger = VerificationReport.Trigger


@pytest.fixture
def report(county_map: Any) -> VerificationReport:
    publish_demo_standards(county_map.county)
    app = ApplicationFactory.create(
        village=county_map.village_a1, people=in_pool(poor_family()), needs=["dibao"], authorised=True
    )
    return application_verify_run(application_id=app.pk, trigger=Trigger.AUTHORISED)


def url(name: str, report: VerificationReport) -> str:
    return reverse(f"admin:eligibility_verificationreport_{name}", args=[report.pk])


@pytest.mark.django_db
def test_the_assistant_sees_the_reasons_in_chinese_with_policy_items_first(
    report: VerificationReport, personas: Any, login: Any
) -> None:
    page = login(personas.assistant_a).get(url("change", report))
    assert page.status_code == 200
    html = page.content.decode()
    assert "家庭月人均收入 0.00 元，低于低保标准 1,150.00 元" in html
    assert "政策找人" in html or "Policy finds person" in html
    assert report.input_hash in html
    first_found = html.index('class="report-item found')
    assert first_found < html.index('id="item-dibao"')
    assert url("pdf", report) in html and url("rerun", report) in html
    assert 'name="decision" value="reject"' in html


@pytest.mark.django_db
def test_report_pages_are_404_for_another_township_and_read_only_for_a_cadre(
    report: VerificationReport, personas: Any, login: Any
) -> None:
    for persona in (personas.assistant_b, personas.dept_civil, personas.auditor):
        client = login(persona)
        for name in ("change", "pdf", "history"):
            assert client.get(url(name, report)).status_code in (403, 404), (persona, name)
        assert client.post(url("decide", report), {"item": "dibao", "decision": "approve"}).status_code in (
            403,
            404,
        )
        assert client.post(url("rerun", report)).status_code in (403, 404)
        assert client.post(url("complete", report)).status_code in (403, 404)
        for_app = reverse(
            "admin:eligibility_verificationreport_for_application", args=[report.application_id]
        )
        assert client.get(for_app).status_code in (403, 404)
    assert login(personas.assistant_b).get(url("change", report)).status_code == 404
    cadre = login(personas.cadre_a1)
    page = cadre.get(url("change", report))
    assert page.status_code == 200 and 'name="decision"' not in page.content.decode()
    assert cadre.post(url("decide", report), {"item": "dibao", "decision": "approve"}).status_code == 403
    assert cadre.post(url("rerun", report)).status_code == 403
    assert not ItemDecision.objects.exists()


@pytest.mark.django_db
def test_the_assistant_decides_on_the_page_and_a_reject_needs_a_reason(
    report: VerificationReport, personas: Any, login: Any
) -> None:
    client = login(personas.assistant_a)
    refused = client.post(
        url("decide", report), {"item": "dibao", "decision": "reject", "reason": ""}, follow=True
    )
    assert not ItemDecision.objects.exists()
    assert "理由" in refused.content.decode() or "reason" in refused.content.decode()
    response = client.post(url("decide", report), {"item": "dibao", "decision": "approve", "reason": ""})
    assert response.status_code == 302
    decision = ItemDecision.objects.get()
    assert (decision.item, decision.decision, decision.decided_by) == (
        "dibao",
        "approve",
        personas.assistant_a,
    )
    page = client.get(url("change", report)).content.decode()
    assert "审核决定：认定符合" in page.split('id="item-dibao"', 1)[1]


@pytest.mark.django_db
def test_rerun_makes_a_new_report_and_the_list_shows_both(
    report: VerificationReport, personas: Any, login: Any
) -> None:
    client = login(personas.assistant_a)
    response = client.post(url("rerun", report))
    assert response.status_code == 302
    newest = VerificationReport.objects.exclude(pk=report.pk).get()
    assert newest.trigger == Trigger.MANUAL and response["Location"].endswith(f"/{newest.pk}/change/")
    listing = client.get(reverse("admin:eligibility_verificationreport_changelist"))
    assert listing.status_code == 200 and listing.content.decode().count(report.application.receipt_code) >= 2
    for_app = reverse("admin:eligibility_verificationreport_for_application", args=[report.application_id])
    assert client.get(for_app)["Location"].endswith(f"/{newest.pk}/change/")
    assert (
        login(personas.assistant_b)
        .get(reverse("admin:eligibility_verificationreport_changelist"))
        .content.decode()
        .count(report.application.receipt_code)
        == 0
    )


@pytest.mark.django_db
def test_the_pdf_annex_downloads_and_is_audited(
    report: VerificationReport, personas: Any, login: Any
) -> None:
    item_decide(
        actor=personas.assistant_a, application_id=report.application_id, item="dibao", decision="approve"
    )
    response = login(personas.assistant_a).get(url("pdf", report))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Type"] == "application/pdf" and "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(action="verification.report_pdf", subject_id=str(report.pk)).exists()


@pytest.mark.django_db
def test_decisions_list_is_scoped(report: VerificationReport, personas: Any, login: Any) -> None:
    decision = item_decide(
        actor=personas.assistant_a, application_id=report.application_id, item="dibao", decision="approve"
    )
    change = reverse("admin:eligibility_itemdecision_change", args=[decision.pk])
    assert login(personas.assistant_a).get(change).status_code == 200
    assert login(personas.assistant_b).get(change).status_code == 404
    assert (
        login(personas.dept_civil).get(reverse("admin:eligibility_itemdecision_changelist")).status_code
        == 403
    )
    listing = login(personas.coordinator).get(reverse("admin:eligibility_itemdecision_changelist"))
    assert listing.status_code == 200 and report.application.receipt_code in listing.content.decode()
    assert Application.objects.get(pk=report.application_id).status == Application.Status.UNDER_REVIEW


@pytest.mark.django_db
def test_the_report_changelist_query_count_does_not_grow_with_reports(
    report: VerificationReport, personas: Any, login: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(personas.assistant_a)
    changelist = reverse("admin:eligibility_verificationreport_changelist")
    client.get(changelist)  # the first visit writes the session's activity stamp (once a minute)
    with CaptureQueriesContext(connection) as one:
        assert client.get(changelist).status_code == 200
    for _ in range(4):
        application_verify_run(
            application_id=report.application_id, trigger=Trigger.MANUAL, actor=personas.assistant_a
        )
    with CaptureQueriesContext(connection) as five:
        assert client.get(changelist).status_code == 200
    assert len(five) == len(one)
