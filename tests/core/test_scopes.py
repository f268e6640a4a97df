"""Every function of assist_center.scopes against every persona (security.md, "Who may see what")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from applications.models import Household, Person
from assist_center import scopes
from assist_center.api import ScopedAPIView
from assist_center.audit import audit_record
from assist_center.models import AuditEvent, Department, Role, StaffProfile

from .. import factories as f

PERSONAS = [
    "coordinator",
    "assistant_a",
    "assistant_b",
    "cadre_a1",
    "dept_civil",
    "dept_medical",
    "org_member_1",
    "org_member_2",
    "auditor",
    "anonymous",
]
NOBODY: set[str] = set()


@dataclass
class World:
    personas: Any
    map: Any
    households: dict[str, Household]
    events: dict[str, AuditEvent]

    def user(self, name: str) -> Any:
        return getattr(self.personas, name)


@pytest.fixture
def world(personas: Any, county_map: Any) -> World:
    c, p = county_map, personas
    households = {
        "ha1": f.household(c.village_a1, members=2),
        "ha2": f.household(c.village_a2),
        "hb1": f.household(c.village_b1),
    }
    ha1 = households["ha1"]
    events = {
        "ev_a1": audit_record(actor=p.coordinator, action="t", subject=ha1, region=c.village_a1),
        "ev_town_a": audit_record(actor=p.coordinator, action="t", subject=("x", "1"), region=c.town_a),
        "ev_b1": audit_record(
            actor=p.coordinator, action="t", subject=households["hb1"], region=c.village_b1
        ),
        "ev_civil": audit_record(
            actor=p.coordinator, action="t", subject=("x", "2"), department=c.dept_civil
        ),
        "ev_by_cadre": audit_record(actor=p.cadre_a1, action="t", subject=("x", "3")),
        "ev_by_medical": audit_record(actor=p.dept_medical, action="t", subject=("x", "4")),
        "ev_by_assistant_b": audit_record(actor=p.assistant_b, action="t", subject=("x", "5")),
        "ev_by_system": audit_record(actor=None, action="t", subject=("x", "6")),
    }
    return World(personas=p, map=c, households=households, events=events)


ALL_REGIONS = {"county", "town_a", "town_b", "village_a1", "village_a2", "village_b1"}
REGIONS = {
    "coordinator": ALL_REGIONS,
    "assistant_a": {"town_a", "village_a1", "village_a2"},
    "assistant_b": {"town_b", "village_b1"},
    "cadre_a1": {"village_a1"},
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_regions_visible_to(world: World, persona: str) -> None:
    visible = set(scopes.regions_visible_to(world.user(persona)).values_list("pk", flat=True))
    expected = {getattr(world.map, name).pk for name in REGIONS.get(persona, NOBODY)}
    assert visible == expected


HOUSEHOLDS = {
    "coordinator": {"ha1", "ha2", "hb1"},
    "assistant_a": {"ha1", "ha2"},
    "assistant_b": {"hb1"},
    "cadre_a1": {"ha1"},
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_scope_households(world: World, persona: str) -> None:
    user = world.user(persona)
    visible = set(scopes.scope_households(Household.objects.all(), user).values_list("pk", flat=True))
    assert visible == {world.households[h].pk for h in HOUSEHOLDS.get(persona, NOBODY)}


@pytest.mark.parametrize("persona", PERSONAS)
def test_scope_households_through_a_path_scopes_persons(world: World, persona: str) -> None:
    user = world.user(persona)
    qs = scopes.scope_households(
        Person.objects.all(), user, township_field="household__township", village_field="household__village"
    )
    expected = set(
        Person.objects.filter(
            household__in=[world.households[h] for h in HOUSEHOLDS.get(persona, NOBODY)]
        ).values_list("pk", flat=True)
    )
    assert set(qs.values_list("pk", flat=True)) == expected
    # The registered scope (used by get_in_scope_or_404 and the admin) agrees.
    assert set(scopes.scope_queryset(Person.objects.all(), user).values_list("pk", flat=True)) == expected


DEPARTMENT_PROFILES = {
    "coordinator": {p for p in PERSONAS if p != "anonymous"},
    "dept_civil": {"dept_civil"},
    "dept_medical": {"dept_medical"},
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_scope_by_department(world: World, persona: str) -> None:
    qs = scopes.scope_by_department(StaffProfile.objects.all(), world.user(persona))
    names = set(qs.values_list("user__username", flat=True))
    assert names == DEPARTMENT_PROFILES.get(persona, NOBODY)


ALL_EVENTS = {
    "ev_a1",
    "ev_town_a",
    "ev_b1",
    "ev_civil",
    "ev_by_cadre",
    "ev_by_medical",
    "ev_by_assistant_b",
    "ev_by_system",
}
AUDIT = {
    "coordinator": ALL_EVENTS,
    "auditor": ALL_EVENTS,
    "assistant_a": {"ev_a1", "ev_town_a"},
    "assistant_b": {"ev_b1", "ev_by_assistant_b"},
    "cadre_a1": {"ev_by_cadre"},
    "dept_civil": {"ev_civil"},
    "dept_medical": {"ev_by_medical"},
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_audit_events_visible_to(world: World, persona: str) -> None:
    visible = set(scopes.audit_events_visible_to(world.user(persona)).values_list("pk", flat=True))
    assert visible == {world.events[e].pk for e in AUDIT.get(persona, NOBODY)}


REVEAL_ID_IN_A1 = {"coordinator", "assistant_a"}
REVEAL_PHONE_IN_A1 = {"assistant_a"}  # security.md: the coordinator sees phones masked only


@pytest.mark.parametrize("persona", PERSONAS)
def test_can_reveal_pii(world: World, persona: str) -> None:
    user, m = world.user(persona), world.map
    assert scopes.can_reveal_pii(user, m.village_a1, "id_number") is (persona in REVEAL_ID_IN_A1)
    assert scopes.can_reveal_pii(user, m.village_a1, "phone") is (persona in REVEAL_PHONE_IN_A1)
    assert scopes.can_reveal_pii(user, m.village_b1, "id_number") is (
        persona in {"coordinator", "assistant_b"}
    )
    assert scopes.can_reveal_pii(user, None) is False


@pytest.mark.parametrize("persona", PERSONAS)
def test_is_county_wide_and_is_scoped_staff(world: World, persona: str) -> None:
    user = world.user(persona)
    assert scopes.is_county_wide(user) is (persona == "coordinator")
    assert scopes.is_scoped_staff(user) is (persona not in {"org_member_1", "org_member_2", "anonymous"})


@pytest.mark.parametrize("persona", PERSONAS)
def test_get_in_scope_or_404(world: World, persona: str) -> None:
    user = world.user(persona)
    ha1 = world.households["ha1"]
    member = ha1.members.first()
    assert member is not None
    if "ha1" in HOUSEHOLDS.get(persona, NOBODY):
        assert scopes.get_in_scope_or_404(Household.objects.all(), user, pk=ha1.pk) == ha1
        assert scopes.get_in_scope_or_404(Person.objects.all(), user, pk=member.pk) == member
    else:
        with pytest.raises(Http404):
            scopes.get_in_scope_or_404(Household.objects.all(), user, pk=ha1.pk)
        with pytest.raises(Http404):
            scopes.get_in_scope_or_404(Person.objects.all(), user, pk=member.pk)


def test_get_in_scope_or_404_treats_a_missing_or_malformed_key_like_out_of_scope(world: World) -> None:
    with pytest.raises(Http404):
        scopes.get_in_scope_or_404(Household.objects.all(), world.personas.coordinator, pk=10**9)
    with pytest.raises(Http404):
        scopes.get_in_scope_or_404(Household.objects.all(), world.personas.coordinator, pk="abc")


def test_a_model_without_a_registered_scope_is_a_configuration_error(world: World) -> None:
    with pytest.raises(ImproperlyConfigured, match="register_scope"):
        scopes.get_in_scope_or_404(Department.objects.all(), world.personas.coordinator, pk=1)


def test_an_inactive_user_sees_nothing(world: World) -> None:
    user = world.personas.assistant_a
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert scopes.profile_of(user) is None and scopes.role_of(user) is None
    assert not scopes.regions_visible_to(user).exists()
    assert not scopes.scope_households(Household.objects.all(), user).exists()
    assert not scopes.audit_events_visible_to(user).exists()
    assert scopes.can_reveal_pii(user, world.map.village_a1) is False
    coordinator = world.personas.coordinator
    coordinator.is_active = False
    assert scopes.is_county_wide(coordinator) is False
    assert not scopes.regions_visible_to(coordinator).exists()


def test_unknown_role_and_missing_profile_see_nothing(world: World) -> None:
    user = world.personas.assistant_a
    user.profile.role = "mayor"  # not a Role: in memory only, the database constraint refuses it
    assert scopes.role_of(user) is None
    assert not scopes.regions_visible_to(user).exists()
    assert not scopes.scope_households(Household.objects.all(), user).exists()
    assert not scopes.audit_events_visible_to(user).exists()
    assert scopes.can_reveal_pii(user, world.map.village_a1) is False
    bare = f.UserFactory(username="no_profile")
    assert scopes.role_of(bare) is None
    assert not scopes.regions_visible_to(bare).exists()
    assert not scopes.audit_events_visible_to(bare).exists()
    assert scopes.is_scoped_staff(bare) is False


def test_a_superuser_is_county_wide_without_a_profile(world: World) -> None:
    root = f.UserFactory(username="root", is_superuser=True)
    assert scopes.is_county_wide(root)
    assert scopes.regions_visible_to(root).count() == len(ALL_REGIONS)
    assert scopes.audit_events_visible_to(root).count() == len(ALL_EVENTS)


def test_region_in_scope_needs_no_query(world: World, django_assert_num_queries: Any) -> None:
    user = world.personas.assistant_a
    scopes.profile_of(user)  # warm the profile cache as a request would
    with django_assert_num_queries(0):
        assert scopes.region_in_scope(user, world.map.village_a2)
        assert not scopes.region_in_scope(user, world.map.village_b1)


# --- ScopedAPIView: a staff API view cannot forget the check ----------------------------------


class _PingApi(ScopedAPIView):
    def get(self, request: Any) -> Response:
        return Response({"ok": True})


class _ForgetfulApi(ScopedAPIView):
    permission_classes: list[type] = []  # a subclass that drops its permissions keeps the staff check

    def get(self, request: Any) -> Response:
        return Response({"ok": True})


@pytest.mark.parametrize("view", [_PingApi, _ForgetfulApi])
@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("anonymous", 401),
        ("org_member_1", 403),
        ("coordinator", 200),
        ("assistant_a", 200),
        ("cadre_a1", 200),
        ("dept_civil", 200),
        ("auditor", 200),
    ],
)
def test_scoped_api_view_requires_a_staff_role(world: World, view: Any, persona: str, status: int) -> None:
    request = APIRequestFactory().get("/x/")
    user = world.user(persona)
    if not isinstance(user, AnonymousUser):
        force_authenticate(request, user=user)
    response = view.as_view()(request)
    assert response.status_code == status
    if status != 200:
        assert set(response.data) == {"message", "extra"}


def test_scoped_api_view_refuses_an_inactive_account_and_one_without_profile(world: World) -> None:
    user = world.personas.assistant_a
    user.is_active = False
    for candidate in (user, f.UserFactory(username="no_profile_api")):
        request = APIRequestFactory().get("/x/")
        force_authenticate(request, user=candidate)
        assert _PingApi.as_view()(request).status_code == 403


def test_role_enum_is_fully_covered_by_the_personas() -> None:
    # A new role must be added to the personas and to every table above.
    assert {r.value for r in Role} == {
        "coordinator",
        "township_assistant",
        "village_cadre",
        "department_staff",
        "auditor",
        "organisation",
    }


# A fresh interpreter, as a Celery worker or a shell starts: Django set up, then only eligibility's
# selectors imported. The scope of every eligibility model must already be registered there.
# The admin is swapped for SimpleAdminConfig: its autodiscovery imports every admin module, and
# with them the services, which would hide a registration that lives in a service module.
_FRESH_WORKER = """
import importlib
import os
import sys

import django

settings_module = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
settings_module.INSTALLED_APPS = [
    "django.contrib.admin.apps.SimpleAdminConfig" if app == "django.contrib.admin" else app
    for app in settings_module.INSTALLED_APPS
]
django.setup()
import eligibility.selectors  # noqa: F401
from django.contrib.auth.models import AnonymousUser

from assist_center import scopes
from eligibility.models import DiscoveryLead, MonitoringWarning

loaded = sorted(m for m in sys.modules if m.startswith("eligibility.services"))
assert not loaded, loaded
for model in (MonitoringWarning, DiscoveryLead):
    scopes.scope_queryset(model.objects.all(), AnonymousUser())
print("registered")
"""


def test_eligibility_scopes_are_registered_by_its_selectors_alone() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", _FRESH_WORKER],
        cwd=root,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("registered")
