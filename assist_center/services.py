"""Writes of the core: staff roles and the audited reveal of a person's ID number or phone."""

from __future__ import annotations

from typing import Any, Literal

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .actors import Actor
from .audit import audit_record, diff
from .errors import ApplicationError
from .models import Department, Region, Role, StaffProfile
from .scopes import can_reveal_pii, get_in_scope_or_404, is_county_wide

REVEAL_REASON_MIN_LENGTH = 4
REVEALABLE_FIELDS = ("id_number", "phone")


def person_reveal(*, actor: Actor, person_id: int, field: Literal["id_number", "phone"], reason: str) -> str:
    """Return a person's full ID number or phone and record who saw it and why.

    Out of the actor's scope: Http404 (as if missing). In scope but the role may not reveal:
    PermissionDenied. A missing or too short reason: ApplicationError (400).
    """
    if field not in REVEALABLE_FIELDS:
        raise ApplicationError(
            _("This value cannot be revealed."), {"fields": {"field": _("Unknown field.")}}
        )
    # Looked up by name: applications sits above the core, which must not import it (design.md).
    person_model = apps.get_model("applications", "Person")
    with transaction.atomic():
        # The scope check comes first so that a blank reason cannot tell another township's
        # assistant that the person exists.
        person = get_in_scope_or_404(
            person_model.objects.select_related("household__village"), actor, pk=person_id
        )
        village = person.household.village
        if not can_reveal_pii(actor, village, field):
            raise PermissionDenied
        reason = (reason or "").strip()
        if len(reason) < REVEAL_REASON_MIN_LENGTH:
            message = _("Give a reason of at least 4 characters for revealing this value.")
            raise ApplicationError(message, {"fields": {"reason": message}})
        audit_record(
            actor=actor,
            action="pii.reveal",
            subject=person,
            new={"field": field},
            reason=reason,
            region=village,
        )
        value: str = getattr(person, field) or ""
    return value


def staff_scope_errors(*, role: str, region: Region | None, department: Department | None) -> dict[str, Any]:
    """Field errors if the region/department does not fit the role; empty when it does."""
    errors: dict[str, Any] = {}
    if role not in Role.values:
        errors["role"] = _("Unknown role.")
        return errors
    if role == Role.TOWNSHIP_ASSISTANT:
        if region is None or region.level != Region.Level.TOWNSHIP:
            errors["region"] = _("A township assistant needs a township.")
    elif role == Role.VILLAGE_CADRE:
        if region is None or region.level != Region.Level.VILLAGE:
            errors["region"] = _("A village cadre needs a village.")
    elif region is not None:
        errors["region"] = _("This role is not tied to a region.")
    if role == Role.DEPARTMENT_STAFF:
        if department is None:
            errors["department"] = _("Department staff need a department.")
    elif department is not None:
        errors["department"] = _("This role is not tied to a department.")
    return errors


def staff_profile_assign(
    *,
    actor: Actor,
    user: Any,
    role: str,
    region: Region | None = None,
    department: Department | None = None,
    title: str | None = None,
) -> StaffProfile:
    """Give a user a role and its one region or department, with an audit event.

    `title` (a job title shown next to the name) is left as it is when None.
    """
    if not is_county_wide(actor):
        raise PermissionDenied
    errors = staff_scope_errors(role=role, region=region, department=department)
    if errors:
        raise ApplicationError(next(iter(errors.values())), {"fields": errors})
    values: dict[str, Any] = {"role": role, "region": region, "department": department}
    if title is not None:
        values["title"] = title
    with transaction.atomic():
        profile = StaffProfile.objects.select_for_update().filter(user=user).first()
        if profile is None:
            profile = StaffProfile(user=user, **values)
            profile.save(force_insert=True)
            old: dict[str, Any] = {}
            new: dict[str, Any] = dict(values)
        else:
            old, new = diff(profile, values.keys(), values)
            for name, value in values.items():
                setattr(profile, name, value)
            profile.save(update_fields=list(values))
        # Refresh the user's cached reverse relation: later scope checks in this request read it.
        user.profile = profile
        # Organisation members work in the public portal, never in the admin (security.md).
        is_staff = role != Role.ORGANISATION
        if user.is_staff != is_staff:
            old["is_staff"], new["is_staff"] = user.is_staff, is_staff
            user.is_staff = is_staff
            user.save(update_fields=["is_staff"])
        if new:
            audit_record(
                actor=actor,
                action="staff.assign",
                subject=profile,
                old=old,
                new=new,
                region=region,
                department=department,
            )
    return profile
