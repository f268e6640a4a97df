"""The audited reveal of a person's full ID number or phone (security.md: masked unless revealed)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from applications.models import Person
from assist_center.errors import ApplicationError
from assist_center.models import AuditEvent
from assist_center.pii import mask_id_number
from assist_center.services import person_reveal

from .. import factories as f

PHONE = "+8613800138000"


@pytest.fixture
def person_a1(county_map: Any) -> Person:
    household = f.household(county_map.village_a1, members=0)
    return f.person(household, phone=PHONE)


def test_the_township_assistant_reveals_an_id_number_with_a_reason(personas: Any, person_a1: Person) -> None:
    value = person_reveal(
        actor=personas.assistant_a, person_id=person_a1.pk, field="id_number", reason="核对低保材料"
    )
    assert value == person_a1.id_number
    event = AuditEvent.objects.get(action="pii.reveal")
    assert event.actor == personas.assistant_a
    assert (event.subject_type, event.subject_id) == ("applications.person", str(person_a1.pk))
    assert event.new_values == {"field": "id_number"}
    assert event.reason == "核对低保材料"
    assert event.region == person_a1.household.village


def test_the_township_assistant_reveals_a_phone(personas: Any, person_a1: Person) -> None:
    assert (
        person_reveal(
            actor=personas.assistant_a, person_id=person_a1.pk, field="phone", reason="电话回访核实"
        )
        == PHONE
    )


def test_another_townships_assistant_gets_404_and_nothing_is_recorded(
    personas: Any, person_a1: Person
) -> None:
    for persona in ("assistant_b", "dept_civil", "dept_medical", "org_member_1", "auditor", "anonymous"):
        with pytest.raises(Http404):
            person_reveal(
                actor=getattr(personas, persona), person_id=person_a1.pk, field="id_number", reason=""
            )
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


def test_a_village_cadre_in_scope_may_not_reveal(personas: Any, person_a1: Person) -> None:
    with pytest.raises(PermissionDenied):
        person_reveal(
            actor=personas.cadre_a1, person_id=person_a1.pk, field="id_number", reason="核对低保材料"
        )
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


def test_the_coordinator_reveals_id_numbers_but_not_phones(personas: Any, person_a1: Person) -> None:
    assert (
        person_reveal(
            actor=personas.coordinator, person_id=person_a1.pk, field="id_number", reason="县级抽查核对"
        )
        == person_a1.id_number
    )
    with pytest.raises(PermissionDenied):
        person_reveal(
            actor=personas.coordinator, person_id=person_a1.pk, field="phone", reason="县级抽查核对"
        )


@pytest.mark.parametrize("reason", ["", "   ", "核对"])
def test_a_blank_or_short_reason_is_refused(personas: Any, person_a1: Person, reason: str) -> None:
    with pytest.raises(ApplicationError) as exc:
        person_reveal(actor=personas.assistant_a, person_id=person_a1.pk, field="id_number", reason=reason)
    assert exc.value.status == 400
    assert "reason" in exc.value.extra["fields"]
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


def test_an_unknown_field_is_refused(personas: Any, person_a1: Person) -> None:
    with pytest.raises(ApplicationError):
        person_reveal(actor=personas.assistant_a, person_id=person_a1.pk, field="name", reason="核对低保材料")  # type: ignore[arg-type]


# --- through the admin -----------------------------------------------------------------------


def _reveal_url(person: Person) -> str:
    return f"/admin/applications/person/{person.pk}/reveal/"


def test_the_admin_reveal_page_shows_the_value_once_and_records_it(
    personas: Any, person_a1: Person, login: Any
) -> None:
    client = login(personas.assistant_a)
    form = client.get(_reveal_url(person_a1))
    assert form.status_code == 200
    assert person_a1.id_number not in form.content.decode()
    response = client.post(_reveal_url(person_a1), {"field": "id_number", "reason": "核对低保材料"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<strong id="revealed-value">{person_a1.id_number}</strong>' in html
    assert response["Cache-Control"].startswith("no-store")
    event = AuditEvent.objects.get(action="pii.reveal")
    assert event.actor == personas.assistant_a and event.reason == "核对低保材料"
    assert event.request_id


def test_the_admin_reveal_page_refuses_a_short_reason_with_a_message(
    personas: Any, person_a1: Person, login: Any
) -> None:
    response = login(personas.assistant_a).post(
        _reveal_url(person_a1), {"field": "id_number", "reason": "查"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert person_a1.id_number not in html
    assert "errorlist" in html
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


@pytest.mark.parametrize(
    ("persona", "status"), [("assistant_b", 404), ("dept_civil", 404), ("cadre_a1", 403)]
)
def test_the_admin_reveal_page_is_404_out_of_scope_and_403_for_a_cadre(
    personas: Any, person_a1: Person, login: Any, persona: str, status: int
) -> None:
    client = login(getattr(personas, persona))
    assert client.get(_reveal_url(person_a1)).status_code == status
    response = client.post(_reveal_url(person_a1), {"field": "id_number", "reason": "核对低保材料"})
    assert response.status_code == status
    assert person_a1.id_number not in response.content.decode()
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


def test_the_admin_reveal_page_redirects_non_staff_to_login(
    personas: Any, person_a1: Person, login: Any
) -> None:
    for persona in ("anonymous", "org_member_1"):
        response = login(getattr(personas, persona)).get(_reveal_url(person_a1))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("persona", ["coordinator", "assistant_a", "cadre_a1"])
def test_admin_pages_never_contain_a_full_id_number_or_phone(
    personas: Any, person_a1: Person, login: Any, persona: str
) -> None:
    client = login(getattr(personas, persona))
    pages = [
        "/admin/applications/person/",
        f"/admin/applications/person/{person_a1.pk}/change/",
        f"/admin/applications/household/{person_a1.household_id}/change/",
        "/admin/applications/household/",
    ]
    national = PHONE.removeprefix("+86")
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert person_a1.id_number not in html, url
        assert national not in html, url
        assert person_a1.id_number_hash not in html and person_a1.phone_hash not in html, url
    changelist = client.get("/admin/applications/person/").content.decode()
    assert mask_id_number(person_a1.id_number) in changelist
    assert "138****8000" in changelist
