"""Admin of the core: regions, departments, staff accounts, the audit log, and third-party models.

Third-party admins (decided here, tested in tests/test_every_url_and_admin_is_scoped.py):
- auth.Group is unregistered: roles live in StaffProfile; groups would be a second, unchecked
  source of rights.
- axes' access attempts and logs are re-registered on CountyWideAdmin: the coordinator reads them
  and may delete an attempt to unlock an account; nobody can add or edit them.
- django_otp's TOTPDevice is re-registered for superusers only: the page shows the secret key and
  its QR code, and whoever sees it can pass another person's second factor.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from assist_center.audit import audit_record
from assist_center.errors import ApplicationError
from assist_center.models import AuditEvent, Department, Region, Role, StaffProfile
from assist_center.permissions import CENTRE_ROLES
from assist_center.services import staff_profile_assign, staff_scope_errors

from .base import ALL_STAFF_ROLES, CountyWideAdmin, ScopedInlineMixin, ScopedModelAdmin

User = get_user_model()


# --- regions ---------------------------------------------------------------------------------


class RegionAdminForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ("code", "name", "level", "kind", "parent")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        level, parent = data.get("level"), data.get("parent")
        expected_parent = {
            Region.Level.TOWNSHIP.value: Region.Level.COUNTY,
            Region.Level.VILLAGE.value: Region.Level.TOWNSHIP,
        }.get(str(level))
        if level == Region.Level.COUNTY and parent is not None:
            self.add_error("parent", _("A county has no parent region."))
        elif expected_parent is not None and (parent is None or parent.level != expected_parent):
            self.add_error("parent", _("The parent region must be one level above this one."))
        return data


@admin.register(Region)
class RegionAdmin(ScopedModelAdmin):
    form = RegionAdminForm
    viewer_roles = CENTRE_ROLES
    editor_roles = (Role.COORDINATOR,)
    list_display = ("code", "name", "level", "kind", "parent")
    list_select_related = ("parent",)
    list_filter = ("level",)
    search_fields = ("code", "name")
    ordering = ("code",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The denormalised `township` (see Region) follows from the parent; nobody types it.
        obj.township = obj.parent if obj.level == Region.Level.VILLAGE else None
        super().save_model(request, obj, form, change)

    def audit_region(self, obj: Model) -> Region | None:
        return obj if isinstance(obj, Region) else None


# --- departments -----------------------------------------------------------------------------


@admin.register(Department)
class DepartmentAdmin(ScopedModelAdmin):
    # Reference data every staff member picks from; the auditor's role is the audit log only.
    viewer_roles = (Role.COORDINATOR, Role.TOWNSHIP_ASSISTANT, Role.VILLAGE_CADRE, Role.DEPARTMENT_STAFF)
    editor_roles = (Role.COORDINATOR,)
    list_display = ("code", "name", "short_name", "takes_referrals", "sort_order")
    search_fields = ("code", "name", "short_name")

    def scope_queryset(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs


# --- staff accounts --------------------------------------------------------------------------


class StaffProfileInlineForm(forms.ModelForm):
    class Meta:
        model = StaffProfile
        fields = ("role", "region", "department", "title")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "role" in data:
            errors = staff_scope_errors(
                role=data["role"], region=data.get("region"), department=data.get("department")
            )
            for field, message in errors.items():
                self.add_error(field, message)
        return data


class StaffProfileInline(ScopedInlineMixin, admin.StackedInline):
    model = StaffProfile
    form = StaffProfileInlineForm
    can_delete = False
    max_num = 1
    fields = ("role", "region", "department", "title")


class UserAdmin(ScopedModelAdmin, DjangoUserAdmin):
    viewer_roles = (Role.COORDINATOR,)
    editor_roles = (Role.COORDINATOR,)
    inlines = (StaffProfileInline,)
    list_display = ("username", "first_name", "role", "scope", "is_active", "last_login")
    list_select_related = ("profile", "profile__region", "profile__department")
    list_filter = ("is_active", "profile__role")
    search_fields = ("username", "first_name", "last_name")
    # Rights come from the StaffProfile role; is_staff follows the role (see staff_profile_assign),
    # and Django's groups and per-model permissions are not used at all.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("is_staff", "is_superuser", "last_login", "date_joined")

    def scope_queryset(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        user: Any = request.user
        # A coordinator must not be able to take over a superuser (reset its password, disable it).
        return qs if user.is_superuser else qs.filter(is_superuser=False)

    @admin.display(description=_("role"), ordering="profile__role")
    def role(self, obj: Any) -> str:
        profile = getattr(obj, "profile", None)
        return profile.get_role_display() if profile else "-"

    @admin.display(description=_("scope"))
    def scope(self, obj: Any) -> str:
        profile = getattr(obj, "profile", None)
        if profile is None:
            return "-"
        return str(profile.region or profile.department or "-")

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # The role is set on the change page, once the account exists.
        return [] if obj is None else super().get_inline_instances(request, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not StaffProfile:
            super().save_formset(request, form, formset, change)
            return
        # Through the service, so the role change is validated and audited like any other.
        for f in formset.forms:
            if not f.has_changed() or not f.cleaned_data:
                continue
            data = f.cleaned_data
            try:
                staff_profile_assign(
                    actor=request.user,
                    user=form.instance,
                    role=data["role"],
                    region=data.get("region"),
                    department=data.get("department"),
                    title=data.get("title", ""),
                )
            except ApplicationError as exc:  # the form validated the same rules; a race at most
                raise PermissionDenied(str(exc.message)) from exc
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and isinstance(response, HttpResponseRedirect):
            audit_record(actor=request.user, action="staff.password_set", subject=("auth.user", id))
        return response


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
admin.site.unregister(Group)


# --- audit log -------------------------------------------------------------------------------

# What each audited action is called (issue 16: no codes on screen). The apps above add their own
# with register_action_labels, as layering forbids importing them; an unknown action shows its code.
ACTION_LABELS: dict[str, Any] = {
    "staff.password_set": _("Password set"),
    "pool.import.start": _("Import started"),
    "pool.import.errors_download": _("Import error report downloaded"),
}


def register_action_labels(labels: dict[str, Any]) -> None:
    ACTION_LABELS.update(labels)


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


class ActionFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        present = model_admin.get_queryset(request).values_list("action", flat=True).distinct()
        return sorted(((code, action_label(code)) for code in present), key=lambda row: row[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(action=value) if value else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedModelAdmin):
    viewer_roles = ALL_STAFF_ROLES
    # No editor, adder or deleter roles: nobody, superusers included, changes the log here.
    editor_roles = ()
    list_display = (
        "created_at",
        "actor_label",
        "action_shown",
        "subject_type",
        "subject_id",
        "region",
        "department",
    )
    list_select_related = ("region", "department")
    list_filter = (ActionFilter,)
    date_hierarchy = "created_at"
    search_fields = ("action", "actor_label", "subject_id")
    readonly_fields = (
        "created_at",
        "actor_label",
        "action_shown",
        "subject_type",
        "subject_id",
        "region",
        "department",
        "old_values",
        "new_values",
        "reason",
        "request_id",
    )
    fields = readonly_fields

    @admin.display(description=_("action"), ordering="action")
    def action_shown(self, obj: AuditEvent) -> str:
        return action_label(obj.action)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


# --- third-party models ----------------------------------------------------------------------


def _rewrap(model: type[Model], wrapper: type[admin.ModelAdmin]) -> None:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, wrapper)


try:
    from axes import admin as axes_admin
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
except ImportError:  # pragma: no cover - axes is in INSTALLED_APPS; kept optional for tooling
    axes_admin = None

if axes_admin is not None and admin.site.is_registered(AccessAttempt):

    class AccessAttemptAdmin(CountyWideAdmin, axes_admin.AccessAttemptAdmin):
        """Lockouts: the coordinator may delete an attempt, which unlocks the account."""

        def has_add_permission(self, request: HttpRequest) -> bool:
            return False

        def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
            return False

        def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
            return self._role_in(request, self.editor_roles)

    class AccessLogAdmin(CountyWideAdmin, axes_admin.AccessLogAdmin):
        def has_add_permission(self, request: HttpRequest) -> bool:
            return False

        def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
            return False

    class AccessFailureLogAdmin(CountyWideAdmin, axes_admin.AccessFailureLogAdmin):
        def has_add_permission(self, request: HttpRequest) -> bool:
            return False

        def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
            return False

    _rewrap(AccessAttempt, AccessAttemptAdmin)
    _rewrap(AccessLog, AccessLogAdmin)
    _rewrap(AccessFailureLog, AccessFailureLogAdmin)


try:
    from django_otp.plugins.otp_totp import admin as totp_admin
    from django_otp.plugins.otp_totp.models import TOTPDevice
except ImportError:  # pragma: no cover
    totp_admin = None

if totp_admin is not None:

    class TOTPDeviceAdmin(CountyWideAdmin, totp_admin.TOTPDeviceAdmin):
        """Second-factor devices: superusers only."""

        viewer_roles = ()
        editor_roles = ()

        def _role_in(self, request: HttpRequest, roles: tuple[Role, ...]) -> bool:
            user: Any = request.user
            return bool(user.is_active and user.is_superuser)

        # The stock views fetch the device before checking permission: a missing pk was a 500
        # and an existing one a 403, which told anyone with staff access which devices exist.
        def config_view(self, request: HttpRequest, pk: int) -> HttpResponse:
            if not self.has_view_or_change_permission(request):
                raise PermissionDenied
            get_object_or_404(TOTPDevice, pk=pk)
            return super().config_view(request, pk)

        def qrcode_view(self, request: HttpRequest, pk: int) -> HttpResponse:
            if not self.has_view_or_change_permission(request):
                raise PermissionDenied
            get_object_or_404(TOTPDevice, pk=pk)
            return super().qrcode_view(request, pk)

    _rewrap(TOTPDevice, TOTPDeviceAdmin)


try:
    from django_otp.plugins.otp_static import admin as static_admin
    from django_otp.plugins.otp_static.models import StaticDevice
except ImportError:  # pragma: no cover
    static_admin = None

if static_admin is not None:

    class StaticDeviceAdmin(CountyWideAdmin, static_admin.StaticDeviceAdmin):
        """Recovery codes: superusers see how many are left and may revoke them, nothing else.

        The stored tokens are digests (assist_center/two_factor.py); a token typed in here would
        never verify, so codes are issued only by `manage.py recovery_codes`.
        """

        viewer_roles = ()
        editor_roles = ()
        inlines = ()
        list_display = ("user", "name", "codes_left", "created_at", "last_used_at")
        readonly_fields = ("user", "name", "confirmed", "created_at", "last_used_at")

        def _role_in(self, request: HttpRequest, roles: tuple[Role, ...]) -> bool:
            user: Any = request.user
            return bool(user.is_active and user.is_superuser)

        def has_add_permission(self, request: HttpRequest) -> bool:
            return False

        def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
            return False

        @admin.display(description=_("codes left"))
        def codes_left(self, obj: StaticDevice) -> int:
            return obj.token_set.count()

    _rewrap(StaticDevice, StaticDeviceAdmin)
