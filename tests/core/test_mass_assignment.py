"""Mass assignment: a field the form or API does not offer cannot be set by adding it to the request.

Generated over every registered ModelAdmin (each persona that may change a row, the superuser
included) and every staff API POST endpoint (tests/core/test_hostile_input.py's targets): the
page's own form is posted back with every read-only, disabled or absent field of the model set
to another value (another township, department, household, organisation; another status; other
amounts and dates), and the database must hold the old values.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib import admin
from django.db import models
from django.test import RequestFactory
from django.urls import reverse

from assist_center.models import AuditEvent
from tests import factories as f
from tests.admin_forms import admin_form_data
from tests.applications.test_application_admin import Cases
from tests.applications.test_application_admin import cases as cases  # the fixture
from tests.conftest import client_for
from tests.core.test_hostile_input import Target
from tests.core.test_hostile_input import targets as targets  # the fixture
from tests.referrals.builders import open_case

pytestmark = pytest.mark.django_db

# ModelAdmins for which the fixtures below make no row, each with why that is acceptable. A new
# ModelAdmin that is neither exercised nor listed here fails test_every_admin_was_exercised.
NO_ROW: dict[str, str] = {}

# Fields a successful save legitimately sets from the request, not from the body.
SET_BY_SAVE = {"updated_at", "modified", "changed_at", "last_modified"}
# Blind indexes recomputed on save from the (editable) value they index: they may change, but never
# to what was posted.
DERIVED_SUFFIX = "_hash"


def _hostile(field: models.Field[Any, Any], current: Any) -> Any:
    """A value for `field` different from `current`, shaped as a browser would post it."""
    if field.choices:
        others = [key for key, _ in field.flatchoices if key != current and key not in (None, "")]
        return others[0] if others else None
    if isinstance(field, models.ForeignKey):
        related: Any = field.related_model
        other = related._default_manager.exclude(pk=current).values_list("pk", flat=True).first()
        return other
    if isinstance(field, models.BooleanField):
        return "" if current else "on"
    if isinstance(field, models.DecimalField):
        return "98765.43"
    if isinstance(field, models.IntegerField | models.FloatField):
        return (current or 0) + 7
    if isinstance(field, models.DateTimeField):
        return "2001-02-03 04:05:06"
    if isinstance(field, models.DateField):
        return "2001-02-03"
    if isinstance(field, models.JSONField):
        return json.dumps({"tampered": True})
    if isinstance(field, models.CharField | models.TextField):
        return "篡改"[: field.max_length or 2] if field.max_length else "篡改的值"
    return None


def _protected(model_admin: admin.ModelAdmin[Any], form: Any) -> list[models.Field[Any, Any]]:
    """Concrete fields the change form does not let this user edit (absent, read-only or disabled)."""
    editable = {name for name, field in form.fields.items() if not field.disabled}
    fields = []
    for field in model_admin.model._meta.concrete_fields:
        if field.primary_key or field.name in editable or field.attname in editable:
            continue
        if getattr(field, "auto_now", False) or field.name in SET_BY_SAVE:
            continue
        fields.append(field)
    return fields


def _snapshot(model: type[models.Model], pk: Any, fields: list[models.Field[Any, Any]]) -> dict[str, Any]:
    return model._default_manager.filter(pk=pk).values(*[f.attname for f in fields]).get()


@pytest.fixture
def world(personas: Any, county_map: Any, cases: Cases) -> Any:
    """Rows for as many admins as the shared builders make: applications, a case with referrals."""
    from django.apps import apps
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from assist_center.pii import phone_index
    from assist_center.two_factor import recovery_codes_issue

    open_case(county_map.village_a1, actor=personas.coordinator, items=["dibao", "medical"])
    today = timezone.localdate()
    rows: dict[str, dict[str, Any]] = {
        "eligibility.Standard": {
            "item": "medical",
            "region": county_map.county,
            "effective_from": today + dt.timedelta(days=30),  # not yet in force: still editable
            "version": 9,
            "params": {"spending_ratio": "0.5", "min_spending": "5000"},
        },
        "referrals.DeadlineRule": {"department": county_map.dept_civil, "item": "temporary", "days": 5},
        "referrals.DepartmentContact": {
            "department": county_map.dept_civil,
            "label": "值班",
            "phone": "+8613600000001",
            "phone_hash": phone_index("+8613600000001"),
        },
        "benefits.TownshipContact": {
            "township": county_map.town_a,
            "label": "值班",
            "phone": "13800008000",
            "phone_hash": "h0",
        },
        "referrals.WorkChannel": {
            "department": county_map.dept_civil,
            "label": "民政局工作群",
            "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=x",
            "secret": "SEC" + "0" * 40,
        },
        "charity.PublicReport": {
            "subject_kind": "need",
            "subject_ref": "N1",
            "kind": "wrong",
            "text": "信息有误",
            "due_on": today,
        },
    }
    for label, values in rows.items():
        try:
            model = apps.get_model(label)
        except LookupError:  # a model another issue has not landed yet
            continue
        for name in list(values):
            field = model._meta.get_field(name)
            if field.choices and values[name] not in dict(field.flatchoices):
                values[name] = field.flatchoices[0][0]
        model._default_manager.create(**values)
    TOTPDevice.objects.create(user=personas.coordinator, name="default", confirmed=True)
    recovery_codes_issue(user=personas.coordinator)
    return personas


def _admin_personas(world: Any) -> dict[str, Any]:
    root = f.UserFactory(username="root", is_superuser=True)
    return {
        "superuser": root,
        "coordinator": world.coordinator,
        "assistant_a": world.assistant_a,
        "dept_civil": world.dept_civil,
    }


def _request_for(user: Any) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_no_admin_form_changes_a_field_it_does_not_offer(world: Any) -> None:
    exercised: set[str] = set()
    leaks: list[str] = []
    refused_saves: list[str] = []
    for persona, user in _admin_personas(world).items():
        client = client_for(user)
        for model, model_admin in admin.site._registry.items():
            label = model._meta.label
            request = _request_for(user)
            if not model_admin.has_view_or_change_permission(request):
                continue
            obj = next(
                (
                    o
                    for o in model_admin.get_queryset(request)[:20]
                    if model_admin.has_change_permission(request, o)
                ),
                None,
            )
            if obj is None:
                continue
            info = model._meta.app_label, model._meta.model_name
            url = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
            page = client.get(url)
            if page.status_code != 200 or "adminform" not in (page.context or {}):
                continue
            data = admin_form_data(page)
            fields = _protected(model_admin, page.context["adminform"].form)
            before = _snapshot(model, obj.pk, fields)
            planted = {}
            for field in fields:
                value = _hostile(field, before[field.attname])
                if value is not None:
                    data[field.name] = value
                    data[field.attname] = value
                    planted[field.name] = value
            response = client.post(url, data)
            exercised.add(label)
            if response.status_code != 302:
                refused_saves.append(f"{persona} {label}: {response.status_code}")
            after = _snapshot(model, obj.pk, fields)
            for field in fields:
                if field.name.endswith(DERIVED_SUFFIX):
                    if after[field.attname] == planted.get(field.name):
                        leaks.append(f"{persona} set {label}.{field.name} to the posted value")
                    continue
                if after[field.attname] != before[field.attname]:
                    leaks.append(
                        f"{persona} changed {label}.{field.name} through the admin form: "
                        f"{before[field.attname]!r} -> {after[field.attname]!r} "
                        f"(posted {planted.get(field.name)!r})"
                    )
    assert leaks == []
    registered = {m._meta.label for m in admin.site._registry}
    read_only = {
        m._meta.label
        for m, a in admin.site._registry.items()
        if not any(a.has_change_permission(_request_for(u)) for u in _admin_personas(world).values())
    }
    missing = registered - exercised - read_only - set(NO_ROW)
    # Every admin someone may change was posted to, or says why it has no row here.
    assert not missing, " ".join(sorted(missing))
    # The posts were real saves: a form that failed validation would prove nothing.
    assert len(refused_saves) <= len(exercised) // 4, " / ".join(refused_saves)


EXTRAS = {
    "status": "approved",
    "township": 1,
    "region": 1,
    "household": 1,
    "organisation": 1,
    "department": 2,
    "case": 1,
    "amount": "99999",
    "approved_amount": "99999",
    "decided_at": "2001-01-01T00:00:00Z",
    "id": 987654,
}


def _state() -> dict[str, Any]:
    from applications.models import Application, Household
    from referrals.models import Case, Referral

    return {
        "applications": list(Application.objects.order_by("pk").values()),
        "households": list(Household.objects.order_by("pk").values()),
        "cases": list(Case.objects.order_by("pk").values()),
        "referrals": list(Referral.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


def test_no_staff_api_body_sets_a_field_it_does_not_take(world: Any, targets: list[Target]) -> None:
    for target in targets:
        extras = {k: v for k, v in EXTRAS.items() if k not in target.body}
        client = client_for(getattr(world, target.persona))
        before = _state()
        response = client.post(
            target.url, data=json.dumps({**target.body, **extras}), content_type="application/json"
        )
        if target.name == "accept":
            # Accept reads no body: it may succeed, but only its own status may move.
            assert response.status_code in (200, 201, 400, 409), target.name
            continue
        assert response.status_code == 400, (target.name, response.status_code, response.content[:300])
        refused = response.json().get("extra", {}).get("fields", {})
        assert set(extras) <= set(refused), (target.name, sorted(set(extras) - set(refused)))
        assert _state() == before, target.name


def test_the_public_submission_refuses_status_household_and_amounts(county_map: Any) -> None:
    from django.test import Client

    from applications.models import Application
    from tests.applications.test_intake_input import valid_body

    extras = {k: v for k, v in EXTRAS.items() if k not in {"region"}}
    body = valid_body(county_map, **extras)
    response = Client().post(
        reverse("api-public-applications"), data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    refused = response.json().get("extra", {}).get("fields", {})
    assert set(extras) <= set(refused), sorted(set(extras) - set(refused))
    assert not Application.objects.exists()
