"""代办: a township assistant applies for a resident from a staff page, without an SMS code."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from applications.models import Application, ApplicationMember, Channel
from assist_center.models import AuditEvent

from .test_application_admin import new_person

URL = "staff-on-behalf"


def form_data(village_code: str, *, token: str = "t" * 32, **overrides: Any) -> dict[str, Any]:
    applicant = new_person("陈阿婆")
    spouse = new_person("陈阿公")
    data: dict[str, Any] = {
        "action": "submit",
        "token": token,
        "name": applicant.name,
        "id_number": applicant.id_number,
        "phone": "",
        "village": village_code,
        "address": "海游路3号",
        "needs": ["dibao", "medical"],
        "need_note": "行动不便",
        "consent_data_check": "on",
        "members-TOTAL_FORMS": "3",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "10",
        "members-0-name": spouse.name,
        "members-0-id_number": spouse.id_number,
        "members-0-relation": "spouse",
        "supporters-TOTAL_FORMS": "2",
        "supporters-INITIAL_FORMS": "0",
        "supporters-MIN_NUM_FORMS": "0",
        "supporters-MAX_NUM_FORMS": "6",
    }
    data.update(overrides)
    return data


def test_the_form_offers_only_the_assistants_villages(personas: Any, county_map: Any, login: Any) -> None:
    response = login(personas.assistant_a).get(reverse(URL))
    assert response.status_code == 200
    html = response.content.decode()
    assert county_map.village_a1.code in html and county_map.village_a2.code in html
    assert county_map.village_b1.code not in html
    # No SMS code on this channel.
    assert 'name="otp"' not in html


def test_the_changelist_links_the_on_behalf_page_for_assistants_only(
    personas: Any, county_map: Any, login: Any
) -> None:
    changelist = reverse("admin:applications_application_changelist")
    assert reverse(URL) in login(personas.assistant_a).get(changelist).content.decode()
    assert reverse(URL) not in login(personas.cadre_a1).get(changelist).content.decode()


def test_the_assistant_submits_on_behalf_and_gets_the_receipt_and_family_link(
    personas: Any, county_map: Any, login: Any
) -> None:
    client = login(personas.assistant_a)
    response = client.post(reverse(URL), form_data(county_map.village_a1.code), follow=True)
    assert response.status_code == 200
    application = Application.objects.get()
    assert application.channel == Channel.ON_BEHALF
    assert application.submitted_by == personas.assistant_a
    assert application.village == county_map.village_a1
    assert application.needs == ["dibao", "medical"]
    assert application.members.count() == 2
    assert application.members.get(role=ApplicationMember.Role.APPLICANT).name == "陈阿婆"
    assert response.redirect_chain[-1][0] == reverse(
        "admin:applications_application_change", args=[application.pk]
    )
    html = response.content.decode()
    assert application.receipt_code in html
    assert f"/family/{application.family_token}/" in html
    event = AuditEvent.objects.get(action="application.submitted", subject_id=str(application.pk))
    assert event.actor == personas.assistant_a


def test_a_repeated_post_of_the_same_form_makes_one_application(
    personas: Any, county_map: Any, login: Any
) -> None:
    client = login(personas.assistant_a)
    data = form_data(county_map.village_a1.code, token="k" * 32)
    first = client.post(reverse(URL), data)
    second = client.post(reverse(URL), data)
    assert first.status_code == second.status_code == 302
    assert Application.objects.count() == 1


def test_a_bad_id_number_is_shown_on_its_field_and_nothing_is_stored(
    personas: Any, county_map: Any, login: Any
) -> None:
    data = form_data(county_map.village_a1.code, id_number="110105199001010011")  # wrong check character
    response = login(personas.assistant_a).post(reverse(URL), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert "110105199001010011" not in html.split('id="error-summary"')[1].split("</ul>")[0]
    assert not Application.objects.exists()


def test_another_townships_village_is_refused(personas: Any, county_map: Any, login: Any) -> None:
    response = login(personas.assistant_a).post(reverse(URL), form_data(county_map.village_b1.code))
    assert response.status_code == 400
    assert not Application.objects.exists()


@pytest.mark.parametrize("persona", ["cadre_a1", "dept_civil", "auditor", "coordinator"])
def test_only_a_township_assistant_may_submit_on_behalf(
    persona: str, personas: Any, county_map: Any, login: Any
) -> None:
    client = login(getattr(personas, persona))
    assert client.get(reverse(URL)).status_code == 403
    assert client.post(reverse(URL), form_data(county_map.village_a1.code)).status_code == 403
    assert not Application.objects.exists()


def test_anonymous_goes_to_the_login_page_and_an_organisation_gets_403(
    personas: Any, county_map: Any, login: Any
) -> None:
    # Like every staff page (the workbench): signed out, log in; signed in without the right, 403.
    response = login(personas.anonymous).post(reverse(URL), form_data(county_map.village_a1.code))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    response = login(personas.org_member_1).post(reverse(URL), form_data(county_map.village_a1.code))
    assert response.status_code == 403
    assert not Application.objects.exists()


def test_more_rows_keeps_what_was_typed(personas: Any, county_map: Any, login: Any) -> None:
    data = form_data(county_map.village_a1.code, action="add_member")
    response = login(personas.assistant_a).post(reverse(URL), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="members-5-name"' in html
    assert "陈阿公" in html
    assert not Application.objects.exists()
