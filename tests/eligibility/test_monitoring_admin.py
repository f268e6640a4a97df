"""Warnings, leads and the what-if page in the admin: scoped, no plaintext IDs, forms that act."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Application
from assist_center.models import AuditEvent
from eligibility.models import DiscoveryLead, MonitoringWarning
from eligibility.rules import DEMO_PARAMS
from eligibility.services.discovery import discovery_scan
from eligibility.services.monitoring import monitoring_after_import

from .db import publish_demo_standards
from .test_monitoring import car, days_ago, home, import_rows, members


@pytest.fixture
def warning(county_map: Any) -> MonitoringWarning:
    publish_demo_standards(county_map.county)
    head = members(home(county_map.village_a1, enrolled=True))[0]
    monitoring_after_import(job_id=import_rows("vehicle", [car(head)]).pk)
    return MonitoringWarning.objects.get()


@pytest.fixture
def lead(county_map: Any) -> DiscoveryLead:
    publish_demo_standards(county_map.county)
    person = members(home(county_map.village_a1, enrolled=False, members=2))[0]
    job = import_rows(
        "unemployment",
        [{"person": person, "record_id": "U1", "effective_date": days_ago(5), "status": "登记中"}],
    )
    discovery_scan(job_id=job.pk)
    return DiscoveryLead.objects.get()


def resolve_url(w: MonitoringWarning) -> str:
    return reverse("admin:eligibility_monitoringwarning_resolve", args=[w.pk])


def handle_url(lead: DiscoveryLead) -> str:
    return reverse("admin:eligibility_discoverylead_handle", args=[lead.pk])


@pytest.mark.django_db
def test_the_assistant_sees_the_warning_overdue_in_red_and_resolves_it(
    warning: MonitoringWarning, personas: Any, login: Any
) -> None:
    MonitoringWarning.objects.filter(pk=warning.pk).update(due_date=dt.date(2026, 1, 5))
    client = login(personas.assistant_a)
    changelist = reverse("admin:eligibility_monitoringwarning_changelist")
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(changelist)
    assert page.status_code == 200 and len(ctx.captured_queries) <= 12
    html = page.content.decode()
    assert 'class="due-overdue">2026-01-05' in html and "登记了机动车" in html
    assert resolve_url(warning) in html
    detail = client.get(resolve_url(warning)).content.decode()
    # Codes never reach the page: the department and the category by their Chinese names.
    assert "小型轿车" in detail and "公安局交通警察大队" in detail and "机动车登记" in detail
    assert "traffic_police" not in detail and "（vehicle）" not in detail
    head = warning.household.members.get()
    assert head.id_number not in detail and head.id_number_hash not in detail
    refused = client.post(resolve_url(warning), {"resolution": "no_effect", "note": ""})
    assert refused.status_code == 200
    warning.refresh_from_db()
    assert warning.status == "open"
    done = client.post(
        resolve_url(warning),
        {"resolution": "exit_started", "note": "购车后收入超标，启动渐退", "grace_months": "6"},
    )
    assert done.status_code == 302
    warning.refresh_from_db()
    assert warning.status == "exit_started" and warning.grace_until is not None
    assert AuditEvent.objects.filter(action="monitoring.warning.resolve", actor=personas.assistant_a).exists()


@pytest.mark.django_db
def test_warning_pages_are_404_for_another_township_and_read_only_for_a_cadre(
    warning: MonitoringWarning, personas: Any, login: Any
) -> None:
    change = reverse("admin:eligibility_monitoringwarning_change", args=[warning.pk])
    for persona in (personas.assistant_b, personas.dept_civil):
        client = login(persona)
        assert client.get(change).status_code in (403, 404)
        assert client.get(resolve_url(warning)).status_code in (403, 404)
        assert client.post(resolve_url(warning), {"resolution": "no_effect", "note": "x"}).status_code in (
            403,
            404,
        )
    assert login(personas.assistant_b).get(resolve_url(warning)).status_code == 404
    assert login(personas.assistant_b).get(change).status_code == 404
    cadre = login(personas.cadre_a1)
    page = cadre.get(change)
    assert page.status_code == 200 and resolve_url(warning) not in page.content.decode()
    assert cadre.post(resolve_url(warning), {"resolution": "no_effect", "note": "x"}).status_code == 403
    warning.refresh_from_db()
    assert warning.status == "open"


@pytest.mark.django_db
def test_the_assistant_turns_a_lead_into_an_application_from_its_page(
    lead: DiscoveryLead, personas: Any, login: Any
) -> None:
    client = login(personas.assistant_a)
    listing = client.get(reverse("admin:eligibility_discoverylead_changelist")).content.decode()
    assert "失业登记" in listing and handle_url(lead) in listing
    page = client.get(handle_url(lead)).content.decode()
    assert lead.person is not None
    assert 'value="convert"' in page and lead.person.id_number not in page
    assert client.post(handle_url(lead), {"action": "convert"}).status_code == 302
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.application is not None
    assert Application.objects.get().channel == "on_behalf"


@pytest.mark.django_db
def test_dismissing_a_lead_on_its_page_needs_a_reason(lead: DiscoveryLead, personas: Any, login: Any) -> None:
    client = login(personas.assistant_a)
    assert client.post(handle_url(lead), {"action": "dismiss", "reason": ""}).status_code == 200
    lead.refresh_from_db()
    assert lead.status == "open"
    assert client.post(handle_url(lead), {"action": "dismiss", "reason": "已在外地就业"}).status_code == 302
    lead.refresh_from_db()
    assert lead.status == "dismissed" and lead.dismissed_reason == "已在外地就业"


@pytest.mark.django_db
def test_lead_pages_are_404_for_another_township_and_403_for_a_cadre_or_a_coordinators_convert(
    lead: DiscoveryLead, personas: Any, login: Any
) -> None:
    change = reverse("admin:eligibility_discoverylead_change", args=[lead.pk])
    for persona in (personas.assistant_b, personas.dept_civil):
        client = login(persona)
        assert client.get(change).status_code in (403, 404)
        assert client.get(handle_url(lead)).status_code in (403, 404)
        assert client.post(handle_url(lead), {"action": "convert"}).status_code in (403, 404)
    assert login(personas.assistant_b).get(handle_url(lead)).status_code == 404
    cadre = login(personas.cadre_a1)
    assert cadre.get(change).status_code == 200
    assert cadre.post(handle_url(lead), {"action": "dismiss", "reason": "x"}).status_code == 403
    coordinator = login(personas.coordinator)
    page = coordinator.get(handle_url(lead)).content.decode()
    assert 'value="convert"' not in page
    assert coordinator.post(handle_url(lead), {"action": "convert"}).status_code == 403
    lead.refresh_from_db()
    assert lead.status == "open" and not Application.objects.exists()


@pytest.mark.django_db
def test_the_what_if_page_is_the_coordinators_with_a_table_and_a_download(
    county_map: Any, personas: Any, login: Any
) -> None:
    publish_demo_standards(county_map.county)
    url = reverse("admin:eligibility_monitoringwarning_whatif")
    csv_url = reverse("admin:eligibility_monitoringwarning_whatif_csv")
    for persona in (personas.assistant_a, personas.cadre_a1, personas.dept_civil, personas.auditor):
        assert login(persona).get(url).status_code == 403
        assert login(persona).post(csv_url, {"item": "dibao", "params": "{}"}).status_code == 403
    client = login(personas.coordinator)
    form = client.get(url)
    assert form.status_code == 200 and "amount_per_person_month" in form.content.decode()
    assert url in client.get(reverse("admin:eligibility_monitoringwarning_changelist")).content.decode()
    import json

    params = json.dumps({**DEMO_PARAMS["dibao"], "amount_per_person_month": "1300"})
    page = client.post(url, {"item": "dibao", "params": params})
    assert page.status_code == 200 and "海游街道" in page.content.decode()
    bad = client.post(url, {"item": "dibao", "params": "[1]"})
    assert bad.status_code == 200 and "JSON" in bad.content.decode()
    download = client.post(csv_url, {"item": "dibao", "params": params})
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert AuditEvent.objects.filter(action="standard.whatif.export").count() == 1
