"""The referrals staff API through HTTP: scoped (404 for another department), roles (403), races (409)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assist_center.models import AuditEvent
from referrals.models import Referral, ReferralOutcome

from .builders import APPLICANT_PHONE, open_case

pytestmark = pytest.mark.django_db


def _case(county_map: Any, personas: Any, village: Any = None) -> Any:
    return open_case(village or county_map.village_a1, actor=personas.coordinator, items=["dibao", "medical"])


def test_the_list_is_scoped_per_department_and_township(county_map: Any, personas: Any, login: Any) -> None:
    _case(county_map, personas)
    _case(county_map, personas, county_map.village_b1)
    url = reverse("api-referrals")
    civil = login(personas.dept_civil).get(url).json()
    assert civil["count"] == 2 and {r["department"]["code"] for r in civil["results"]} == {"civil_affairs"}
    assert login(personas.assistant_a).get(url).json()["count"] == 2
    assert login(personas.coordinator).get(url, {"department": "medical_security"}).json()["count"] == 2
    assert login(personas.coordinator).get(url, {"colour": "red"}).json()["count"] == 0
    assert login(personas.cadre_a1).get(url).json()["count"] == 0
    assert login(personas.org_member_1).get(url).status_code == 403
    assert login(personas.anonymous).get(url).status_code == 401
    assert login(personas.coordinator).get(url, {"colour": "purple"}).status_code == 400


def test_the_list_query_count_does_not_grow_with_rows(county_map: Any, personas: Any, login: Any) -> None:
    client = login(personas.coordinator)
    _case(county_map, personas)
    client.get(reverse("api-referrals"))  # the first visit writes the session's activity stamp
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("api-referrals"))
    for _ in range(5):
        _case(county_map, personas)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("api-referrals")).json()["count"] == 12
    assert len(few) == len(many)


def test_another_departments_referral_is_404_everywhere_in_the_api(
    county_map: Any, personas: Any, login: Any
) -> None:
    case = _case(county_map, personas)
    medical = case.referrals.get(department__code="medical_security")
    client = login(personas.dept_civil)
    assert client.get(reverse("api-referral-detail", args=[medical.pk])).status_code == 404
    for name in (
        "accept",
        "request-info",
        "return",
        "complete",
        "reassign",
        "extend",
        "answer-info",
        "cancel",
    ):
        assert (
            client.post(
                reverse(f"api-referral-{name}", args=[medical.pk]), {}, content_type="application/json"
            ).status_code
            == 404
        )
    assert (
        login(personas.assistant_b).get(reverse("api-referral-detail", args=[medical.pk])).status_code == 404
    )
    assert (
        client.post(
            reverse("api-case-referral-add", args=[case.pk]), {}, content_type="application/json"
        ).status_code
        == 404
    )


def test_detail_shows_the_brief_and_the_phone_only_to_the_department(
    county_map: Any, personas: Any, login: Any
) -> None:
    case = _case(county_map, personas)
    civil = case.referrals.get(department__code="civil_affairs")
    data = login(personas.dept_civil).get(reverse("api-referral-detail", args=[civil.pk])).json()
    assert data["applicant_name"] == "王秀英" and data["applicant_phone"] == APPLICANT_PHONE
    assert "members" not in data["brief"] and "needs" not in data
    assert AuditEvent.objects.filter(action="referral.contact_read").count() == 1
    assert (
        login(personas.assistant_a)
        .get(reverse("api-referral-detail", args=[civil.pk]))
        .json()["applicant_phone"]
        is None
    )


def test_accept_then_accept_again_is_409_and_the_centre_gets_403(
    county_map: Any, personas: Any, login: Any
) -> None:
    civil = _case(county_map, personas).referrals.get(department__code="civil_affairs")
    url = reverse("api-referral-accept", args=[civil.pk])
    assert login(personas.assistant_a).post(url).status_code == 403
    first = login(personas.dept_civil).post(url)
    assert first.status_code == 200 and first.json()["status"] == "accepted"
    second = login(personas.dept_civil).post(url)
    assert second.status_code == 409 and second.json()["message"]


def test_complete_through_http_records_outcomes_and_validates(
    county_map: Any, personas: Any, login: Any
) -> None:
    civil = _case(county_map, personas).referrals.get(department__code="civil_affairs")
    url = reverse("api-referral-complete", args=[civil.pk])
    client = login(personas.dept_civil)
    bad = client.post(
        url,
        {"outcomes": [{"item": "dibao", "granted": True, "amount": "abc"}]},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "outcomes.0.amount" in bad.json()["extra"]["fields"]
    wrong = client.post(url, {"outcomes": [], "x": 1}, content_type="application/json")
    assert wrong.status_code == 400
    ok = client.post(
        url,
        {
            "outcomes": [
                {
                    "item": "dibao",
                    "granted": True,
                    "benefit_kind": "低保金",
                    "amount": "650.00",
                    "period": "monthly",
                    "start_date": "2026-12-01",
                }
            ]
        },
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["outcomes"][0]["amount"] == "650.00"
    assert ReferralOutcome.objects.get(referral=civil).benefit_kind == "低保金"


def test_return_reassign_extend_and_add_by_hand(county_map: Any, personas: Any, login: Any) -> None:
    case = _case(county_map, personas)
    medical = case.referrals.get(department__code="medical_security")
    r = login(personas.dept_medical).post(
        reverse("api-referral-return", args=[medical.pk]),
        {"reason_code": "missing_documents"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "returned"
    moved = login(personas.coordinator).post(
        reverse("api-referral-reassign", args=[medical.pk]),
        {"department": county_map.dept_civil.pk, "reason": "改由民政办理"},
        content_type="application/json",
    )
    assert moved.status_code == 201 and moved.json()["department"]["code"] == "civil_affairs"
    ext = login(personas.assistant_a).post(
        reverse("api-referral-extend", args=[moved.json()["id"]]),
        {"days": 2, "reason": "补材料"},
        content_type="application/json",
    )
    assert ext.status_code == 200 and ext.json()["allotted_days"] == 4
    added = login(personas.assistant_a).post(
        reverse("api-case-referral-add", args=[case.pk]),
        {"department": county_map.dept_medical.pk, "title": "联合入户走访"},
        content_type="application/json",
    )
    assert added.status_code == 201 and added.json()["manual"] is True
    assert Referral.objects.filter(case=case).count() == 4


def test_the_endpoints_are_in_the_schema(login: Any, personas: Any) -> None:
    schema = login(personas.coordinator).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/v1/referrals/" in paths and "/api/v1/referrals/{referral_id}/complete/" in paths
    assert "/api/v1/cases/{case_id}/referrals/" in paths


@pytest.mark.django_db
def test_a_department_filter_in_another_scripts_digits_is_not_a_500(personas: Any, login: Any) -> None:
    # "²".isdigit() is True but int("²") fails: such a value is a (non-matching) code, not an id.
    response = login(personas.coordinator).get(reverse("api-referrals"), {"department": "²"})
    assert response.status_code == 200
    assert response.json()["count"] == 0
