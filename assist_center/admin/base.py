"""Base ModelAdmin classes: every admin in the project derives from one of these.

- `CountyWideAdmin`: county-wide configuration (calendar, SMS, outbox), the coordinator's alone.
- `ScopedModelAdmin`: data that belongs to a township, village or department. Its queryset,
  permissions, related-field choices, autocomplete, search and actions all go through
  `assist_center.scopes`, and an object outside the user's scope answers 404 like a missing one.

Permissions come from the StaffProfile role, not from Django's per-model permissions: a role is
the unit that security.md grants rights to, and one source of truth cannot drift from another.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.db.models import ForeignKey, ManyToManyField, Model, QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest

from assist_center.audit import audit_record
from assist_center.models import Department, Region, Role
from assist_center.scopes import role_of, scope_queryset

ALL_STAFF_ROLES: tuple[Role, ...] = (
    Role.COORDINATOR,
    Role.TOWNSHIP_ASSISTANT,
    Role.VILLAGE_CADRE,
    Role.DEPARTMENT_STAFF,
    Role.AUDITOR,
)
REGIONAL_ROLES: tuple[Role, ...] = (Role.COORDINATOR, Role.TOWNSHIP_ASSISTANT, Role.VILLAGE_CADRE)


def user_has_role(request: HttpRequest, roles: tuple[Role, ...]) -> bool:
    """Active, and a superuser or one of `roles`. No roles means nobody, not even a superuser."""
    user: Any = request.user
    if not roles:
        return False
    return bool(user.is_active and (user.is_superuser or role_of(user) in roles))


class SafeChangelistMixin:
    """Bad filter values in a changelist's query string are ignored, never a 500 (issue 17).

    Django turns most of them into IncorrectLookupParameters (a redirect to the unfiltered list,
    `?e=1`), but not those that fail only when the query runs: a NUL byte (PostgreSQL text cannot
    hold one) or a year outside 1-9999 (Python's date). The changelist counts its rows while it is
    built, so those errors surface here and take the same way out.
    """

    # No model has a page of its own outside the admin, and the shortcut view is gone (site.py).
    view_on_site = False

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        if any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values):
            raise IncorrectLookupParameters
        try:
            return super().get_changelist_instance(request)  # type: ignore[misc]
        except (ValueError, OverflowError, DataError, DjangoValidationError) as exc:
            raise IncorrectLookupParameters from exc


class CountyWideAdmin(SafeChangelistMixin, admin.ModelAdmin):
    """County-wide configuration (calendar, SMS, outbox): the coordinator's; nobody else sees it."""

    viewer_roles: tuple[Role, ...] = (Role.COORDINATOR,)
    editor_roles: tuple[Role, ...] = (Role.COORDINATOR,)

    def _role_in(self, request: HttpRequest, roles: tuple[Role, ...]) -> bool:
        user: Any = request.user
        return bool(user.is_active and (user.is_superuser or role_of(user) in roles))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.viewer_roles)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._role_in(request, self.viewer_roles)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._role_in(request, self.editor_roles)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.editor_roles)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        return qs if self._role_in(request, self.viewer_roles) else qs.none()


# Set on an instance that get_object() fetched through the scoped queryset, so that the several
# has_*_permission(obj) calls of one change view do not each re-query the scope.
_SCOPED_FOR = "_scoped_admin_checked_for"


class ScopedModelAdmin(SafeChangelistMixin, admin.ModelAdmin):
    """A ModelAdmin whose every read and write is limited to the user's scope.

    Subclasses set the roles and, if the model has no scope registered in assist_center.scopes,
    override `scope_queryset`. `viewer_roles` may see in-scope rows, `editor_roles` change them,
    `adder_roles` (default: editors) add, `deleter_roles` delete. Superusers pass every role check
    but are still subject to anything a subclass forbids outright.
    """

    viewer_roles: tuple[Role, ...] = ()
    editor_roles: tuple[Role, ...] = ()
    adder_roles: tuple[Role, ...] | None = None
    deleter_roles: tuple[Role, ...] = ()
    # Fields never written to the audit trail by save_model (secrets; PII is masked anyway).
    audit_exclude_fields: tuple[str, ...] = ("password", "password1", "password2", "usable_password")

    # --- scope ---------------------------------------------------------------------------------

    def scope_queryset(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        """Narrow `qs` to the user's scope; the default is the scope registered for the model."""
        return scope_queryset(qs, request.user)

    def _can_view(self, request: HttpRequest) -> bool:
        return user_has_role(request, self.viewer_roles) or user_has_role(request, self.editor_roles)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if not self._can_view(request):
            return qs.none()
        return self.scope_queryset(request, qs)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        # The stock admin redirects to the index with "doesn't exist" and checks permissions first
        # (a 403 would confirm the object exists); security.md wants out of scope to look missing.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        setattr(obj, _SCOPED_FOR, request.user.pk)
        return obj

    def in_scope(self, request: HttpRequest, obj: Model) -> bool:
        if getattr(obj, _SCOPED_FOR, None) == request.user.pk and request.user.pk is not None:
            return True
        ok = self.get_queryset(request).filter(pk=obj.pk).exists()
        if ok:
            setattr(obj, _SCOPED_FOR, request.user.pk)
        return ok

    # --- permissions ---------------------------------------------------------------------------

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._can_view(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._can_view(request) and (obj is None or self.in_scope(request, obj))

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return user_has_role(request, self.editor_roles) and (obj is None or self.in_scope(request, obj))

    def has_add_permission(self, request: HttpRequest) -> bool:
        roles = self.editor_roles if self.adder_roles is None else self.adder_roles
        return user_has_role(request, roles)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return user_has_role(request, self.deleter_roles) and (obj is None or self.in_scope(request, obj))

    # Actions need nothing extra: Django drops those whose `allowed_permissions` the user lacks
    # (delete_selected needs delete), and an action receives the changelist's scoped queryset.

    # --- related fields, autocomplete, search --------------------------------------------------

    def related_choices(self, request: HttpRequest, model: type[Model]) -> QuerySet[Any]:
        """The rows of `model` this user may pick in a form: the related admin's own scope."""
        related_admin = self.admin_site._registry.get(model)
        if isinstance(related_admin, ScopedModelAdmin | CountyWideAdmin):
            return related_admin.get_queryset(request)
        if model is Department:
            # Departments are public reference data (the same list is on every referral form).
            return Department.objects.all()
        if model is Region:
            return scope_queryset(Region.objects.all(), request.user)
        # Deny by default: an unknown related model offers no choices until a subclass says so.
        return model._default_manager.none()

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if "queryset" not in kwargs:
            kwargs["queryset"] = self.related_choices(request, db_field.remote_field.model)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField | None:
        if "queryset" not in kwargs:
            kwargs["queryset"] = self.related_choices(request, db_field.remote_field.model)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # The autocomplete view passes get_queryset() here, but a caller may pass any queryset:
        # narrowing again is cheap and makes this method safe on its own.
        qs, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if not self._can_view(request):
            return qs.none(), False
        return self.scope_queryset(request, qs), may_have_duplicates

    # --- audit ---------------------------------------------------------------------------------

    def audit_region(self, obj: Model) -> Region | None:
        """The region an admin change to `obj` is filed under, for township-scoped audit views."""
        return None

    def audit_department(self, obj: Model) -> Department | None:
        return None

    def _form_changes(self, form: Form, change: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        names = [n for n in form.changed_data if n not in self.audit_exclude_fields]
        old = {n: form.initial.get(n) for n in names} if change else {}
        new = {n: form.cleaned_data.get(n) for n in names}
        return old, new

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # house-style: no state change without an audit event; the admin's LogEntry is not
        # append-only and keeps no values, so it does not count.
        super().save_model(request, obj, form, change)
        old, new = self._form_changes(form, change)
        audit_record(
            actor=request.user,
            action=f"admin.{obj._meta.model_name}.{'change' if change else 'add'}",
            subject=obj,
            old=old,
            new=new,
            region=self.audit_region(obj),
            department=self.audit_department(obj),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        region, department = self.audit_region(obj), self.audit_department(obj)
        subject = (obj._meta.label_lower, str(obj.pk))
        super().delete_model(request, obj)
        audit_record(
            actor=request.user,
            action=f"admin.{obj._meta.model_name}.delete",
            subject=subject,
            region=region,
            department=department,
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        # One event per row: a bulk delete must not skip the audit trail (house-style).
        for obj in queryset:
            self.delete_model(request, obj)


class ScopedInlineMixin:
    """Inline permissions follow the parent ScopedModelAdmin's roles instead of Django's perms."""

    admin_site: admin.AdminSite
    parent_model: type[Model]

    def _parent(self) -> ScopedModelAdmin | None:
        parent = self.admin_site._registry.get(self.parent_model)
        return parent if isinstance(parent, ScopedModelAdmin) else None

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        parent = self._parent()
        return parent is not None and parent.has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        parent = self._parent()
        return parent is not None and parent.has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        parent = self._parent()
        return parent is not None and parent.has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        parent = self._parent()
        if "queryset" not in kwargs:
            model: Any = db_field.remote_field.model
            kwargs["queryset"] = (
                parent.related_choices(request, model)
                if parent is not None
                else model._default_manager.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
