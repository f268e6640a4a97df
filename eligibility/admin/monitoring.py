"""Monitoring warnings, discovery leads and the what-if of a new standard, in the admin.

Warnings and leads are scoped to the township (a village cadre sees the village's, read-only);
they are never edited through the stock form: a warning is resolved and a lead handled on their
own pages, through the services that check the role, win races and write the audit events.
The what-if page hangs off the warnings admin (`monitoringwarning/what-if/`) and is the
coordinator's alone. Evidence is shown as categories, dates and amounts: no ID number, plain or
hashed, reaches these pages.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from applications.admin.access import HouseholdAccessAdminMixin
from applications.models import AccessPurpose
from applications.services.access import household_access_record, household_access_record_many
from assist_center.admin.base import REGIONAL_ROLES, ScopedModelAdmin
from assist_center.errors import ApplicationError
from assist_center.models import Department, Region
from assist_center.permissions import may_handle_monitoring, may_submit_on_behalf
from assist_center.pii import mask_name
from assist_center.scopes import is_county_wide
from assist_center.staff_views import add_service_errors

from ..models import DiscoveryLead, MonitoringWarning
from ..monitoring_rules import CHANGE_LABELS, REASON_LABELS
from ..pool.categories import CATEGORIES
from ..rules import ITEM_LABELS, ITEMS, OUTCOME_LABELS
from ..selectors import scope_lead_qs, scope_warning_qs
from ..services.discovery import lead_convert, lead_dismiss
from ..services.monitoring import (
    GRACE_MONTHS_DEFAULT,
    GRACE_MONTHS_RANGE,
    warning_resolve,
)
from ..services.whatif import WhatIfResult, whatif_csv, whatif_run
from ..standards import standards_in_force

_EVIDENCE_LABELS = {
    "category": _("Record category"),
    "department": _("Source department"),
    "source_record_id": _("Source record id"),
    "effective_date": _("Effective date"),
    "values": _("Values"),
    "monthly_income": _("Monthly income"),
    "per_person_month": _("Per person per month"),
    "household_size": _("Household members"),
    "standard_per_person_month": _("Dibao standard per person per month"),
    "out_of_pocket_12m": _("Out-of-pocket medical spending, last 12 months"),
    "annual_household_income": _("Annual household income"),
    "threshold": _("Threshold"),
    "remaining_members": _("Living members"),
}


def department_name(code: str) -> str:
    """A department's name for its code (the evidence keeps the code, people read the name)."""
    name = Department.objects.filter(code=code).values_list("name", flat=True).first()
    return name or code


def evidence_rows(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    """Evidence as (label, text) rows: the category's Chinese name, the values spelled out."""
    rows: list[tuple[str, str]] = []
    for key, value in evidence.items():
        # The record's amount divided by the household is a second per-capita income beside the
        # re-check's (the rules' 12-month figure): one page, one figure, one definition.
        if key in ("recheck", "monthly_income", "per_person_month"):
            continue
        if key == "category":
            spec = CATEGORIES.get(str(value))
            text = spec.name if spec is not None else str(value)
        elif key == "department":
            text = department_name(str(value))
        elif key == "values" and isinstance(value, dict):
            spec = CATEGORIES.get(str(evidence.get("category", "")))
            labels = {f.name: f.label.split("（")[0] for f in spec.fields} if spec is not None else {}
            text = "；".join(f"{labels.get(k, k)}：{v}" for k, v in value.items())
        else:
            text = str(value)
        rows.append((str(_EVIDENCE_LABELS.get(key, key)), text))
    return rows


def evidence_html(evidence: dict[str, Any]) -> str:
    rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", evidence_rows(evidence))
    return format_html("<table>{}</table>", rows)


def recheck_rows(evidence: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    out = []
    for item, result in (evidence.get("recheck") or {}).items():
        outcome = result.get("outcome", "")
        label = next((v for k, v in OUTCOME_LABELS.items() if str(k) == outcome), str(outcome))
        out.append((ITEM_LABELS.get(item, item), label, list(result.get("reasons", []))))
    return out


# --- warnings ----------------------------------------------------------------------------------


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(
        label=_("Resolution"),
        choices=[
            (MonitoringWarning.Status.NO_EFFECT, _("No effect")),
            (MonitoringWarning.Status.ADJUSTED, _("Assistance adjusted")),
            (MonitoringWarning.Status.EXIT_STARTED, _("Start a gradual exit")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("What you found and decided"), widget=forms.Textarea, max_length=2000)
    grace_months = forms.TypedChoiceField(
        label=_("Grace period (months)"),
        coerce=int,
        choices=[(n, str(n)) for n in range(GRACE_MONTHS_RANGE[0], GRACE_MONTHS_RANGE[1] + 1)],
        initial=GRACE_MONTHS_DEFAULT,
        required=False,
        help_text=_("Only for a gradual exit: assistance continues until the grace period ends."),
    )


class WhatIfForm(forms.Form):
    item = forms.ChoiceField(label=_("Assistance item"), choices=[(k, ITEM_LABELS[k]) for k in ITEMS])
    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=Region.objects.filter(level__in=[Region.Level.COUNTY, Region.Level.TOWNSHIP]).order_by(
            "code"
        ),
        required=False,
        empty_label=str(_("The county")),
    )
    params = forms.CharField(
        label=_("New parameters (JSON)"), widget=forms.Textarea(attrs={"rows": 8, "cols": 70})
    )
    as_of = forms.DateField(label=_("Facts as of"), required=False)

    def clean_params(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["params"])
        except ValueError:
            raise forms.ValidationError(_("Enter the parameters as a JSON object.")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Enter the parameters as a JSON object."))
        return value


class LabelledFilter(admin.SimpleListFilter):
    """A filter over a code column that shows each code's Chinese label, never the code."""

    labels: dict[str, Any] = {}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        codes = model_admin.get_queryset(request).values_list(self.parameter_name, flat=True)
        present = set(codes.distinct())
        return [(code, str(label)) for code, label in self.labels.items() if code in present]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(**{str(self.parameter_name): value}) if value else queryset


class ChangeFilter(LabelledFilter):
    title = _("change")
    parameter_name = "change"
    labels = CHANGE_LABELS


class ItemFilter(LabelledFilter):
    title = _("assistance item")
    parameter_name = "item"
    labels = dict(ITEM_LABELS)


class ReasonFilter(LabelledFilter):
    title = _("reason")
    parameter_name = "reason"
    labels = REASON_LABELS


def _post_only(request: HttpRequest) -> None:
    if request.method != "POST":
        raise PermissionDenied


@admin.register(MonitoringWarning)
class MonitoringWarningAdmin(HouseholdAccessAdminMixin, ScopedModelAdmin):
    household_access_purpose = AccessPurpose.MONITORING
    viewer_roles = REGIONAL_ROLES
    list_display = (
        "household_ref",
        "township",
        "change_label",
        "item_label",
        "due",
        "status",
        "resolve_link",
    )
    list_select_related = ("township", "household__village")
    list_filter = ("status", ChangeFilter, ItemFilter)
    search_fields = ("=household__id",)
    ordering = ("status", "due_date", "id")
    readonly_fields = (
        "household_ref",
        "township",
        "change_label",
        "item_label",
        "evidence_table",
        "due_date",
        "status",
        "resolution_note",
        "grace_until",
        "resolved_by",
        "resolved_at",
        "created_at",
    )
    fields = readonly_fields
    change_list_template = "admin/eligibility/monitoringwarning/change_list.html"

    def scope_queryset(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        return scope_warning_qs(qs, request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def audit_region(self, obj: Model) -> Region | None:
        return obj.household.village if isinstance(obj, MonitoringWarning) else None

    @admin.display(description=_("household"), ordering="household_id")
    def household_ref(self, obj: MonitoringWarning) -> str:
        return f"{obj.household.village.name} #{obj.household_id}"

    @admin.display(description=_("change"), ordering="change")
    def change_label(self, obj: MonitoringWarning) -> str:
        return CHANGE_LABELS.get(obj.change, obj.change)

    @admin.display(description=_("assistance item affected"), ordering="item")
    def item_label(self, obj: MonitoringWarning) -> str:
        return ITEM_LABELS.get(obj.item, obj.item)

    @admin.display(description=_("due date"), ordering="due_date")
    def due(self, obj: MonitoringWarning) -> str:
        today = timezone.localdate()
        if obj.status != MonitoringWarning.Status.OPEN:
            css = "due-closed"
        elif obj.due_date < today:
            css = "due-overdue"
        elif obj.due_date == today:
            css = "due-today"
        else:
            css = "due-open"
        return format_html('<span class="{}">{}</span>', css, obj.due_date.isoformat())

    @admin.display(description=_("action"))
    def resolve_link(self, obj: MonitoringWarning) -> str:
        if obj.status != MonitoringWarning.Status.OPEN:
            return ""
        url = reverse("admin:eligibility_monitoringwarning_resolve", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Resolve"))

    @admin.display(description=_("evidence"))
    def evidence_table(self, obj: MonitoringWarning) -> str:
        return evidence_html(obj.evidence)

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        return shown if may_handle_monitoring(request.user) else [f for f in shown if f != "resolve_link"]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {
            "whatif_url": reverse("admin:eligibility_monitoringwarning_whatif")
            if is_county_wide(request.user)
            else "",
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        custom = [
            path("what-if/", view(self.whatif_view), name="eligibility_monitoringwarning_whatif"),
            path("what-if/csv/", view(self.whatif_csv_view), name="eligibility_monitoringwarning_whatif_csv"),
            path(
                "<path:object_id>/resolve/",
                view(self.resolve_view),
                name="eligibility_monitoringwarning_resolve",
            ),
        ]
        return custom + super().get_urls()

    # --- resolve ---------------------------------------------------------------------------------

    def resolve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        warning = self.get_object(request, unquote(object_id))  # Http404 out of scope
        if not self.has_view_permission(request, warning):
            raise Http404
        if not may_handle_monitoring(request.user):
            raise PermissionDenied
        household_access_record(
            actor=request.user,
            household_id=warning.household_id,
            purpose=AccessPurpose.MONITORING,
            subject=warning,
        )
        form = ResolveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                warning_resolve(
                    actor=request.user,
                    warning_id=warning.pk,
                    resolution=data["resolution"],
                    note=data["note"],
                    grace_months=data.get("grace_months") or None,
                )
            except ApplicationError as exc:
                add_service_errors(form, exc)
                if not exc.extra.get("fields"):
                    messages.error(request, str(exc.message))
                    if exc.status == 409:
                        return HttpResponseRedirect(reverse("admin:eligibility_monitoringwarning_changelist"))
            else:
                messages.success(request, _("The warning has been resolved."))
                return HttpResponseRedirect(reverse("admin:eligibility_monitoringwarning_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Resolve a monitoring warning"),
            "opts": self.opts,
            "warning": warning,
            "household": self.household_ref(warning),
            "change_label": self.change_label(warning),
            "item_label": self.item_label(warning),
            "evidence": evidence_rows(warning.evidence),
            "recheck": recheck_rows(warning.evidence),
            "is_open": warning.status == MonitoringWarning.Status.OPEN,
            "form": form,
        }
        return TemplateResponse(request, "admin/eligibility/monitoringwarning/resolve.html", context)

    # --- what-if -------------------------------------------------------------------------------

    def _whatif_form(self, request: HttpRequest) -> WhatIfForm:
        if request.method == "POST":
            return WhatIfForm(request.POST)
        item = request.GET.get("item", "dibao")
        item = item if item in ITEMS else "dibao"
        county = Region.objects.filter(level=Region.Level.COUNTY).order_by("code").first()
        current = standards_in_force(county, timezone.localdate()).get(item) if county is not None else None
        params = current.params if current is not None else {}
        return WhatIfForm(initial={"item": item, "params": json.dumps(params, ensure_ascii=False, indent=2)})

    def _whatif_result(self, request: HttpRequest, form: WhatIfForm, *, audit: bool) -> WhatIfResult | None:
        if not form.is_valid():
            return None
        data = form.cleaned_data
        try:
            return whatif_run(
                actor=request.user,
                item=data["item"],
                params=data["params"],
                region=data.get("region"),
                as_of=data.get("as_of") or None,
                audit=audit,
            )
        except ApplicationError as exc:
            fields = exc.extra.get("fields") or {}
            for name, message in fields.items():
                form.add_error("params" if name not in form.fields else name, f"{name}: {message}")
            if not fields:
                form.add_error(None, str(exc.message))
            return None

    def whatif_view(self, request: HttpRequest) -> HttpResponse:
        if not is_county_wide(request.user):
            raise PermissionDenied
        form = self._whatif_form(request)
        result = self._whatif_result(request, form, audit=True) if request.method == "POST" else None
        if result is not None:
            household_access_record_many(
                actor=request.user,
                household_ids=[row.household_id for row in result.rows[:500]],
                purpose=AccessPurpose.SIMULATION,
                subject=("eligibility.standard", result.item),
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("What if a new standard took effect"),
            "opts": self.opts,
            "form": form,
            "result": result,
            "rows": result.rows[:500] if result is not None else [],
            "outcome_labels": {str(k): v for k, v in OUTCOME_LABELS.items()},
            "item_label": ITEM_LABELS.get(result.item, "") if result is not None else "",
            "csv_url": reverse("admin:eligibility_monitoringwarning_whatif_csv"),
        }
        return TemplateResponse(request, "admin/eligibility/monitoringwarning/whatif.html", context)

    def whatif_csv_view(self, request: HttpRequest) -> HttpResponse:
        if not is_county_wide(request.user):
            raise PermissionDenied
        _post_only(request)
        form = WhatIfForm(request.POST)
        result = self._whatif_result(request, form, audit=False)
        if result is None:
            messages.error(request, _("Check the what-if form."))
            return HttpResponseRedirect(reverse("admin:eligibility_monitoringwarning_whatif"))
        household_access_record_many(
            actor=request.user,
            household_ids=[row.household_id for row in result.rows],
            purpose=AccessPurpose.EXPORT,
            subject=("eligibility.standard", result.item),
        )
        return whatif_csv(actor=request.user, result=result)


# --- leads -------------------------------------------------------------------------------------


class DismissForm(forms.Form):
    reason = forms.CharField(label=_("Why no outreach is needed"), widget=forms.Textarea, max_length=1000)


@admin.register(DiscoveryLead)
class DiscoveryLeadAdmin(HouseholdAccessAdminMixin, ScopedModelAdmin):
    household_access_purpose = AccessPurpose.DISCOVERY
    viewer_roles = REGIONAL_ROLES
    list_display = (
        "reason_label",
        "township",
        "village",
        "person_masked",
        "created_at",
        "status",
        "handle_link",
    )
    list_select_related = ("township", "person__household__village")
    list_filter = ("status", ReasonFilter)
    ordering = ("status", "-created_at")
    readonly_fields = (
        "reason_label",
        "township",
        "village",
        "person_masked",
        "evidence_table",
        "status",
        "dismissed_reason",
        "application",
        "handled_by",
        "created_at",
    )
    fields = readonly_fields

    def scope_queryset(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        return scope_lead_qs(qs, request.user)

    def household_access_household_id(self, obj: DiscoveryLead) -> int | None:
        return obj.person.household_id if obj.person is not None else None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def audit_region(self, obj: Model) -> Region | None:
        if isinstance(obj, DiscoveryLead) and obj.person is not None:
            return obj.person.household.village
        return None

    @admin.display(description=_("reason"), ordering="reason")
    def reason_label(self, obj: DiscoveryLead) -> str:
        return REASON_LABELS.get(obj.reason, obj.reason)

    @admin.display(description=_("village"))
    def village(self, obj: DiscoveryLead) -> str:
        return obj.person.household.village.name if obj.person is not None else ""

    @admin.display(description=_("person"))
    def person_masked(self, obj: DiscoveryLead) -> str:
        return mask_name(obj.person.name) if obj.person is not None else ""

    @admin.display(description=_("evidence"))
    def evidence_table(self, obj: DiscoveryLead) -> str:
        return evidence_html(obj.evidence)

    @admin.display(description=_("action"))
    def handle_link(self, obj: DiscoveryLead) -> str:
        if obj.status != DiscoveryLead.Status.OPEN:
            return ""
        url = reverse("admin:eligibility_discoverylead_handle", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Handle"))

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        return shown if may_handle_monitoring(request.user) else [f for f in shown if f != "handle_link"]

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        custom = [
            path("<path:object_id>/handle/", view(self.handle_view), name="eligibility_discoverylead_handle"),
        ]
        return custom + super().get_urls()

    def handle_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the lead and its two forms. POST action=convert or action=dismiss (with a reason)."""
        lead = self.get_object(request, unquote(object_id))  # Http404 out of scope
        if not self.has_view_permission(request, lead):
            raise Http404
        if not may_handle_monitoring(request.user):
            raise PermissionDenied
        household_access_record(
            actor=request.user,
            household_id=self.household_access_household_id(lead),
            purpose=AccessPurpose.DISCOVERY,
            subject=lead,
        )
        dismiss_form = DismissForm(request.POST if request.POST.get("action") == "dismiss" else None)
        back = reverse("admin:eligibility_discoverylead_changelist")
        if request.method == "POST":
            action = request.POST.get("action")
            try:
                if action == "convert":
                    application = lead_convert(actor=request.user, lead_id=lead.pk)
                    messages.success(
                        request,
                        _(
                            "Application %(code)s was submitted on the household's behalf; "
                            "the family now signs."
                        )
                        % {"code": application.receipt_code},
                    )
                    return HttpResponseRedirect(
                        reverse("admin:applications_application_change", args=[application.pk])
                    )
                if action == "dismiss" and dismiss_form.is_valid():
                    lead_dismiss(
                        actor=request.user, lead_id=lead.pk, reason=dismiss_form.cleaned_data["reason"]
                    )
                    messages.success(request, _("The lead has been dismissed."))
                    return HttpResponseRedirect(back)
            except ApplicationError as exc:
                if exc.status == 403:
                    raise PermissionDenied(str(exc.message)) from None
                if not add_service_errors(dismiss_form, exc):
                    messages.error(request, str(exc.message))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Handle a discovery lead"),
            "opts": self.opts,
            "lead": lead,
            "reason_label": self.reason_label(lead),
            "village": self.village(lead),
            "person": self.person_masked(lead),
            "evidence": evidence_rows(lead.evidence),
            "is_open": lead.status == DiscoveryLead.Status.OPEN,
            "can_convert": may_submit_on_behalf(request.user),
            "dismiss_form": dismiss_form,
        }
        return TemplateResponse(request, "admin/eligibility/discoverylead/handle.html", context)
