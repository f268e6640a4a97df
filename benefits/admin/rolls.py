"""The rolls (在册名单) and their history: read here, moved only through the enrolment services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from applications.admin.access import HouseholdAccessAdminMixin
from applications.models import AccessPurpose
from applications.services.access import household_access_record
from assist_center.admin.base import REGIONAL_ROLES, ScopedInlineMixin, ScopedModelAdmin
from assist_center.errors import ApplicationError
from assist_center.models import Region
from assist_center.permissions import may_change_rolls
from assist_center.scopes import is_county_wide
from assist_center.staff_views import add_service_errors

from ..models import Enrolment, EnrolmentEvent
from ..services.enrolments import enrolment_begin_exit, enrolment_end, enrolment_revoke_exit
from .common import ItemFilter, ReadOnlyAdmin, choices_filter, household_link, item_label

S = Enrolment.State


class EnrolmentStateForm(forms.Form):
    """One move of an enrolment, with the reason every move needs."""

    BEGIN_EXIT = "begin_exit"
    REVOKE_EXIT = "revoke_exit"
    END = "end"

    action = forms.ChoiceField(
        label=_("Change of state"),
        choices=[
            (BEGIN_EXIT, _("Start a gradual exit")),
            (REVOKE_EXIT, _("Withdraw the gradual exit")),
            (END, _("End the enrolment")),
        ],
        widget=forms.RadioSelect,
    )
    grace_end = forms.DateField(
        label=_("grace period ends"),
        required=False,
        help_text=_("Only for a gradual exit: assistance continues until this date."),
    )
    ended_on = forms.DateField(label=_("ended on"), required=False, help_text=_("Only to end the enrolment."))
    why = forms.ChoiceField(
        label=_("why it ended"),
        choices=[("", "---------"), *Enrolment.EndReason.choices],
        required=False,
        help_text=_("Only to end the enrolment."),
    )
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)

    def __init__(self, *args: Any, state: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        moves: dict[str, set[str]] = {
            S.ACTIVE: {self.BEGIN_EXIT, self.END},
            S.GRADUAL_EXIT: {self.REVOKE_EXIT, self.END},
        }
        allowed = moves.get(state, set())
        field: Any = self.fields["action"]
        field.choices = [(k, v) for k, v in field.choices if k in allowed]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action == self.BEGIN_EXIT and not data.get("grace_end"):
            self.add_error("grace_end", _("Give the date the grace period ends."))
        if action == self.END:
            if not data.get("ended_on"):
                self.add_error("ended_on", _("Give the date the enrolment ends."))
            if not data.get("why"):
                self.add_error("why", _("Say why the enrolment ends."))
        return data


class EnrolmentEventInline(ScopedInlineMixin, admin.TabularInline):
    model = EnrolmentEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "old_state_label", "new_state_label", "effective_date", "reason", "actor")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("from"))
    def old_state_label(self, obj: EnrolmentEvent) -> str:
        return str(S(obj.old_state).label) if obj.old_state in S.values else "—"

    @admin.display(description=_("to"))
    def new_state_label(self, obj: EnrolmentEvent) -> str:
        return str(S(obj.new_state).label) if obj.new_state in S.values else obj.new_state


@admin.register(Enrolment)
class EnrolmentAdmin(HouseholdAccessAdminMixin, ReadOnlyAdmin, ScopedModelAdmin):
    # The change page names the person and the amount: each opening is in the household's access log.
    household_access_purpose = AccessPurpose.ADMIN_RECORD
    viewer_roles = REGIONAL_ROLES
    inlines = (EnrolmentEventInline,)
    list_display = (
        "household_ref",
        "person_name",
        "item_label",
        "since",
        "until",
        "amount_or_kind",
        "state",
        "grace_end",
        "source",
        "township",
        "state_link",
    )
    list_select_related = ("household__village", "township", "person")
    list_filter = ("state", ItemFilter, "source", "end_reason")
    # Household number and id, and the person's name (shown on these pages to whoever sees them);
    # never an ID number or a phone, which would end up in the URL.
    search_fields = ("=household__id", "=household__household_number", "person__name")
    search_help_text = _("Household number, household id or a member's name")
    ordering = ("household_id", "item", "-since")
    # One COUNT per page: the county's rolls hold some 20,000 rows, and the township filter a query.
    show_full_result_count = False
    fields = (
        "household_ref",
        "person_name",
        "township",
        "item_label",
        "since",
        "until",
        "amount_or_kind",
        "department",
        "standard_version",
        "source",
        "source_ref",
        "reason",
        "state",
        "grace_end",
        "ended_on",
        "end_reason",
        "created_by",
        "created_at",
        "state_link",
    )
    readonly_fields = fields

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = list(super().get_list_filter(request))
        if is_county_wide(request.user):
            filters.append(("township", RelatedOnlyFieldListFilter))
        return filters

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        return shown if may_change_rolls(request.user) else [f for f in shown if f != "state_link"]

    def audit_region(self, obj: Model) -> Region | None:
        return obj.household.village if isinstance(obj, Enrolment) else None

    @admin.display(description=_("household"), ordering="household_id")
    def household_ref(self, obj: Enrolment) -> SafeString:
        return household_link(obj.household)

    @admin.display(description=_("person"), ordering="person__name")
    def person_name(self, obj: Enrolment) -> str:
        return obj.person.name if obj.person is not None else "—"

    @admin.display(description=_("assistance item"), ordering="item")
    def item_label(self, obj: Enrolment) -> str:
        return item_label(obj.item)

    @admin.display(description=_("monthly amount (yuan)"))
    def amount_or_kind(self, obj: Enrolment) -> str:
        return str(obj.monthly_amount) if obj.monthly_amount is not None else obj.kind or "—"

    @admin.display(description=_("action"))
    def state_link(self, obj: Enrolment) -> str:
        if obj.pk is None or obj.state == S.ENDED:
            return ""
        url = reverse("admin:benefits_enrolment_state", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Change the state"))

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<path:object_id>/state/",
                self.admin_site.admin_view(self.state_view),
                name="benefits_enrolment_state",
            )
        ]
        return custom + super().get_urls()

    def state_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the enrolment and the moves open to it. POST: one move through the service."""
        enrolment = self.get_object(request, unquote(object_id))  # Http404 out of scope
        if not self.has_view_permission(request, enrolment):
            raise Http404
        if not may_change_rolls(request.user):
            raise PermissionDenied
        form = EnrolmentStateForm(request.POST or None, state=enrolment.state)
        back = reverse("admin:benefits_enrolment_change", args=[enrolment.pk])
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if data["action"] == form.BEGIN_EXIT:
                    enrolment_begin_exit(
                        actor=request.user,
                        enrolment_id=enrolment.pk,
                        grace_end=data["grace_end"],
                        reason=data["reason"],
                    )
                elif data["action"] == form.REVOKE_EXIT:
                    enrolment_revoke_exit(
                        actor=request.user, enrolment_id=enrolment.pk, reason=data["reason"]
                    )
                else:
                    enrolment_end(
                        actor=request.user,
                        enrolment_id=enrolment.pk,
                        ended_on=data["ended_on"],
                        why=data["why"],
                        reason=data["reason"],
                    )
            except ApplicationError as exc:
                if exc.status == 403:
                    raise PermissionDenied(str(exc.message)) from None
                if not add_service_errors(form, exc):
                    messages.error(request, str(exc.message))
            else:
                messages.success(request, _("The enrolment has been changed."))
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change an enrolment's state"),
            "opts": self.opts,
            "enrolment": enrolment,
            "household": household_link(enrolment.household),
            "item_label": item_label(enrolment.item),
            "amount": self.amount_or_kind(enrolment),
            "is_open": enrolment.state != S.ENDED,
            "today": timezone.localdate(),
            "form": form,
        }
        # The page shows the household's enrolment (item, amount, state): one row per rendering.
        household_access_record(
            actor=request.user,
            household_id=enrolment.household_id,
            purpose=AccessPurpose.ADMIN_RECORD,
            subject=enrolment,
        )
        return TemplateResponse(request, "admin/benefits/enrolment/state.html", context)


@admin.register(EnrolmentEvent)
class EnrolmentEventAdmin(HouseholdAccessAdminMixin, ReadOnlyAdmin, ScopedModelAdmin):
    """The roll's history across the township: who moved which enrolment when, and why."""

    household_access_purpose = AccessPurpose.ADMIN_RECORD

    viewer_roles = REGIONAL_ROLES
    list_display = (
        "created_at",
        "household_ref",
        "item_label",
        "kind",
        "old_state_label",
        "new_state_label",
        "effective_date",
        "actor",
    )
    list_select_related = ("enrolment__household__village", "actor")
    list_filter = ("kind", choices_filter("new_state", _("to"), S.choices))
    search_fields = ("=enrolment__household__id", "=enrolment__household__household_number")
    search_help_text = _("Household number or household id")
    ordering = ("-created_at", "-id")
    fields = (
        "enrolment",
        "household_ref",
        "item_label",
        "kind",
        "old_state_label",
        "new_state_label",
        "effective_date",
        "reason",
        "data",
        "actor",
        "created_at",
    )
    readonly_fields = fields

    def audit_region(self, obj: Model) -> Region | None:
        return obj.enrolment.household.village if isinstance(obj, EnrolmentEvent) else None

    def household_access_household_id(self, obj: Any) -> int | None:
        return obj.enrolment.household_id if isinstance(obj, EnrolmentEvent) else None

    @admin.display(description=_("household"), ordering="enrolment__household_id")
    def household_ref(self, obj: EnrolmentEvent) -> SafeString:
        return household_link(obj.enrolment.household)

    @admin.display(description=_("assistance item"), ordering="enrolment__item")
    def item_label(self, obj: EnrolmentEvent) -> str:
        return item_label(obj.enrolment.item)

    @admin.display(description=_("from"))
    def old_state_label(self, obj: EnrolmentEvent) -> str:
        return str(S(obj.old_state).label) if obj.old_state in S.values else "—"

    @admin.display(description=_("to"), ordering="new_state")
    def new_state_label(self, obj: EnrolmentEvent) -> str:
        return str(S(obj.new_state).label) if obj.new_state in S.values else obj.new_state
