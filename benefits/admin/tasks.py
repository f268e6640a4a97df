"""Roll tasks: the township's work on its rolls, the two records side by side, closed through the service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from applications.admin.access import HouseholdAccessAdminMixin
from applications.models import AccessPurpose
from applications.services.access import household_access_record
from assist_center.admin.base import REGIONAL_ROLES, ScopedModelAdmin
from assist_center.errors import ApplicationError
from assist_center.models import Region
from assist_center.permissions import may_change_rolls
from assist_center.staff_views import add_service_errors

from ..models import Enrolment, RollTask
from ..services.roll_tasks import MAX_NOTE_LENGTH, roll_task_resolve
from .common import ItemFilter, ReadOnlyAdmin, household_link, item_label

# The keys of RollTask.department_record / roll_record (benefits.services.reconciliation, sweeps).
RECORD_LABELS: dict[str, Any] = {
    "record_id": _("Source record id"),
    "enrolment": _("enrolment"),
    "person": _("person"),
    "item": _("assistance item"),
    "status": _("status"),
    "state": _("state"),
    "effective_date": _("effective date"),
    "since": _("since"),
    "grace_end": _("grace period ends"),
    "monthly_amount": _("monthly amount (yuan)"),
    "kind": _("benefit in kind"),
    "source": _("source"),
}
_VALUE_LABELS: dict[str, dict[str, Any]] = {
    "state": dict(Enrolment.State.choices),
    "source": dict(Enrolment.Source.choices),
}


def record_rows(department: dict[str, Any], roll: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, department's value, roll's value) for every key either record has."""

    def shown(key: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if key == "item":
            return item_label(str(value))
        return str(_VALUE_LABELS.get(key, {}).get(value, value))

    keys = [*department, *(k for k in roll if k not in department)]
    return [(str(RECORD_LABELS.get(k, k)), shown(k, department.get(k)), shown(k, roll.get(k))) for k in keys]


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("What you found and did"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MAX_NOTE_LENGTH,
        help_text=_("A change of the rolls is made on the enrolment's own page, with its reason."),
    )


@admin.register(RollTask)
class RollTaskAdmin(HouseholdAccessAdminMixin, ReadOnlyAdmin, ScopedModelAdmin):
    # The department's record beside the roll's: each opening is in the household's access log.
    household_access_purpose = AccessPurpose.ADMIN_RECORD
    viewer_roles = REGIONAL_ROLES
    list_display = ("kind", "household_ref", "item_label", "due", "status", "township", "resolve_link")
    list_select_related = ("household__village", "township")
    list_filter = ("status", "kind", ItemFilter)
    search_fields = ("=household__id", "=household__household_number")
    search_help_text = _("Household number or household id")
    ordering = ("status", "due_date", "id")
    fields = (
        "kind",
        "household_ref",
        "township",
        "item_label",
        "records",
        "due_date",
        "status",
        "resolution_note",
        "resolved_by",
        "resolved_at",
        "enrolment",
        "created_at",
    )
    readonly_fields = fields

    def audit_region(self, obj: Model) -> Region | None:
        return obj.household.village if isinstance(obj, RollTask) else None

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        return shown if may_change_rolls(request.user) else [f for f in shown if f != "resolve_link"]

    @admin.display(description=_("household"), ordering="household_id")
    def household_ref(self, obj: RollTask) -> SafeString:
        return household_link(obj.household)

    @admin.display(description=_("assistance item"), ordering="item")
    def item_label(self, obj: RollTask) -> str:
        return item_label(obj.item)

    @admin.display(description=_("due date"), ordering="due_date")
    def due(self, obj: RollTask) -> str:
        if obj.due_date is None:
            return "—"
        overdue = obj.status == RollTask.Status.OPEN and obj.due_date < timezone.localdate()
        return format_html(
            '<span class="{}">{}</span>', "due-overdue" if overdue else "due-open", obj.due_date
        )

    @admin.display(description=_("the department's record and the roll's"))
    def records(self, obj: RollTask) -> SafeString:
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            record_rows(obj.department_record, obj.roll_record),
        )
        return format_html(
            "<table><thead><tr><th></th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("department's record"),
            _("roll record"),
            rows,
        )

    @admin.display(description=_("action"))
    def resolve_link(self, obj: RollTask) -> str:
        if obj.status != RollTask.Status.OPEN:
            return ""
        url = reverse("admin:benefits_rolltask_resolve", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Resolve"))

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<path:object_id>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="benefits_rolltask_resolve",
            )
        ]
        return custom + super().get_urls()

    def resolve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        task = self.get_object(request, unquote(object_id))  # Http404 out of scope
        if not self.has_view_permission(request, task):
            raise Http404
        if not may_change_rolls(request.user):
            raise PermissionDenied
        form = ResolveForm(request.POST or None)
        back = reverse("admin:benefits_rolltask_changelist")
        if request.method == "POST" and form.is_valid():
            try:
                roll_task_resolve(actor=request.user, task_id=task.pk, note=form.cleaned_data["note"])
            except ApplicationError as exc:
                if exc.status == 403:
                    raise PermissionDenied(str(exc.message)) from None
                if not add_service_errors(form, exc):
                    messages.error(request, str(exc.message))
                    if exc.status == 409:
                        return HttpResponseRedirect(back)
            else:
                messages.success(request, _("The roll task has been closed."))
                return HttpResponseRedirect(back)
        enrolment_url = (
            reverse("admin:benefits_enrolment_change", args=[task.enrolment_id]) if task.enrolment_id else ""
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Close a roll task"),
            "opts": self.opts,
            "task": task,
            "household": household_link(task.household),
            "item_label": item_label(task.item),
            "rows": record_rows(task.department_record, task.roll_record),
            "enrolment_url": enrolment_url,
            "is_open": task.status == RollTask.Status.OPEN,
            "form": form,
        }
        # The page shows both records of the household: one row per rendering.
        household_access_record(
            actor=request.user,
            household_id=task.household_id,
            purpose=AccessPurpose.ADMIN_RECORD,
            subject=task,
        )
        return TemplateResponse(request, "admin/benefits/rolltask/resolve.html", context)
