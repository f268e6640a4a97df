"""All of a user's sessions end when their rights change: role, scope, organisation, groups, flags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from assist_center.models import AuditEvent, Role, StaffSession
from tests.admin_forms import admin_form_data
from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)  # the sessions end after the change commits


def signed_in(client: Client) -> bool:
    return client.get(reverse("admin:index")).status_code == 200


def _two_sessions(user: Any) -> tuple[Client, Client]:
    first, second = client_for(user), client_for(user)
    assert signed_in(first) and signed_in(second)
    assert StaffSession.objects.filter(user=user).count() == 2
    return first, second


def _move_township(p: Any, c: Any) -> None:
    profile = p.assistant_a.profile
    profile.region = c.town_b
    profile.save()


def _make_cadre(p: Any, c: Any) -> None:
    profile = p.assistant_a.profile
    profile.role, profile.region = Role.VILLAGE_CADRE, c.village_a1
    profile.save(update_fields=["role", "region"])


def _add_group(p: Any, c: Any) -> None:
    p.assistant_a.groups.add(Group.objects.create(name="extra"))


def _add_permission(p: Any, c: Any) -> None:
    p.assistant_a.user_permissions.add(Permission.objects.get(codename="view_auditevent"))


def _group_gains_permission(p: Any, c: Any) -> None:
    group = Group.objects.create(name="g")
    p.assistant_a.groups.add(group)
    # A second pair of sessions, opened after joining the group, must end when the group changes.
    client_for(p.assistant_a)
    group.permissions.add(Permission.objects.get(codename="view_auditevent"))


def _superuser(p: Any, c: Any) -> None:
    p.assistant_a.is_superuser = True
    p.assistant_a.save()


def _deactivate(p: Any, c: Any) -> None:
    p.assistant_a.is_active = False
    p.assistant_a.save(update_fields=["is_active"])


def _password(p: Any, c: Any) -> None:
    p.assistant_a.set_password("another-long-passphrase-31")
    p.assistant_a.save()


CHANGES: dict[str, Callable[[Any, Any], None]] = {
    "township": _move_township,
    "role": _make_cadre,
    "group": _add_group,
    "permission": _add_permission,
    "group permission": _group_gains_permission,
    "superuser": _superuser,
    "deactivation": _deactivate,
    "password": _password,
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_session_of_the_user_ends_when_their_rights_change(
    change: str, personas: Any, county_map: Any
) -> None:
    first, second = _two_sessions(personas.assistant_a)
    bystander = client_for(personas.assistant_b)
    CHANGES[change](personas, county_map)
    assert not StaffSession.objects.filter(user=personas.assistant_a).exists()
    assert not signed_in(first) and not signed_in(second)
    assert signed_in(bystander)
    assert AuditEvent.objects.filter(
        action="staff.sessions_ended", subject_id=str(personas.assistant_a.pk)
    ).exists()


def test_joining_or_leaving_an_organisation_ends_the_members_sessions(personas: Any) -> None:
    member = personas.org_member_1
    from charity.models import Organisation

    client_for(member)
    assert StaffSession.objects.filter(user=member).exists()
    organisation = Organisation.objects.get(members=member)
    organisation.members.remove(member)
    assert not StaffSession.objects.filter(user=member).exists()
    client_for(member)
    other = Organisation.objects.exclude(pk=organisation.pk).first()
    assert other is not None
    other.members.add(member)
    assert not StaffSession.objects.filter(user=member).exists()


def test_signing_in_and_unrelated_saves_keep_the_sessions(personas: Any) -> None:
    user = personas.coordinator
    first = client_for(user)
    client_for(user)  # a second sign-in writes last_login
    user.first_name = "新名字"
    user.save()
    profile = user.profile
    profile.title = "主任"
    profile.save()
    assert signed_in(first)
    assert StaffSession.objects.filter(user=user).count() == 2
    assert not AuditEvent.objects.filter(action="staff.sessions_ended").exists()


def test_a_rolled_back_change_signs_nobody_out(personas: Any, county_map: Any) -> None:
    from django.db import transaction

    first = client_for(personas.assistant_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        _move_township(personas, county_map)
        raise RuntimeError
    assert signed_in(first)


def test_the_coordinator_changing_a_users_role_in_the_admin_ends_that_users_sessions(
    personas: Any, county_map: Any
) -> None:
    target = personas.assistant_a
    session = client_for(target)
    coordinator = client_for(personas.coordinator)
    page = coordinator.get(reverse("admin:auth_user_change", args=[target.pk]))
    assert page.status_code == 200
    data = admin_form_data(page)
    region_keys = [k for k in data if k.endswith("-0-region")]
    assert region_keys, sorted(data)
    data[region_keys[0]] = county_map.town_b.pk
    response = coordinator.post(reverse("admin:auth_user_change", args=[target.pk]), data)
    assert response.status_code == 302, _errors(response)
    target.profile.refresh_from_db()
    assert target.profile.region == county_map.town_b
    assert not signed_in(session)
    assert signed_in(coordinator)


def _errors(response: Any) -> Any:
    context = response.context or {}
    return context.get("errors") or (context.get("adminform") and context["adminform"].form.errors)
