"""The one module that decides what a user may see. Admin, HTML views and the API all use it.

Rules (security.md, "Who may see what"):

- the county coordinator (and a superuser) sees the whole county;
- a township assistant sees their township and its villages;
- a village cadre sees their village;
- department staff see what is addressed to their department;
- the auditor sees the audit log only;
- organisation members and anonymous users see none of this.

Every function denies by default: an inactive user, a user without a StaffProfile or a role this
module does not know sees nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from importlib import import_module
from typing import Any, Literal, TypeVar

from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist, ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from .models import AuditEvent, Region, Role, StaffProfile

M = TypeVar("M", bound=Model)
Scoper = Callable[[QuerySet[Any], Any], QuerySet[Any]]

RevealableField = Literal["id_number", "phone"]


def _is_active(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def profile_of(user: Any) -> StaffProfile | None:
    if not _is_active(user):
        return None
    try:
        return user.profile
    except StaffProfile.DoesNotExist:
        return None


def role_of(user: Any) -> Role | None:
    p = profile_of(user)
    if p is None:
        return None
    try:
        return Role(p.role)
    except ValueError:  # a role string this code does not know: treat as no role at all
        return None


def is_county_wide(user: Any) -> bool:
    """True for the county coordinator and for superusers (who act as one)."""
    if not _is_active(user):
        return False
    return bool(getattr(user, "is_superuser", False)) or role_of(user) == Role.COORDINATOR


def is_scoped_staff(user: Any) -> bool:
    """True for an active account with a staff role: everyone but organisation members and anonymous."""
    if is_county_wide(user):
        return True
    role = role_of(user)
    return role is not None and role != Role.ORGANISATION


# --- regions ---------------------------------------------------------------------------------


def scope_regions(qs: QuerySet[Region], user: Any) -> QuerySet[Region]:
    """Narrow a Region queryset to the user's regions."""
    if is_county_wide(user):
        return qs
    p = profile_of(user)
    role = role_of(user)
    if p is None or p.region_id is None:
        return qs.none()
    if role == Role.TOWNSHIP_ASSISTANT:
        # `township` is denormalised on every village, so this is one indexed OR, not a tree walk.
        return qs.filter(Q(pk=p.region_id) | Q(township_id=p.region_id))
    if role == Role.VILLAGE_CADRE:
        return qs.filter(pk=p.region_id)
    return qs.none()


def regions_visible_to(user: Any) -> QuerySet[Region]:
    return scope_regions(Region.objects.all(), user)


def region_in_scope(user: Any, region: Region | None) -> bool:
    """Whether a region (a village or a township) lies within the user's regions; no query."""
    if region is None:
        return is_county_wide(user)
    if is_county_wide(user):
        return True
    p = profile_of(user)
    role = role_of(user)
    if p is None or p.region_id is None:
        return False
    if role == Role.TOWNSHIP_ASSISTANT:
        return region.pk == p.region_id or region.township_id == p.region_id
    if role == Role.VILLAGE_CADRE:
        return region.pk == p.region_id
    return False


# --- households and anything placed in a township/village ------------------------------------


def scope_households(
    qs: QuerySet[M], user: Any, *, township_field: str = "township", village_field: str = "village"
) -> QuerySet[M]:
    """Narrow any queryset whose rows carry a township and a village (directly or through a path).

    `township_field`/`village_field` are lookup paths, e.g. "household__township" for persons.
    Department staff get nothing here: what they may see comes through their referrals.
    """
    if is_county_wide(user):
        return qs
    p = profile_of(user)
    role = role_of(user)
    if p is None or p.region_id is None:
        return qs.none()
    if role == Role.TOWNSHIP_ASSISTANT:
        return qs.filter(**{township_field: p.region_id})
    if role == Role.VILLAGE_CADRE:
        return qs.filter(**{village_field: p.region_id})
    return qs.none()


def scope_by_department(qs: QuerySet[M], user: Any, *, field: str = "department") -> QuerySet[M]:
    """Narrow a queryset of department-addressed rows (referrals, ...) to the user's department."""
    if is_county_wide(user):
        return qs
    p = profile_of(user)
    if p is None or role_of(user) != Role.DEPARTMENT_STAFF or p.department_id is None:
        return qs.none()
    return qs.filter(**{field: p.department_id})


# --- audit log -------------------------------------------------------------------------------


def scope_audit_events(qs: QuerySet[AuditEvent], user: Any) -> QuerySet[AuditEvent]:
    """Narrow an AuditEvent queryset to what the user may read (security.md, "audit log" row)."""
    if is_county_wide(user):
        return qs
    role = role_of(user)
    p = profile_of(user)
    if p is None or role is None:
        return qs.none()
    own = Q(actor_id=user.pk)
    if role == Role.AUDITOR:
        return qs
    if role == Role.TOWNSHIP_ASSISTANT and p.region_id is not None:
        return qs.filter(own | Q(region_id=p.region_id) | Q(region__township_id=p.region_id))
    if role == Role.DEPARTMENT_STAFF and p.department_id is not None:
        return qs.filter(own | Q(department_id=p.department_id))
    if role == Role.VILLAGE_CADRE:
        return qs.filter(own)
    return qs.none()


def audit_events_visible_to(user: Any) -> QuerySet[AuditEvent]:
    return scope_audit_events(AuditEvent.objects.all(), user)


# --- personal data ---------------------------------------------------------------------------


def can_reveal_pii(user: Any, subject_region: Region | None, field: RevealableField = "id_number") -> bool:
    """Whether the user may see a person's full ID number or phone through an audited reveal.

    security.md: the township assistant of the person's township may reveal both; the coordinator
    may reveal the ID number only (the phone stays masked for the county). Nobody else, ever:
    village cadres, departments, organisations and the auditor see masks.
    `subject_region` is the person's village (or township).
    """
    if subject_region is None or not _is_active(user):
        return False
    if is_county_wide(user):
        return field == "id_number"
    p = profile_of(user)
    if p is None or role_of(user) != Role.TOWNSHIP_ASSISTANT or p.region_id is None:
        return False
    return subject_region.pk == p.region_id or subject_region.township_id == p.region_id


# --- one entry point for "this object, if the user may see it" -------------------------------

_SCOPERS: dict[str, Scoper] = {}


def register_scope(model: type[Model], scoper: Scoper) -> None:
    """Declare how to scope a model's querysets; upper apps call this from their selectors module.

    A registry rather than imports keeps the layering: this core module never imports an app above it.
    """
    _SCOPERS[model._meta.label_lower] = scoper


def _scoper_for(model: type[Model]) -> Scoper:
    label = model._meta.label_lower
    if label not in _SCOPERS:
        # By convention an app registers its models' scopes in `<app>.selectors`; importing it here
        # means a worker or shell that never loaded the admin still scopes correctly.
        with contextlib.suppress(ModuleNotFoundError):
            import_module(f"{model._meta.app_config.name}.selectors")
    try:
        return _SCOPERS[label]
    except KeyError:
        raise ImproperlyConfigured(
            f"No scope is registered for {model._meta.label}: call assist_center.scopes.register_scope "
            f"in {model._meta.app_label}/selectors.py."
        ) from None


def scope_queryset(qs: QuerySet[M], user: Any) -> QuerySet[M]:
    """Apply the registered scope of the queryset's model."""
    return _scoper_for(qs.model)(qs, user)


def get_in_scope_or_404(qs: QuerySet[M], user: Any, **lookup: Any) -> M:
    """The object matching `lookup` if the user may see it; Http404 alike for missing and out of scope."""
    try:
        return scope_queryset(qs, user).get(**lookup)
    except (ObjectDoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404 from None


register_scope(Region, scope_regions)
register_scope(AuditEvent, scope_audit_events)


def person_label(user: Any, fallback: str = "") -> str:
    """A staff account as colleagues know it: "朱俊（乡镇民政助理员 · 海游街道）", not its username.

    Callers select `profile__region` and `profile__department` with the user.
    """
    if user is None:
        return fallback
    name = str(user.get_full_name() or "").strip() or str(user.get_username())
    try:
        p = user.profile
    except StaffProfile.DoesNotExist:
        p = None
    if p is None:
        return name
    unit = p.department.short_name or p.department.name if p.department_id else ""
    if not unit and p.region_id:
        unit = p.region.name
    role = str(p.get_role_display())
    return f"{name}（{role} · {unit}）" if unit else f"{name}（{role}）"
