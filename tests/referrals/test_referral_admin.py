"""The referrals admin: scoped like the API (404 for another department), read-only, query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from referrals.models import Notification
from referrals.services.sweep import colour_sweep

from .builders import open_case

pytestmark = pytest.mark.django_db


def test_another_departments_referral_is_404_in_the_admin(county_map: Any, personas: Any, login: Any) -> None:
    case = open_case(county_map.village_a1, actor=personas.coordinator, items=["dibao", "medical"])
    civil = case.referrals.get(department__code="civil_affairs")
    medical = case.referrals.get(department__code="medical_security")
    client = login(personas.dept_civil)
    assert client.get(reverse("admin:referrals_referral_change", args=[civil.pk])).status_code == 200
    assert client.get(reverse("admin:referrals_referral_change", args=[medical.pk])).status_code == 404
    listing = client.get(reverse("admin:referrals_referral_changelist")).content.decode()
    assert f"/{civil.pk}/change/" in listing and f"/{medical.pk}/change/" not in listing
    # Department staff see no case pages (a case shows every department's referral).
    assert client.get(reverse("admin:referrals_case_changelist")).status_code == 403
    assert (
        login(personas.assistant_b).get(reverse("admin:referrals_case_change", args=[case.pk])).status_code
        == 404
    )
    page = login(personas.assistant_a).get(reverse("admin:referrals_case_change", args=[case.pk]))
    assert page.status_code == 200 and "referral-colour" in page.content.decode()


def test_notifications_are_scoped_and_read_only(county_map: Any, personas: Any, login: Any) -> None:
    import datetime as dt

    import time_machine

    from .test_colours import at

    with time_machine.travel(at(dt.date(2026, 9, 30), 10), tick=False):
        open_case(county_map.village_a1, actor=personas.coordinator, items=["dibao", "medical"])
    colour_sweep(today=dt.date(2026, 10, 10))
    assert Notification.objects.count() == 4  # red to two departments and twice to the coordinator
    url = reverse("admin:referrals_notification_changelist")
    civil = login(personas.dept_civil).get(url)
    assert civil.status_code == 200
    assert civil.context["cl"].result_count == 1
    assert login(personas.coordinator).get(url).context["cl"].result_count == 4
    n = Notification.objects.filter(department=county_map.dept_medical).get()
    assert (
        login(personas.dept_civil)
        .get(reverse("admin:referrals_notification_change", args=[n.pk]))
        .status_code
        == 404
    )


def test_deadline_rules_are_the_coordinators(county_map: Any, personas: Any, login: Any) -> None:
    url = reverse("admin:referrals_deadlinerule_changelist")
    assert login(personas.coordinator).get(url).status_code == 200
    assert login(personas.assistant_a).get(url).status_code == 403
    assert login(personas.dept_civil).get(url).status_code == 403
    response = login(personas.coordinator).post(
        reverse("admin:referrals_deadlinerule_add"),
        {"department": county_map.dept_civil.pk, "item": "dibao", "days": 3},
    )
    assert response.status_code == 302
    from assist_center.models import AuditEvent

    assert AuditEvent.objects.filter(action="admin.deadlinerule.add").exists()


@pytest.mark.parametrize("model", ["referral", "case", "notification", "outsidepolicyneed"])
def test_changelist_query_count_does_not_grow_with_rows(
    county_map: Any, personas: Any, login: Any, model: str
) -> None:
    client = login(personas.coordinator)
    url = reverse(f"admin:referrals_{model}_changelist")
    open_case(county_map.village_a1, actor=personas.coordinator, items=["dibao", "medical"], need_note="轮椅")
    colour_sweep()
    client.get(url)  # a first visit writes the session's activity stamp (once a minute): not counted
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(4):
        open_case(
            county_map.village_a1, actor=personas.coordinator, items=["dibao", "medical"], need_note="轮椅"
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(few) == len(many)


def test_warning_contacts_are_the_coordinators_and_shown_masked(
    county_map: Any, personas: Any, login: Any
) -> None:
    from referrals.models import DepartmentContact

    url = reverse("admin:referrals_departmentcontact_changelist")
    assert login(personas.assistant_a).get(url).status_code == 403
    assert login(personas.dept_civil).get(url).status_code == 403
    response = login(personas.coordinator).post(
        reverse("admin:referrals_departmentcontact_add"),
        {"department": county_map.dept_civil.pk, "label": "值班", "phone": "13800138000", "active": "on"},
    )
    assert response.status_code == 302
    contact = DepartmentContact.objects.get()
    assert contact.phone == "+8613800138000" and contact.phone_hash
    page = login(personas.coordinator).get(url).content.decode()
    assert "138****8000" in page and "13800138000" not in page


def test_outside_policy_needs_are_the_townships(county_map: Any, personas: Any, login: Any) -> None:
    from referrals.models import OutsidePolicyNeed

    open_case(county_map.village_a1, actor=personas.coordinator, items=["dibao"], need_note="需要轮椅")
    need = OutsidePolicyNeed.objects.get()
    url = reverse("admin:referrals_outsidepolicyneed_change", args=[need.pk])
    assert login(personas.assistant_a).get(url).status_code == 200
    assert login(personas.assistant_b).get(url).status_code == 404
    assert login(personas.dept_civil).get(url).status_code == 404
