"""Cases, referrals and their configuration in the admin.

Cases and referrals are read here, never edited: each change is a service with its own rules,
races and audit event (the workbench, the coordinator's pages and the API call them). Scopes come
from referrals.selectors: the coordinator sees the county, a township assistant their township,
department staff their department's referrals only (no case pages: a case shows every
department's referral).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from applications.admin.access import HouseholdAccessAdminMixin
from applications.models import AccessPurpose
from assist_center.admin.base import CountyWideAdmin, ScopedInlineMixin, ScopedModelAdmin
from assist_center.admin.core import register_action_labels
from assist_center.audit import audit_record
from assist_center.models import Department, Region
from assist_center.permissions import CENTRE_ROLES, REFERRAL_ROLES
from assist_center.phones import InvalidPhone, mask_phone, normalise_mobile
from assist_center.pii import phone_index
from assist_center.scopes import is_county_wide
from eligibility.rules import ITEM_LABELS

from .labels import ACTION_LABELS as WORKBENCH_ACTIONS
from .models import (
    Case,
    Colour,
    DeadlineRule,
    DepartmentContact,
    Notification,
    OutsidePolicyNeed,
    Referral,
    WorkChannel,
)


class _ColourMedia:
    css = {"all": ("referrals/admin.css",)}


def colour_badge(colour: str) -> SafeString:
    label = dict(Colour.choices).get(colour, colour)
    return format_html('<span class="referral-colour referral-colour-{}">{}</span>', colour, label)


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReferralInline(ScopedInlineMixin, admin.TabularInline):
    model = Referral
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("department", "items", "title", "status", "badge", "due_date", "allotted_days", "paused_days")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("department")

    @admin.display(description=_("warning"))
    def badge(self, obj: Referral) -> SafeString:
        return colour_badge(obj.colour)


@admin.register(Case)
class CaseAdmin(_ReadOnly, HouseholdAccessAdminMixin, ScopedModelAdmin):
    household_access_purpose = AccessPurpose.CASE
    viewer_roles = CENTRE_ROLES
    list_display = (
        "receipt",
        "township",
        "village",
        "status",
        "opened_at",
        "closed_at",
        "working_days_to_close",
    )
    list_select_related = ("application", "township", "village")
    list_filter = ("status",)
    search_fields = ("application__receipt_code",)
    inlines = [ReferralInline]
    fields = (
        "application",
        "township",
        "village",
        "status",
        "opened_at",
        "closed_at",
        "working_days_to_close",
    )
    readonly_fields = fields
    Media = _ColourMedia

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).defer("application__form_pdf")

    def audit_region(self, obj: Model) -> Region | None:
        return obj.village if isinstance(obj, Case) else None

    def household_access_household_id(self, obj: Any) -> int | None:
        return obj.application.household_id

    @admin.display(description=_("receipt code"), ordering="application__receipt_code")
    def receipt(self, obj: Case) -> str:
        return obj.application.receipt_code


@admin.register(Referral)
class ReferralAdmin(_ReadOnly, HouseholdAccessAdminMixin, ScopedModelAdmin):
    household_access_purpose = AccessPurpose.REFERRAL_BRIEF
    viewer_roles = REFERRAL_ROLES
    list_display = (
        "id",
        "department",
        "township",
        "items",
        "title",
        "status",
        "badge",
        "due_date",
        "allotted_days",
    )
    list_select_related = ("department", "township")
    list_filter = ("status", "colour", "department")
    search_fields = ("title",)
    fields = (
        "department",
        "township",
        "items",
        "title",
        "status",
        "badge",
        "allotted_days",
        "start_date",
        "due_date",
        "provisional",
        "paused_since",
        "paused_days",
        "return_reason",
        "note",
        "brief",
        "created_at",
        "accepted_at",
        "finished_at",
    )
    readonly_fields = fields
    Media = _ColourMedia

    def audit_department(self, obj: Model) -> Department | None:
        return obj.department if isinstance(obj, Referral) else None

    def household_access_household_id(self, obj: Any) -> int | None:
        return obj.case.application.household_id

    @admin.display(description=_("warning"), ordering="colour")
    def badge(self, obj: Referral) -> SafeString:
        return colour_badge(obj.colour)

    def get_list_filter(self, request: HttpRequest) -> Any:
        # A department filter would list every department to a clerk who only ever sees one.
        if is_county_wide(request.user):
            return self.list_filter
        return ("status", "colour")


@admin.register(Notification)
class NotificationAdmin(_ReadOnly, ScopedModelAdmin):
    viewer_roles = REFERRAL_ROLES
    list_display = ("created_at", "referral_id", "department", "audience", "colour", "read_at")
    list_select_related = ("department",)
    list_filter = ("colour", "audience")
    fields = ("referral", "audience", "department", "colour", "created_at", "read_at")
    readonly_fields = fields


@admin.register(OutsidePolicyNeed)
class OutsidePolicyNeedAdmin(_ReadOnly, HouseholdAccessAdminMixin, ScopedModelAdmin):
    household_access_purpose = AccessPurpose.CASE
    viewer_roles = CENTRE_ROLES
    list_display = ("short_text", "township", "publish_consent", "share_consent", "created_at")
    list_select_related = ("township",)
    list_filter = ("publish_consent", "share_consent")
    fields = ("case", "township", "text", "publish_consent", "share_consent", "created_at")
    readonly_fields = fields

    def audit_region(self, obj: Model) -> Region | None:
        return obj.township if isinstance(obj, OutsidePolicyNeed) else None

    def household_access_household_id(self, obj: Any) -> int | None:
        application = (
            obj.application if obj.application_id else (obj.case.application if obj.case_id else None)
        )
        return application.household_id if application is not None else None

    @admin.display(description=_("need"))
    def short_text(self, obj: OutsidePolicyNeed) -> str:
        return obj.text[:40]


class _AuditedCountyWide(CountyWideAdmin):
    """County-wide configuration whose every change is audited (house-style: no silent change)."""

    # Audited by name only (that it changed), never by value.
    secret_fields: tuple[str, ...] = ("phone",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        names = [n for n in form.changed_data if n not in self.secret_fields]
        audit_record(
            actor=request.user,
            action=f"admin.{obj._meta.model_name}.{'change' if change else 'add'}",
            subject=obj,
            old={n: form.initial.get(n) for n in names} if change else {},
            new={n: form.cleaned_data.get(n) for n in names},
        )


# The workbench's words for the referral actions name them in the audit log's list too (issue 16).
register_action_labels(WORKBENCH_ACTIONS)


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(_AuditedCountyWide):
    list_display = ("department", "item_label", "days")
    list_select_related = ("department",)
    list_filter = ("department",)
    ordering = ("department__sort_order", "item")

    @admin.display(description=_("assistance item"), ordering="item")
    def item_label(self, obj: DeadlineRule) -> str:
        # Issue 16: the item's Chinese name, not its code; a rule for every item has none.
        return ITEM_LABELS.get(obj.item, obj.item) if obj.item else str(_("Every item (the default)"))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "department":
            kwargs["queryset"] = Department.objects.filter(takes_referrals=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class DepartmentContactForm(forms.ModelForm):
    phone = forms.CharField(label=_("phone"), max_length=32, required=True)

    class Meta:
        model = DepartmentContact
        fields = ("department", "label", "phone", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Never echo the stored number into the page: a blank keeps it (required only on add).
            self.initial["phone"] = ""
            self.fields["phone"].required = False
            self.fields["phone"].help_text = _("Leave blank to keep %(mask)s.") % {
                "mask": mask_phone(self.instance.phone)
            }

    def clean_phone(self) -> str:
        raw = self.cleaned_data.get("phone", "")
        if not raw and self.instance.pk:
            return str(self.instance.phone)
        try:
            return normalise_mobile(raw)
        except InvalidPhone as exc:
            raise forms.ValidationError(exc.messages) from None

    def save(self, commit: bool = True) -> Any:
        obj = super().save(commit=False)
        obj.phone_hash = phone_index(obj.phone)
        if commit:
            obj.save()
        return obj


@admin.register(DepartmentContact)
class DepartmentContactAdmin(_AuditedCountyWide):
    form = DepartmentContactForm
    list_display = ("department", "label", "masked_phone", "active")
    list_select_related = ("department",)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: DepartmentContact) -> str:
        return mask_phone(obj.phone)


class WorkChannelForm(forms.ModelForm):
    """The robot's webhook and secret are written, never shown again: blank keeps the stored one."""

    webhook_url = forms.URLField(
        label=_("webhook address"),
        max_length=500,
        assume_scheme="https",
        help_text=_("The group robot's address, https://…/robot/send?access_token=…"),
    )
    secret = forms.CharField(
        label=_("signing secret"),
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("The robot's 加签 secret (starts with SEC)."),
    )

    class Meta:
        model = WorkChannel
        fields = ("department", "township", "kind", "label", "webhook_url", "secret", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("webhook_url", "secret"):
                self.initial[name] = ""
                self.fields[name].required = False
                self.fields[name].help_text = _("Leave blank to keep the stored value.")

    def _kept(self, name: str) -> str:
        raw = str(self.cleaned_data.get(name) or "").strip()
        return raw or (str(getattr(self.instance, name)) if self.instance.pk else "")

    def clean_webhook_url(self) -> str:
        url = self._kept("webhook_url")
        if not url.startswith("https://"):
            raise forms.ValidationError(_("The webhook address must start with https://."))
        return url

    def clean_secret(self) -> str:
        return self._kept("secret")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("department")) == bool(data.get("township")):
            raise forms.ValidationError(_("Choose either a department or a township."))
        return data


@admin.register(WorkChannel)
class WorkChannelAdmin(_AuditedCountyWide):
    """浙政钉 / DingTalk robots that departments and townships receive their notices in (issue 13)."""

    form = WorkChannelForm
    secret_fields = ("webhook_url", "secret")
    list_display = ("label", "kind", "department", "township", "active")
    list_select_related = ("department", "township")
    list_filter = ("kind", "active")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "township":
            kwargs["queryset"] = Region.objects.filter(level=Region.Level.TOWNSHIP)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
