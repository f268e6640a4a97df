"""Every ModelAdmin against every persona: who reaches the changelist, and what looks missing."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Household, Person
from assist_center.audit import audit_record
from assist_center.models import AuditEvent, CalendarDay, Role, StaffProfile

from . import factories as f

STAFF = ["coordinator", "assistant_a", "assistant_b", "cadre_a1", "dept_civil", "dept_medical", "auditor"]
NON_STAFF = ["org_member_1", "org_member_2", "anonymous"]
COORDINATOR_ONLY = {"coordinator"}
REGIONAL = {"coordinator", "assistant_a", "assistant_b", "cadre_a1"}

# Who gets the changelist (200); every other staff persona gets 403, non-staff the login page.
CHANGELIST_VIEWERS: dict[str, set[str]] = {
    "assist_center.Region": {"coordinator", "assistant_a", "assistant_b"},
    "assist_center.Department": {
        "coordinator",
        "assistant_a",
        "assistant_b",
        "cadre_a1",
        "dept_civil",
        "dept_medical",
    },
    "assist_center.AuditEvent": set(STAFF),
    "assist_center.CalendarDay": COORDINATOR_ONLY,
    "assist_center.CalendarYear": COORDINATOR_ONLY,
    "assist_center.SmsMessage": COORDINATOR_ONLY,
    "assist_center.OutboxMessage": COORDINATOR_ONLY,
    "auth.User": COORDINATOR_ONLY,
    "applications.Household": REGIONAL,
    "applications.Person": REGIONAL,
    "applications.AssistCode": {"coordinator", "assistant_a", "assistant_b"},
    "applications.Application": REGIONAL,
    "eligibility.ImportJob": COORDINATOR_ONLY,
    "eligibility.PushKey": COORDINATOR_ONLY,
    "eligibility.Standard": COORDINATOR_ONLY,
    "eligibility.VerificationReport": REGIONAL,
    "eligibility.ItemDecision": REGIONAL,
    "eligibility.MonitoringWarning": REGIONAL,
    "eligibility.DiscoveryLead": REGIONAL,
    "referrals.Case": {"coordinator", "assistant_a", "assistant_b"},
    "referrals.Referral": {"coordinator", "assistant_a", "assistant_b", "dept_civil", "dept_medical"},
    "referrals.Notification": {"coordinator", "assistant_a", "assistant_b", "dept_civil", "dept_medical"},
    "referrals.OutsidePolicyNeed": {"coordinator", "assistant_a", "assistant_b"},
    "referrals.DeadlineRule": COORDINATOR_ONLY,
    "referrals.DepartmentContact": COORDINATOR_ONLY,
    "referrals.WorkChannel": COORDINATOR_ONLY,
    "charity.Organisation": COORDINATOR_ONLY,
    "charity.PublicReport": COORDINATOR_ONLY,
    "axes.AccessAttempt": COORDINATOR_ONLY,
    "axes.AccessLog": COORDINATOR_ONLY,
    "axes.AccessFailureLog": COORDINATOR_ONLY,
    "benefits.Enrolment": REGIONAL,
    "benefits.EnrolmentEvent": REGIONAL,
    "benefits.BenefitEntry": REGIONAL,
    "benefits.RollTask": REGIONAL,
    "benefits.TownshipContact": {"coordinator", "assistant_a", "assistant_b"},
    "otp_totp.TOTPDevice": set(),  # superusers only: the page shows second-factor secrets
    "otp_static.StaticDevice": set(),  # superusers only: recovery codes (digests) of every account
}


def _label(model: Any) -> str:
    return model._meta.label  # type: ignore[no-any-return]


def _changelist(label: str) -> str:
    app_label, model = label.split(".")
    return reverse(f"admin:{app_label}_{model.lower()}_changelist")


def test_the_changelist_table_names_every_registered_model_admin() -> None:
    assert set(CHANGELIST_VIEWERS) == {_label(m) for m in admin.site._registry}


@pytest.mark.parametrize("label", sorted(CHANGELIST_VIEWERS))
@pytest.mark.parametrize("persona", STAFF + NON_STAFF)
def test_changelist_status_per_persona(personas: Any, login: Any, label: str, persona: str) -> None:
    response = login(getattr(personas, persona)).get(_changelist(label))
    if persona in NON_STAFF:
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    elif persona in CHANGELIST_VIEWERS[label]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("label", sorted(CHANGELIST_VIEWERS))
def test_a_superuser_reaches_every_changelist(personas: Any, login: Any, label: str) -> None:
    root = f.UserFactory(username="root", is_superuser=True)
    assert login(root).get(_changelist(label)).status_code == 200


def test_the_admin_index_lists_only_what_each_persona_may_open(personas: Any, login: Any) -> None:
    for persona in STAFF:
        html = login(getattr(personas, persona)).get(reverse("admin:index")).content.decode()
        for label, viewers in CHANGELIST_VIEWERS.items():
            assert (_changelist(label) in html) is (persona in viewers), (persona, label)
    app_list = login(personas.auditor).get(reverse("admin:app_list", args=["applications"]))
    assert app_list.status_code == 404  # an app with nothing the auditor may see is not there


# --- out of scope looks missing ----------------------------------------------------------------


@pytest.fixture
def homes(county_map: Any) -> dict[str, Household]:
    return {
        "a1": f.household(county_map.village_a1, address="上叶村1号"),
        "a2": f.household(county_map.village_a2, address="下叶村2号"),
        "b1": f.household(county_map.village_b1, address="沙柳村3号"),
    }


def _object_urls(model: str, pk: int) -> list[str]:
    return [reverse(f"admin:{model}_{view}", args=[pk]) for view in ("change", "history", "delete")]


@pytest.mark.parametrize("persona", ["assistant_b", "cadre_a1", "dept_civil", "dept_medical", "auditor"])
def test_another_townships_household_and_person_pages_are_404(
    personas: Any, login: Any, homes: dict[str, Household], persona: str
) -> None:
    client = login(getattr(personas, persona))
    # cadre_a1 is in village a1 of township a: village a2's household is outside it.
    household = homes["a2"]
    person = household.members.get()
    for url in _object_urls("applications_household", household.pk) + _object_urls(
        "applications_person", person.pk
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"address": "x"}).status_code == 404, url
    household.refresh_from_db()
    assert household.address == "下叶村2号"


def test_an_in_scope_household_opens_and_a_missing_one_is_404_not_a_redirect(
    personas: Any, login: Any, homes: dict[str, Household]
) -> None:
    client = login(personas.assistant_a)
    assert (
        client.get(reverse("admin:applications_household_change", args=[homes["a2"].pk])).status_code == 200
    )
    assert client.get(reverse("admin:applications_household_change", args=[10**9])).status_code == 404
    cadre = login(personas.cadre_a1)
    # A cadre sees their village's household read-only: no save button, and a POST is refused.
    page = cadre.get(reverse("admin:applications_household_change", args=[homes["a1"].pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert (
        cadre.post(reverse("admin:applications_household_change", args=[homes["a1"].pk]), {}).status_code
        == 403
    )


def test_another_townships_region_is_404(personas: Any, login: Any, county_map: Any) -> None:
    client = login(personas.assistant_b)
    for region in (county_map.town_a, county_map.village_a1, county_map.county):
        assert client.get(reverse("admin:assist_center_region_change", args=[region.pk])).status_code == 404
    assert (
        client.get(reverse("admin:assist_center_region_change", args=[county_map.village_b1.pk])).status_code
        == 200
    )


def test_an_audit_event_outside_the_users_scope_is_404(personas: Any, login: Any, county_map: Any) -> None:
    event = audit_record(
        actor=personas.coordinator, action="x", subject=("x", "1"), region=county_map.village_a1
    )
    url = reverse("admin:assist_center_auditevent_change", args=[event.pk])
    for persona in ("assistant_b", "cadre_a1", "dept_civil"):
        assert login(getattr(personas, persona)).get(url).status_code == 404
    for persona in ("assistant_a", "auditor", "coordinator"):
        assert login(getattr(personas, persona)).get(url).status_code == 200


def test_nobody_adds_changes_or_deletes_an_audit_event(personas: Any, login: Any) -> None:
    event = audit_record(actor=personas.coordinator, action="x", subject=("x", "1"))
    root = f.UserFactory(username="root", is_superuser=True)
    for user in (root, personas.coordinator, personas.auditor):
        client = login(user)
        assert client.get(reverse("admin:assist_center_auditevent_add")).status_code == 403
        assert (
            client.get(reverse("admin:assist_center_auditevent_delete", args=[event.pk])).status_code == 403
        )
        assert (
            client.post(reverse("admin:assist_center_auditevent_change", args=[event.pk]), {}).status_code
            == 403
        )
        page = client.get(reverse("admin:assist_center_auditevent_changelist"))
        assert "delete_selected" not in page.content.decode()
    assert AuditEvent.objects.filter(pk=event.pk, action="x").exists()


def test_staff_accounts_are_the_coordinators_and_superusers_stay_out_of_reach(
    personas: Any, login: Any
) -> None:
    root = f.UserFactory(username="root", is_superuser=True)
    assistant = personas.assistant_a
    coordinator = login(personas.coordinator)
    assert coordinator.get(reverse("admin:auth_user_change", args=[assistant.pk])).status_code == 200
    assert coordinator.get(reverse("admin:auth_user_add")).status_code == 200
    # A coordinator cannot make anyone a superuser: the flag is read-only on the form.
    page = coordinator.get(reverse("admin:auth_user_change", args=[assistant.pk])).content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    for view in ("auth_user_change", "auth_user_password_change", "auth_user_history"):
        assert coordinator.get(reverse(f"admin:{view}", args=[root.pk])).status_code == 404, view
    for persona in ("assistant_a", "auditor", "dept_civil"):
        client = login(getattr(personas, persona))
        for view in ("auth_user_change", "auth_user_password_change"):
            assert client.get(reverse(f"admin:{view}", args=[assistant.pk])).status_code == 404, (
                persona,
                view,
            )


def test_the_password_change_of_a_staff_account_is_audited(personas: Any, login: Any) -> None:
    url = reverse("admin:auth_user_password_change", args=[personas.assistant_a.pk])
    response = login(personas.coordinator).post(
        url, {"password1": "a-new-long-passphrase-77", "password2": "a-new-long-passphrase-77"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="staff.password_set")
    assert event.subject_id == str(personas.assistant_a.pk)
    assert "passphrase" not in str(event.new_values) + str(event.old_values)


def _user_form(user: Any, **profile: Any) -> dict[str, Any]:
    data = {
        "username": user.username,
        "first_name": "张三",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1" if hasattr(user, "profile") else "0",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-user": user.pk,
        "profile-0-title": "",
    }
    if hasattr(user, "profile"):
        data["profile-0-id"] = user.profile.pk
    data.update({f"profile-0-{k}": v for k, v in profile.items()})
    return data


def test_the_coordinator_assigns_a_role_through_the_audited_service(
    personas: Any, login: Any, county_map: Any
) -> None:
    newbie = f.UserFactory(username="newbie", is_staff=False)
    client = login(personas.coordinator)
    url = reverse("admin:auth_user_change", args=[newbie.pk])
    wrong = client.post(
        url, _user_form(newbie, role=Role.TOWNSHIP_ASSISTANT, region=county_map.village_a1.pk)
    )
    assert wrong.status_code == 200 and "errorlist" in wrong.content.decode()
    assert not StaffProfile.objects.filter(user=newbie).exists()
    ok = client.post(url, _user_form(newbie, role=Role.TOWNSHIP_ASSISTANT, region=county_map.town_a.pk))
    assert ok.status_code == 302, ok.content.decode()[:3000]
    newbie.refresh_from_db()
    assert newbie.profile.role == Role.TOWNSHIP_ASSISTANT and newbie.profile.region == county_map.town_a
    assert newbie.is_staff
    event = AuditEvent.objects.get(action="staff.assign")
    assert event.actor == personas.coordinator and event.new_values["role"] == "township_assistant"


def test_the_household_form_offers_only_the_users_villages(
    personas: Any, login: Any, county_map: Any
) -> None:
    client = login(personas.assistant_a)
    url = reverse("admin:applications_household_add")
    html = client.get(url).content.decode()
    assert f'value="{county_map.village_a1.pk}"' in html and f'value="{county_map.village_a2.pk}"' in html
    assert f'value="{county_map.village_b1.pk}"' not in html
    assert f'value="{county_map.town_a.pk}"' not in html  # a township is no village
    refused = client.post(
        url,
        {
            "village": county_map.village_b1.pk,
            "address": "沙柳村9号",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
        },
    )
    assert refused.status_code == 200 and "errorlist" in refused.content.decode()
    assert not Household.objects.filter(address="沙柳村9号").exists()
    created = client.post(
        url,
        {
            "village": county_map.village_a2.pk,
            "address": "下叶村9号",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
        },
    )
    assert created.status_code == 302
    household = Household.objects.get(address="下叶村9号")
    assert household.township == county_map.town_a
    assert AuditEvent.objects.filter(action="admin.household.add", subject_id=str(household.pk)).exists()


def test_autocomplete_and_search_stay_in_scope(
    personas: Any, login: Any, county_map: Any, homes: Any
) -> None:
    client = login(personas.assistant_b)
    regions = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "applications", "model_name": "household", "field_name": "village", "term": ""},
    )
    assert regions.status_code == 200
    names = {r["text"] for r in regions.json()["results"]}
    assert names == {county_map.town_b.name, county_map.village_b1.name}
    households = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "applications", "model_name": "person", "field_name": "household", "term": ""},
    )
    assert {r["id"] for r in households.json()["results"]} == {str(homes["b1"].pk)}
    search = client.get(reverse("admin:applications_household_changelist"), {"q": "上叶"})
    assert search.status_code == 200 and "上叶村1号" not in search.content.decode()
    # The filter sidebar offers only the user's own villages.
    changelist = client.get(reverse("admin:applications_household_changelist")).content.decode()
    assert county_map.village_a1.name not in changelist


def test_no_delete_action_is_offered_and_a_forged_one_deletes_nothing(
    personas: Any, login: Any, homes: Any
) -> None:
    client = login(personas.assistant_a)
    url = reverse("admin:applications_household_changelist")
    assert "delete_selected" not in client.get(url).content.decode()
    client.post(url, {"action": "delete_selected", "_selected_action": [homes["b1"].pk, homes["a1"].pk]})
    assert Household.objects.count() == 3


def test_organisation_pages_are_the_coordinators(personas: Any, login: Any) -> None:
    from charity.models import Organisation

    org = Organisation.objects.get(name="海游商会")
    url = reverse("admin:charity_organisation_change", args=[org.pk])
    assert login(personas.coordinator).get(url).status_code == 200
    for persona in ("assistant_a", "dept_civil", "auditor"):
        assert login(getattr(personas, persona)).get(url).status_code == 404
    assert login(personas.org_member_2).get(url).status_code == 302


def test_county_wide_admins_are_invisible_to_a_township_assistant(personas: Any, login: Any) -> None:
    day = CalendarDay.objects.order_by("date").first() or CalendarDay.objects.create(
        date="2026-10-01", is_workday=False, kind=CalendarDay.Kind.HOLIDAY, name="国庆节"
    )
    client = login(personas.assistant_a)
    for label in (
        "assist_center.CalendarDay",
        "assist_center.CalendarYear",
        "assist_center.SmsMessage",
        "assist_center.OutboxMessage",
    ):
        assert client.get(_changelist(label)).status_code == 403, label
    assert client.get(reverse("admin:assist_center_calendarday_change", args=[day.pk])).status_code in (
        403,
        404,
    )
    index = client.get(reverse("admin:index")).content.decode()
    assert "calendarday" not in index and "smsmessage" not in index and "outboxmessage" not in index


def test_second_factor_devices_are_for_superusers_only(personas: Any, login: Any) -> None:
    for name in ("otp_totp_totpdevice_config", "otp_totp_totpdevice_qrcode"):
        url = reverse(f"admin:{name}", args=[123456])
        assert login(personas.coordinator).get(url).status_code == 403
        root = f.UserFactory(username="root", is_superuser=True)
        assert login(root).get(url).status_code == 404  # missing device: 404, not a 500


# --- query counts ------------------------------------------------------------------------------


def _count_queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url_name",
    [
        "applications_household_changelist",
        "applications_person_changelist",
        "assist_center_auditevent_changelist",
        "auth_user_changelist",
        "assist_center_region_changelist",
    ],
)
def test_changelists_query_count_does_not_grow_with_rows(
    personas: Any, login: Any, county_map: Any, django_assert_max_num_queries: Any, url_name: str
) -> None:
    client = login(personas.coordinator)
    url = reverse(f"admin:{url_name}")
    f.household(county_map.village_a1, members=2)
    client.get(url)  # the first request after login also writes the session's idle-timeout stamp
    few = _count_queries(client, url)
    for i in range(15):
        h = f.household(county_map.village_a2 if i % 2 else county_map.village_b1, members=2)
        audit_record(actor=personas.coordinator, action="x", subject=h, region=h.village)
        f.staff_user(f"cadre_{i}", Role.VILLAGE_CADRE, region=h.village)
    with django_assert_max_num_queries(16):
        many = _count_queries(client, url)
    assert many == few
    assert Person.objects.count() >= 30


def test_a_township_assistants_household_changelist_is_bounded_too(
    personas: Any, login: Any, county_map: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(20):
        f.household(county_map.village_a1, members=3)
    client = login(personas.assistant_a)
    client.get(reverse("admin:index"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("admin:applications_household_changelist")).status_code == 200
