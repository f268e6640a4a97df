"""The staff API under /api/v1/applications/: scoped (404), role-checked (403), masked, audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Application, ApplicationMember, Channel
from assist_center.models import AuditEvent
from assist_center.pii import mask_id_number

from .test_application_admin import Cases, body, new_person, plain_values, submit
from .test_application_admin import cases as cases  # the fixture


def post(client: Any, url: str, data: Any, **headers: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json", **headers)


# --- list -----------------------------------------------------------------------------------


def test_the_list_is_scoped_and_masked(personas: Any, cases: Cases, login: Any) -> None:
    url = reverse("api-applications")
    expected = {
        "coordinator": {cases.a1.receipt_code, cases.b1.receipt_code},
        "assistant_a": {cases.a1.receipt_code},
        "assistant_b": {cases.b1.receipt_code},
        "cadre_a1": {cases.a1.receipt_code},
        "dept_civil": set(),
        "auditor": set(),
    }
    for persona, codes in expected.items():
        response = login(getattr(personas, persona)).get(url)
        assert response.status_code == 200, persona
        data = response.json()
        assert {r["receipt_code"] for r in data["results"]} == codes, persona
        assert data["count"] == len(codes)
        for value in plain_values(cases.a1_people + cases.b1_people):
            assert value not in response.content.decode()
    row = login(personas.assistant_a).get(url).json()["results"][0]
    assert row["applicant_name"] == "王秀英"
    assert row["village"] == {"code": cases.a1.village.code, "name": "上叶村"}
    assert (row["authorisations_signed"], row["authorisations_required"]) == (0, 3)


def test_the_list_refuses_the_unauthenticated_and_organisations(
    personas: Any, cases: Cases, login: Any
) -> None:
    url = reverse("api-applications")
    anonymous = login(personas.anonymous).get(url)
    assert anonymous.status_code == 401
    assert "message" in anonymous.json()
    assert login(personas.org_member_1).get(url).status_code == 403


def test_the_list_filters(personas: Any, cases: Cases, county_map: Any, login: Any) -> None:
    Application.objects.filter(pk=cases.b1.pk).update(
        status=Application.Status.WITHDRAWN, possible_duplicate=True
    )
    client = login(personas.coordinator)
    url = reverse("api-applications")

    def codes(**params: Any) -> set[str]:
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        return {r["receipt_code"] for r in response.json()["results"]}

    assert codes(status="withdrawn") == {cases.b1.receipt_code}
    assert codes(township=county_map.town_a.code) == {cases.a1.receipt_code}
    assert codes(channel=Channel.ON_BEHALF) == {cases.a1.receipt_code, cases.b1.receipt_code}
    assert codes(need="medical") == {cases.a1.receipt_code}
    assert codes(possible_duplicate="true") == {cases.b1.receipt_code}
    assert codes(possible_duplicate="false") == {cases.a1.receipt_code}
    assert codes(q="秀英") == {cases.a1.receipt_code}
    assert codes(q=cases.b1.receipt_code) == {cases.b1.receipt_code}


def test_the_list_refuses_bad_filters_and_id_numbers_in_the_url(
    personas: Any, cases: Cases, login: Any
) -> None:
    client = login(personas.coordinator)
    url = reverse("api-applications")
    bad = client.get(url, {"status": "nonsense"})
    assert bad.status_code == 400
    assert "status" in bad.json()["extra"]["fields"]
    by_id = client.get(url, {"q": cases.a1_people[0].id_number})
    assert by_id.status_code == 400
    assert "q" in by_id.json()["extra"]["fields"]
    assert cases.a1_people[0].id_number not in by_id.content.decode()


def test_the_list_query_count_does_not_grow_with_rows(personas: Any, county_map: Any, login: Any) -> None:
    client = login(personas.assistant_a)
    url = reverse("api-applications")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(5):
        submit(personas.assistant_a, county_map.village_a1, new_person("孙丽"), members=(new_person("周强"),))
    small = count()
    for _ in range(25):
        submit(personas.assistant_a, county_map.village_a2, new_person("吴芳"))
    assert count() <= small


# --- detail ---------------------------------------------------------------------------------


def detail_url(application: Application) -> str:
    return reverse("api-application-detail", args=[application.pk])


def test_the_detail_masks_members_and_shows_authorisations(personas: Any, cases: Cases, login: Any) -> None:
    response = login(personas.cadre_a1).get(detail_url(cases.a1))
    assert response.status_code == 200
    data = response.json()
    assert data["receipt_code"] == cases.a1.receipt_code
    assert data["form_sha256"] == ""
    assert [m["role"] for m in data["members"]] == ["applicant", "member", "supporter"]
    applicant = data["members"][0]
    assert applicant["id_number"] == mask_id_number(cases.a1_people[0].id_number)
    assert applicant["phone"].startswith("139****")
    assert applicant["authorisation"] is None
    assert applicant["must_authorise"] is True
    for value in plain_values(cases.a1_people):
        assert value not in response.content.decode()


def test_the_detail_is_404_out_of_scope(personas: Any, cases: Cases, login: Any) -> None:
    for persona in ("assistant_b", "dept_civil", "auditor"):
        response = login(getattr(personas, persona)).get(detail_url(cases.a1))
        assert response.status_code == 404, persona
        assert response.json()["message"]
    assert login(personas.cadre_a1).get(detail_url(cases.b1)).status_code == 404
    assert (
        login(personas.coordinator).get(reverse("api-application-detail", args=[999999])).status_code == 404
    )


# --- on behalf ------------------------------------------------------------------------------


def test_the_assistant_submits_on_behalf_through_the_api(personas: Any, county_map: Any, login: Any) -> None:
    applicant = new_person("林阿婆")
    response = post(
        login(personas.assistant_a),
        reverse("api-application-on-behalf"),
        body(county_map.village_a2, applicant),
        HTTP_IDEMPOTENCY_KEY="abc-123",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    application = Application.objects.get(receipt_code=data["receipt_code"])
    assert data["status"] == application.status
    assert data["family_url"].endswith(f"/family/{application.family_token}/")
    assert application.channel == Channel.ON_BEHALF
    assert application.submitted_by == personas.assistant_a
    assert AuditEvent.objects.filter(action="application.submitted", subject_id=str(application.pk)).exists()


def test_an_on_behalf_retry_with_the_same_key_makes_one_application(
    personas: Any, county_map: Any, login: Any
) -> None:
    client = login(personas.assistant_a)
    data = body(county_map.village_a2, new_person("林阿婆"))
    first = post(client, reverse("api-application-on-behalf"), data, HTTP_IDEMPOTENCY_KEY="same-key")
    second = post(client, reverse("api-application-on-behalf"), data, HTTP_IDEMPOTENCY_KEY="same-key")
    assert first.status_code == second.status_code == 201
    assert first.json()["receipt_code"] == second.json()["receipt_code"]
    assert Application.objects.count() == 1


def test_on_behalf_bad_input_is_400_with_the_field(personas: Any, county_map: Any, login: Any) -> None:
    client = login(personas.assistant_a)
    data = body(county_map.village_a1, new_person("林阿婆"))
    data["applicant"]["id_number"] = "110105199013010018"  # month 13
    response = post(client, reverse("api-application-on-behalf"), data)
    assert response.status_code == 400
    assert "applicant.id_number" in response.json()["extra"]["fields"]
    data = body(county_map.village_a1, new_person("林阿婆"))
    data["otp"] = "123456"  # the public body's code is not part of this one
    assert post(client, reverse("api-application-on-behalf"), data).status_code == 400
    assert post(client, reverse("api-application-on-behalf"), ["not", "an", "object"]).status_code == 400
    assert not Application.objects.exists()


def test_on_behalf_for_another_townships_village_is_refused(
    personas: Any, county_map: Any, login: Any
) -> None:
    response = post(
        login(personas.assistant_b),
        reverse("api-application-on-behalf"),
        body(county_map.village_a1, new_person("林阿婆")),
    )
    assert response.status_code == 400
    assert "village_code" in response.json()["extra"]["fields"]
    assert not Application.objects.exists()


@pytest.mark.parametrize("persona", ["cadre_a1", "dept_civil", "auditor", "coordinator"])
def test_on_behalf_is_for_township_assistants_only(
    persona: str, personas: Any, county_map: Any, login: Any
) -> None:
    response = post(
        login(getattr(personas, persona)),
        reverse("api-application-on-behalf"),
        body(county_map.village_a1, new_person("林阿婆")),
    )
    assert response.status_code == 403
    assert not Application.objects.exists()


# --- withdraw / reject ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "to"), [("api-application-withdraw", "withdrawn"), ("api-application-reject", "rejected")]
)
def test_the_assistant_changes_the_status_with_a_reason(
    name: str, to: str, personas: Any, cases: Cases, login: Any
) -> None:
    if to == "rejected":
        # Rejection comes once the family's authorisation is awaited (the transition table).
        Application.objects.filter(pk=cases.a1.pk).update(status=Application.Status.AWAITING_AUTHORISATION)
    response = post(
        login(personas.assistant_a), reverse(name, args=[cases.a1.pk]), {"reason": "核实后不符合条件"}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"id": cases.a1.pk, "status": to}
    cases.a1.refresh_from_db()
    assert cases.a1.status == to
    event = AuditEvent.objects.get(action="application.status", new_values__status=to)
    assert event.actor == personas.assistant_a
    assert event.reason == "核实后不符合条件"


def test_a_stale_transition_is_409(personas: Any, cases: Cases, login: Any) -> None:
    client = login(personas.assistant_a)
    assert (
        post(
            client, reverse("api-application-withdraw", args=[cases.a1.pk]), {"reason": "申请人撤回"}
        ).status_code
        == 200
    )
    response = post(client, reverse("api-application-reject", args=[cases.a1.pk]), {"reason": "材料不实"})
    assert response.status_code == 409
    assert response.json()["message"]


def test_transitions_are_404_out_of_scope_and_403_read_only(personas: Any, cases: Cases, login: Any) -> None:
    before = cases.a1.status
    events = AuditEvent.objects.filter(action="application.status", subject_id=str(cases.a1.pk))
    events_before = events.count()
    for name in ("api-application-withdraw", "api-application-reject"):
        url = reverse(name, args=[cases.a1.pk])
        assert post(login(personas.assistant_b), url, {"reason": "材料不实"}).status_code == 404
        assert post(login(personas.auditor), url, {"reason": "材料不实"}).status_code == 404
        assert post(login(personas.dept_civil), url, {"reason": "材料不实"}).status_code == 404
        assert post(login(personas.cadre_a1), url, {"reason": "材料不实"}).status_code == 403
    cases.a1.refresh_from_db()
    assert cases.a1.status == before
    assert events.count() == events_before


def test_a_transition_without_a_reason_is_400(personas: Any, cases: Cases, login: Any) -> None:
    client = login(personas.assistant_a)
    url = reverse("api-application-withdraw", args=[cases.a1.pk])
    for data in ({}, {"reason": ""}, {"reason": "撤回", "status": "decided"}):
        response = post(client, url, data)
        assert response.status_code == 400, data
        assert response.json()["extra"]["fields"]
    assert post(client, url, {"reason": "   "}).status_code == 400


# --- reveal ---------------------------------------------------------------------------------


def reveal_url(application: Application, member: ApplicationMember) -> str:
    return reverse("api-application-member-reveal", args=[application.pk, member.pk])


def test_the_assistant_reveals_a_members_phone_with_a_reason(personas: Any, cases: Cases, login: Any) -> None:
    member = cases.a1.members.get(role=ApplicationMember.Role.SUPPORTER)
    response = post(
        login(personas.assistant_a), reveal_url(cases.a1, member), {"field": "phone", "reason": "联系赡养人"}
    )
    assert response.status_code == 200
    assert response.json() == {"value": member.phone}
    event = AuditEvent.objects.get(action="pii.reveal")
    assert (event.subject_type, event.subject_id) == ("applications.applicationmember", str(member.pk))
    assert event.reason == "联系赡养人"
    assert event.region == cases.a1.village


def test_reveal_is_404_out_of_scope_and_403_for_read_only_roles(
    personas: Any, cases: Cases, login: Any
) -> None:
    member = cases.a1.members.get(role=ApplicationMember.Role.APPLICANT)
    data = {"field": "id_number", "reason": "核对户籍信息"}
    assert post(login(personas.assistant_b), reveal_url(cases.a1, member), data).status_code == 404
    assert post(login(personas.auditor), reveal_url(cases.a1, member), data).status_code == 404
    assert post(login(personas.cadre_a1), reveal_url(cases.a1, member), data).status_code == 403
    other = cases.b1.members.first()
    assert other is not None
    # Another application's member under this application's id looks missing.
    assert post(login(personas.coordinator), reveal_url(cases.a1, other), data).status_code == 404
    # The coordinator may see full ID numbers, never phones (security.md).
    phone = post(
        login(personas.coordinator), reveal_url(cases.a1, member), {"field": "phone", "reason": "县级抽查"}
    )
    assert phone.status_code == 403
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


def test_reveal_bad_input_is_400(personas: Any, cases: Cases, login: Any) -> None:
    member = cases.a1.members.get(role=ApplicationMember.Role.APPLICANT)
    client = login(personas.assistant_a)
    short = post(client, reveal_url(cases.a1, member), {"field": "id_number", "reason": "看"})
    assert short.status_code == 400
    assert "reason" in short.json()["extra"]["fields"]
    unknown = post(client, reveal_url(cases.a1, member), {"field": "address", "reason": "核对户籍信息"})
    assert unknown.status_code == 400
    assert "field" in unknown.json()["extra"]["fields"]
    assert member.id_number not in short.content.decode() + unknown.content.decode()
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


# --- schema ---------------------------------------------------------------------------------


def test_the_staff_endpoints_are_in_the_openapi_schema(personas: Any, login: Any) -> None:
    response = login(personas.coordinator).get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in (
        "/api/v1/applications/",
        "/api/v1/applications/{application_id}/",
        "/api/v1/applications/on-behalf/",
        "/api/v1/applications/{application_id}/withdraw/",
        "/api/v1/applications/{application_id}/reject/",
        "/api/v1/applications/{application_id}/members/{member_id}/reveal/",
    ):
        assert path in paths, path
