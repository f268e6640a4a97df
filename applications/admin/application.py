"""Admin of applications: scoped, masked, searchable by exact ID number through the blind index."""

from __future__ import annotations

import base64
import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import unquote
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from assist_center import hooks
from assist_center.admin.base import REGIONAL_ROLES, ScopedInlineMixin, ScopedModelAdmin, user_has_role
from assist_center.admin.core import register_action_labels
from assist_center.errors import ApplicationError
from assist_center.models import AuditEvent, Region
from assist_center.permissions import may_download_form, may_submit_on_behalf
from assist_center.pii import id_number_index
from assist_center.qr import qr_svg
from assist_center.scopes import can_reveal_pii, is_county_wide, person_label

from .. import selectors
from ..assist_codes import family_url
from ..models import AccessPurpose, Application, ApplicationMember, Authorisation, Channel, NeedItem
from ..pdf import application_form_response
from ..services.staff import application_form_download, application_member_reveal
from .access import HouseholdAccessAdminMixin
from .common import (
    EDITOR_ROLES,
    PII_FIELDS,
    REVEAL_LABELS,
    REVEAL_TEMPLATE,
    MaskedColumns,
    RevealForm,
)

# --- applications ----------------------------------------------------------------------------

_HEX64 = re.compile(r"[0-9a-f]{64}")
# Enough to tell cases apart in a narrow column; the detail page lists them all.
TRANSITION_LABELS = {
    Application.Status.WITHDRAWN: _("Withdraw the application"),
    Application.Status.REJECTED: _("Reject the application"),
}
APPLICATION_TEMPLATES = "admin/applications/application"


def _authorisation_of(member: ApplicationMember) -> Authorisation | None:
    try:
        return member.authorisation
    except ObjectDoesNotExist:
        return None


def paper_upload_url(application_id: int, member_id: int) -> str | None:
    # The paper-upload page belongs to the family-authorisation work; until it exists, no link.
    try:
        return reverse("staff-paper-upload", args=(application_id, member_id))
    except NoReverseMatch:
        return None


def family_qr_data_uri(url: str) -> str:
    """The QR code as an <img> data URI: img-src allows data:, and inline SVG attributes would meet
    the strict style-src."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url).encode("utf-8")).decode("ascii")


# What the history calls each audited action; an unknown one shows its code (issue 16).
HISTORY_ACTIONS = {
    "application.submitted": _("Application submitted"),
    "application.status": _("Status changed"),
    "authorisation.signed": _("Authorisation signed"),
    "application.form_generated": _("Application form generated"),
    "application.form_regenerated": _("Application form generated again"),
    "application.form_downloaded": _("Application form downloaded"),
    "pii.reveal": _("Personal data revealed"),
    "item.decide": _("Item decided"),
    "access_log_read": _("Access log read"),
    "verification.run": _("Data checked"),
}
register_action_labels(HISTORY_ACTIONS)  # the audit log's list names them too
# The labels of values this app's history shows but whose codes belong to the apps above
# (eligibility's decisions and outcomes): the same words, kept here as layering requires.
HISTORY_VALUES = {
    "approve": _("Approve"),
    "reject": _("Reject"),
    "home_visit": _("Ask for a home visit"),
    "eligible": "符合",
    "not_eligible": "不符合",
    "needs_person": "需人工核实",
}
ACTOR_LABELS = {"system": _("System"), "resident": _("Resident")}
HISTORY_KEYS = {
    "status": _("status"),
    "item": _("assistance item"),
    "decision": _("decision"),
    "report": _("report"),
    "channel": _("channel"),
    "reason": _("reason"),
    "outcomes": _("result"),
    "trigger": _("trigger"),
}


def _history_value(key: str, value: Any) -> str:
    if key == "status" and value in Application.Status.values:
        return str(Application.Status(value).label)
    if key in ("item", "needs") and value in NeedItem.values:
        return str(NeedItem(value).label)
    if key == "channel" and value in Channel.values:
        return str(Channel(value).label)
    if isinstance(value, dict):
        return "，".join(f"{_history_value('item', k)} {_history_value(key, v)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(_history_value(key, v) for v in value)
    if isinstance(value, str) and value in HISTORY_VALUES:
        return str(HISTORY_VALUES[value])
    return str(value)


def _describe_change(event: AuditEvent) -> str:
    """`状态：已提交 → 已撤回；…`: the values are already masked by audit_record."""
    old, new = event.old_values or {}, event.new_values or {}
    parts = []
    for key in dict.fromkeys([*old, *new]):
        label = str(HISTORY_KEYS.get(key) or selectors.application_field_label(key))
        if key in old:
            parts.append(
                f"{label}：{_history_value(key, old[key])} → {_history_value(key, new.get(key, ''))}"
            )
        else:
            parts.append(f"{label}：{_history_value(key, new[key])}")
    return "；".join(parts)


class NeedFilter(admin.SimpleListFilter):
    title = _("need")
    parameter_name = "need"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(NeedItem.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value in NeedItem.values:
            # `@>` on the array column: an exact item, never a text match.
            return queryset.filter(needs__contains=[value])
        return queryset


class IdNumberSearchFilter(admin.SimpleListFilter):
    """`?idx=<blind index>`: the result of the ID search box. The number itself never enters a URL.

    The filter shows only while it is active (a filter without choices is not applied at all by
    the changelist), with "All" to clear it.
    """

    title = _("ID number search")
    parameter_name = "idx"

    def _index(self) -> str | None:
        value = self.value()
        return value if isinstance(value, str) and _HEX64.fullmatch(value) else None

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        index = self._index()
        return [(index, _("the ID number searched"))] if index else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        index = self._index()
        if index is None:
            return queryset
        return queryset.filter(pk__in=selectors.id_index_application_ids(index))


class ApplicationMemberInline(MaskedColumns, ScopedInlineMixin, admin.TabularInline):
    """The persons named in an application: read-only, ID numbers and phones masked."""

    model = ApplicationMember
    fields = (
        "position",
        "role",
        "name",
        "relation",
        "in_other_household",
        "age",
        "masked_id_number",
        "masked_phone",
        "must_authorise",
        "authorisation_status",
        "member_links",
    )
    readonly_fields = fields
    exclude = PII_FIELDS
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The scan or signature image can be megabytes: never loaded for a status column.
        return (
            super()
            .get_queryset(request)
            .select_related("authorisation", "application")
            .defer("authorisation__image", "application__form_pdf")
        )

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.display(description=_("authorisation"))
    def authorisation_status(self, obj: ApplicationMember) -> str:
        auth = _authorisation_of(obj)
        if auth is not None:
            signed_at = timezone.localtime(auth.signed_at).strftime("%Y-%m-%d %H:%M")
            return format_html(
                "{} · {}<br><small>SHA-256 {}…</small>",
                auth.get_method_display(),
                signed_at,
                auth.sha256[:16],
            )
        if not obj.must_authorise:
            return str(_("Not required"))
        return format_html('<strong class="authorisation-missing">{}</strong>', _("Not signed yet"))

    @admin.display(description=_("actions"))
    def member_links(self, obj: ApplicationMember) -> str:
        links = [
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:applications_application_member_reveal", args=[obj.application_id, obj.pk]),
                _("Reveal (audited)"),
            )
        ]
        if obj.must_authorise and _authorisation_of(obj) is None:
            url = paper_upload_url(obj.application_id, obj.pk)
            if url is not None:
                links.append(format_html('<a href="{}">{}</a>', url, _("Upload the paper signature")))
        return format_html_join(" · ", "{}", ((link,) for link in links))


class TransitionForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Application)
class ApplicationAdmin(HouseholdAccessAdminMixin, ScopedModelAdmin):
    """Applications of the user's township or village: a read-only record with audited actions.

    Nothing here is edited through a form: status changes go through application_transition,
    new applications through the on-behalf page, signatures through the family pages.
    """

    household_access_purpose = AccessPurpose.APPLICATION
    viewer_roles = REGIONAL_ROLES
    # Status changes, reveals, the form download and on-behalf submission (checked per view).
    actor_roles = EDITOR_ROLES
    inlines = (ApplicationMemberInline,)
    list_display = (
        "receipt_code",
        "applicant_name",
        "village",
        "township",
        "status",
        "channel",
        "needs_short",
        "duplicate_flag",
        "authorisations",
        "submitted_at",
    )
    list_select_related = ("village", "township")
    list_filter = (
        IdNumberSearchFilter,
        "status",
        ("township", RelatedOnlyFieldListFilter),
        "channel",
        NeedFilter,
        "possible_duplicate",
    )
    # Never used as such (get_search_results does the work); it turns the search box on.
    search_fields = ("receipt_code",)
    search_help_text = _("Name, receipt code or full ID number")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "receipt_code",
                    "status",
                    "channel",
                    "submitted_by_name",
                    "created_at",
                    "authorised_at",
                    "duplicate_flag",
                )
            },
        ),
        (_("Place"), {"fields": ("code_region", "township", "village", "household", "address")}),
        (_("Needs"), {"fields": ("needs_labels", "need_note")}),
        (
            _("Consents"),
            {
                "fields": (
                    "consent_data_check",
                    "consent_share",
                    "consent_publish",
                    "guardian_confirmed",
                    "consent_version",
                )
            },
        ),
        (_("Application form"), {"fields": ("form_sha256", "form_generated_at")}),
    )
    readonly_fields = (
        "receipt_code",
        "status",
        "channel",
        "submitted_by_name",
        "created_at",
        "authorised_at",
        "duplicate_flag",
        "code_region",
        "township",
        "village",
        "household",
        "address",
        "needs_labels",
        "need_note",
        "consent_data_check",
        "consent_share",
        "consent_publish",
        "guardian_confirmed",
        "consent_version",
        "form_sha256",
        "form_generated_at",
    )
    change_list_template = f"{APPLICATION_TEMPLATES}/change_list.html"
    change_form_template = f"{APPLICATION_TEMPLATES}/change_form.html"
    object_history_template = f"{APPLICATION_TEMPLATES}/object_history.html"

    # --- scope and permissions -----------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The PDF can be megabytes: it is read only by the audited download.
        qs = super().get_queryset(request).defer("form_pdf")
        return selectors.annotate_application_list(qs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # New applications come through the on-behalf page (the same validation as the public API).
        return False

    def can_act(self, request: HttpRequest, obj: Application | None = None) -> bool:
        return user_has_role(request, self.actor_roles) and (obj is None or self.in_scope(request, obj))

    def audit_region(self, obj: Model) -> Region | None:
        return obj.village if isinstance(obj, Application) else None

    # --- columns -------------------------------------------------------------------------------

    def get_list_display(self, request: HttpRequest) -> Any:
        # An assistant or cadre sees one township: its column only took the width the list needs
        # at 1366 px (issue 16).
        shown = super().get_list_display(request)
        if is_county_wide(request.user):
            # One column for the place (村 over 乡镇) instead of two.
            return tuple("place" if name == "village" else name for name in shown if name != "township")
        return tuple(name for name in shown if name != "township")

    def get_list_filter(self, request: HttpRequest) -> Any:
        shown = super().get_list_filter(request)
        if is_county_wide(request.user):
            return shown
        return tuple(f for f in shown if not (isinstance(f, tuple) and f[0] == "township"))

    @admin.display(description=_("Village"), ordering="village__name")
    def place(self, obj: Application) -> str:
        return format_html("{}<br><small>{}</small>", obj.village.name, obj.township.name)

    @admin.display(description=_("submitted at"), ordering="created_at")
    def submitted_at(self, obj: Application) -> str:
        return timezone.localtime(obj.created_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description=_("submitted by"))
    def submitted_by_name(self, obj: Application) -> str:
        return person_label(obj.submitted_by, "-") if obj.submitted_by_id else "-"

    @admin.display(description=_("applicant"))
    def applicant_name(self, obj: Application) -> str:
        return getattr(obj, "applicant_name", None) or "-"

    @admin.display(description=_("needs"))
    def needs_short(self, obj: Application) -> str:
        # Every item, wrapped in its cell: "等1项" hid what the household asked for (issue 16).
        labels = [str(NeedItem(n).label) for n in obj.needs if n in NeedItem.values]
        return "、".join(labels) or "-"

    @admin.display(description=_("needs"))
    def needs_labels(self, obj: Application) -> str:
        return "、".join(str(NeedItem(n).label) for n in obj.needs if n in NeedItem.values) or "-"

    @admin.display(description=_("Possible duplicate"), ordering="possible_duplicate")
    def duplicate_flag(self, obj: Application) -> str:
        if obj.possible_duplicate:
            return format_html('<strong class="possible-duplicate">{}</strong>', _("Possible duplicate"))
        return ""

    @admin.display(description=_("authorisations signed / required"))
    def authorisations(self, obj: Application) -> str:
        return f"{getattr(obj, 'authorisations_signed', 0)}/{getattr(obj, 'authorisations_required', 0)}"

    # --- search --------------------------------------------------------------------------------

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = (search_term or "").strip()
        if not self._can_view(request):
            return queryset.none(), False
        if not term:
            return self.scope_queryset(request, queryset), False
        if selectors.looks_like_id_number(term):
            # security.md: no ID number in a URL. The number already came in one, so refuse it
            # rather than use it, and point to the search box that keeps it out.
            messages.warning(
                request,
                _("ID numbers are not searched from the address bar. Type the number in the search box."),
            )
            return queryset.none(), False
        qs = selectors.application_search(queryset, term)
        return self.scope_queryset(request, qs), False

    def search_view(self, request: HttpRequest) -> HttpResponse:
        """The search box POSTs here: an ID number becomes its blind index, anything else ?q=."""
        if not self._can_view(request):
            raise PermissionDenied
        changelist = reverse("admin:applications_application_changelist")
        if request.method != "POST":
            return HttpResponseRedirect(changelist)
        params = QueryDict(mutable=True)
        for key, values in request.POST.lists():
            if key not in {"csrfmiddlewaretoken", "q", "idx", "p", "e"}:
                params.setlist(key, values)
        term = (request.POST.get("q") or "").strip()[:100]
        if term:
            number = selectors.search_term_id_number(term)
            if number is not None:
                params["idx"] = id_number_index(number)
            elif selectors.looks_like_id_number(term):
                messages.error(request, _("This is not a valid ID number. Check it and search again."))
            else:
                params["q"] = term
        query = params.urlencode()
        return HttpResponseRedirect(f"{changelist}?{query}" if query else changelist)

    # --- pages ---------------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        custom = [
            path("search/", view(self.search_view), name="applications_application_search"),
            path("<path:object_id>/form/", view(self.form_view), name="applications_application_form"),
            path(
                "<path:object_id>/transition/<str:to>/",
                view(self.transition_view),
                name="applications_application_transition",
            ),
            path(
                "<path:object_id>/members/<int:member_id>/reveal/",
                view(self.member_reveal_view),
                name="applications_application_member_reveal",
            ),
        ]
        return custom + super().get_urls()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            "on_behalf_url": (reverse("staff-on-behalf") if may_submit_on_behalf(request.user) else None),
            "search_url": reverse("admin:applications_application_search"),
            "id_search_active": bool(_HEX64.fullmatch(request.GET.get("idx", ""))),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None:
            context.update(self._object_tools(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _object_tools(self, request: HttpRequest, obj: Application) -> dict[str, Any]:
        acting = self.can_act(request, obj)
        tools: list[tuple[str, Any]] = []
        if obj.form_sha256 and may_download_form(request.user):
            tools.append(
                (
                    reverse("admin:applications_application_form", args=[obj.pk]),
                    _("Download the application form"),
                )
            )
        if acting and obj.status in Application.OPEN_STATUSES:
            for to, label in TRANSITION_LABELS.items():
                tools.append((reverse("admin:applications_application_transition", args=[obj.pk, to]), label))
        # The family link lets members sign: shown to the staff who act on the application.
        family = family_url(obj) if acting else ""
        # Its verification report, case and referrals: pages of the apps above, which add
        # their links through a hook (this app may not import them).
        related = [
            link
            for links in hooks.call("application_staff_links", application=obj, user=request.user)
            for link in links
        ]
        return {
            "application_tools": tools,
            "related_links": related,
            "family_url": family,
            "family_qr": family_qr_data_uri(family) if family else "",
        }

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The audit events are the real history (who, when, why); the row versions show the states.
        obj: Application = self.get_object(request, unquote(object_id))
        events = list(selectors.application_audit_events(user=request.user, application=obj))
        for event in events:
            event.change_text = _describe_change(event)  # type: ignore[attr-defined]
            fallback = str(ACTOR_LABELS.get(event.actor_label, event.actor_label))
            event.who = person_label(event.actor, fallback)  # type: ignore[attr-defined]
            event.what = str(HISTORY_ACTIONS.get(event.action, event.action))  # type: ignore[attr-defined]
        context = {
            "audit_events": events,
            "versions": selectors.application_versions(application=obj),
            **(extra_context or {}),
        }
        return super().history_view(request, object_id, context)

    def form_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj: Application = self.get_object(request, unquote(object_id))  # Http404 out of scope
        application = application_form_download(actor=request.user, application_id=obj.pk)
        return application_form_response(application)

    def transition_view(self, request: HttpRequest, object_id: str, to: str) -> HttpResponse:
        obj: Application = self.get_object(request, unquote(object_id))
        if to not in TRANSITION_LABELS:
            raise Http404
        if not self.can_act(request, obj):
            raise PermissionDenied
        from ..services.transitions import application_transition

        change_url = reverse("admin:applications_application_change", args=[obj.pk])
        form = TransitionForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                application_transition(
                    application_id=obj.pk, to=to, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except ApplicationError as exc:
                if exc.status != 409:
                    form.add_error("reason", str(exc.message))
                else:
                    messages.error(request, str(exc.message))
                    return HttpResponseRedirect(change_url)
            else:
                messages.success(request, _("The application's status has been changed."))
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": TRANSITION_LABELS[to],  # type: ignore[index]
            "opts": self.opts,
            "original": obj,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, f"{APPLICATION_TEMPLATES}/transition.html", context)

    def member_reveal_view(self, request: HttpRequest, object_id: str, member_id: int) -> HttpResponse:
        """Ask for a reason, then show a member's full value once; the service writes the audit event."""
        obj: Application = self.get_object(request, unquote(object_id))  # Http404 when out of scope
        member = obj.members.filter(pk=member_id).first()
        if member is None:
            raise Http404
        allowed = [
            f
            for f in ("id_number", "phone")
            if getattr(member, f) and can_reveal_pii(request.user, obj.village, f)  # type: ignore[arg-type]
        ]
        if not allowed:
            raise PermissionDenied
        form = RevealForm(request.POST if request.method == "POST" else None, fields=allowed)
        value: str | None = None
        field = ""
        if request.method == "POST" and form.is_valid():
            field = form.cleaned_data["field"]
            try:
                value = application_member_reveal(
                    actor=request.user, member_id=member.pk, field=field, reason=form.cleaned_data["reason"]
                )
            except ApplicationError as exc:
                form.add_error("reason", str(exc.message))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reveal personal data of %(name)s") % {"name": member.name},
            "opts": self.opts,
            "original": obj,
            "form": form,
            "value": value,
            "field_label": REVEAL_LABELS.get(field, ""),
            "home_label": _("Home"),
            "changelist_url": reverse("admin:applications_application_changelist"),
            "change_url": reverse("admin:applications_application_change", args=[obj.pk]),
            "reveal_note": _(
                "The full value is shown once. Your name, the time and the reason are recorded."
            ),
            "once_note": _("This view has been recorded in the audit log."),
            "back_label": _("Back"),
            "submit_label": _("Reveal"),
        }
        return TemplateResponse(request, REVEAL_TEMPLATE, context)
