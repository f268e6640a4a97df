"""Verification reports and item decisions in the admin, scoped to the application's township.

The report page is the assistant's workbench for the data check: per item the outcome and every
criterion's reason in Chinese, the standards' versions and the input hash, the "政策找人" items
first, and a decision form per item. Reports are never edited; a re-run makes a new one.
"""

from __future__ import annotations

import functools
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from applications.admin.access import HouseholdAccessAdminMixin
from applications.models import AccessPurpose, Application
from applications.services.access import household_access_record
from assist_center.admin.base import REGIONAL_ROLES, ScopedModelAdmin
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError
from assist_center.models import Region
from assist_center.permissions import may_run_verification

from .. import selectors
from ..models import ItemDecision, VerificationReport
from ..pdf import report_context, report_pdf_response
from ..rules import ITEM_LABELS
from ..services.decisions import application_decide_complete, item_decide, items_to_decide, latest_decisions
from ..services.verification import application_verify_run
from .monitoring import ItemFilter

Trigger = VerificationReport.Trigger


def method_decorator_post(fn: Any) -> Any:
    """require_POST for a ModelAdmin method (the admin's own views take `self` first)."""

    @functools.wraps(fn)
    def wrapper(self: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return require_POST(lambda r: fn(self, r, *args, **kwargs))(request)

    return wrapper


class DecisionForm(forms.Form):
    item = forms.ChoiceField(choices=[(k, v) for k, v in ITEM_LABELS.items()])
    decision = forms.ChoiceField(choices=ItemDecision.Decision.choices)
    reason = forms.CharField(required=False, max_length=1000)


@admin.register(VerificationReport)
class VerificationReportAdmin(HouseholdAccessAdminMixin, ScopedModelAdmin):
    # change_view below is the report page and logs it itself (it renders no change form).
    household_access_purpose = AccessPurpose.VERIFICATION
    viewer_roles = REGIONAL_ROLES
    list_display = ("application_code", "township", "trigger", "created_at", "summary", "duration_ms")
    list_select_related = ("application__township",)
    list_filter = ("trigger",)
    search_fields = ("application__receipt_code",)
    date_hierarchy = None
    report_template = "admin/eligibility/report.html"

    def scope_queryset(self, request: HttpRequest, qs: Any) -> Any:
        return selectors.scope_report_qs(qs, request.user)

    def get_queryset(self, request: HttpRequest) -> Any:
        # The facts JSON is only read on the report page.
        return super().get_queryset(request).defer("facts")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def audit_region(self, obj: Model) -> Region | None:
        return obj.application.village if isinstance(obj, VerificationReport) else None

    @admin.display(description=_("application"), ordering="application__receipt_code")
    def application_code(self, obj: VerificationReport) -> str:
        return obj.application.receipt_code

    @admin.display(description=_("township"))
    def township(self, obj: VerificationReport) -> str:
        return obj.application.township.name

    @admin.display(description=_("result"))
    def summary(self, obj: VerificationReport) -> str:
        eligible = sum(1 for r in obj.results if r.get("outcome") == "eligible")
        person = sum(1 for r in obj.results if r.get("outcome") == "needs_person")
        found = sum(1 for r in obj.results if r.get("policy_finds_person"))
        return str(
            _("%(eligible)d eligible, %(person)d need a person, %(found)d found by policy")
            % {"eligible": eligible, "person": person, "found": found}
        )

    # --- pages ---------------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        custom = [
            path(
                "application/<int:application_id>/",
                view(self.for_application_view),
                name="eligibility_verificationreport_for_application",
            ),
            path(
                "<path:object_id>/decide/",
                view(self.decide_view),
                name="eligibility_verificationreport_decide",
            ),
            path(
                "<path:object_id>/rerun/", view(self.rerun_view), name="eligibility_verificationreport_rerun"
            ),
            path(
                "<path:object_id>/complete/",
                view(self.complete_view),
                name="eligibility_verificationreport_complete",
            ),
            path("<path:object_id>/pdf/", view(self.pdf_view), name="eligibility_verificationreport_pdf"),
        ]
        return custom + super().get_urls()

    def _report(self, request: HttpRequest, object_id: str) -> VerificationReport:
        obj = self.get_object(request, unquote(object_id))  # Http404 when out of scope
        if not self.has_view_permission(request, obj):
            raise Http404
        return obj

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        report = self._report(request, object_id)
        application = report.application
        household_access_record(
            actor=request.user,
            household_id=application.household_id,
            purpose=AccessPurpose.VERIFICATION,
            subject=report,
        )
        latest = selectors.latest_report_visible_to(user=request.user, application_id=application.pk)
        acting = may_run_verification(request.user)
        under_review = application.status == Application.Status.UNDER_REVIEW
        decisions = latest_decisions(application.pk)
        to_decide = items_to_decide(application, report)
        ctx = report_context(report, decisions=decisions, to_decide=to_decide)
        decide_items = [i for i in ctx.items if i.to_decide]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Verification report"),
            "opts": self.opts,
            "original": report,
            "report": ctx,
            "is_latest": latest is not None and latest.pk == report.pk,
            "latest_url": reverse("admin:eligibility_verificationreport_change", args=[latest.pk])
            if latest
            else "",
            "can_decide": acting and under_review and latest is not None and latest.pk == report.pk,
            "can_rerun": acting
            and application.status
            in (Application.Status.AUTHORISED, Application.Status.VERIFYING, Application.Status.UNDER_REVIEW),
            "decide_items": decide_items,
            "other_items": [i for i in ctx.items if not i.to_decide],
            "open_items": [i for i in decide_items if not i.final],
            "home_visit_items": [
                i for i in decide_items if i.decision_code == ItemDecision.Decision.HOME_VISIT
            ],
            "decide_url": reverse("admin:eligibility_verificationreport_decide", args=[report.pk]),
            "rerun_url": reverse("admin:eligibility_verificationreport_rerun", args=[report.pk]),
            "complete_url": reverse("admin:eligibility_verificationreport_complete", args=[report.pk]),
            "pdf_url": reverse("admin:eligibility_verificationreport_pdf", args=[report.pk]),
            "application_url": _application_url(application.pk),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.report_template, context)

    def for_application_view(self, request: HttpRequest, application_id: int) -> HttpResponse:
        """The latest report of an application (GET), or a first/new check of it (POST)."""
        if request.method == "POST":
            return self._run(request, application_id)
        latest = selectors.latest_report_visible_to(user=request.user, application_id=application_id)
        if latest is None or not self._can_view(request):
            raise Http404
        return HttpResponseRedirect(reverse("admin:eligibility_verificationreport_change", args=[latest.pk]))

    def _run(self, request: HttpRequest, application_id: int) -> HttpResponse:
        try:
            report = application_verify_run(
                application_id=application_id, trigger=Trigger.MANUAL, actor=request.user
            )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
            latest = selectors.latest_report_visible_to(user=request.user, application_id=application_id)
            if latest is None:
                raise Http404 from None
            return HttpResponseRedirect(
                reverse("admin:eligibility_verificationreport_change", args=[latest.pk])
            )
        messages.success(request, _("The data has been checked again; this is the new report."))
        return HttpResponseRedirect(reverse("admin:eligibility_verificationreport_change", args=[report.pk]))

    @method_decorator_post
    def rerun_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        report = self._report(request, object_id)
        if not may_run_verification(request.user):
            raise PermissionDenied
        return self._run(request, report.application_id)

    @method_decorator_post
    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        report = self._report(request, object_id)
        if not may_run_verification(request.user):
            raise PermissionDenied
        back = reverse("admin:eligibility_verificationreport_change", args=[report.pk])
        form = DecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose an item and a decision."))
            return HttpResponseRedirect(back)
        try:
            item_decide(
                actor=request.user,
                application_id=report.application_id,
                item=form.cleaned_data["item"],
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("Decision recorded for %(item)s.") % {"item": ITEM_LABELS[form.cleaned_data["item"]]},
            )
        return HttpResponseRedirect(f"{back}#item-{form.cleaned_data['item']}")

    @method_decorator_post
    def complete_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        report = self._report(request, object_id)
        if not may_run_verification(request.user):
            raise PermissionDenied
        back = reverse("admin:eligibility_verificationreport_change", args=[report.pk])
        try:
            application_decide_complete(actor=request.user, application_id=report.application_id)
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The review is complete: the application is decided."))
        return HttpResponseRedirect(back)

    def pdf_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        report = self._report(request, object_id)
        # The annex holds income, assets and health data: each download is on the record.
        audit_record(
            actor=request.user,
            action="verification.report_pdf",
            subject=report,
            region=report.application.village,
        )
        household_access_record(
            actor=request.user,
            household_id=report.application.household_id,
            purpose=AccessPurpose.DOWNLOAD,
            subject=report,
        )
        return report_pdf_response(report)


def _application_url(application_id: int) -> str:
    try:
        return reverse("admin:applications_application_change", args=[application_id])
    except NoReverseMatch:  # the application admin may be absent in a trimmed configuration
        return ""


@admin.register(ItemDecision)
class ItemDecisionAdmin(HouseholdAccessAdminMixin, ScopedModelAdmin):
    """Decisions are made on the report page; this list is their read-only record."""

    household_access_purpose = AccessPurpose.VERIFICATION

    viewer_roles = REGIONAL_ROLES
    list_display = (
        "application_code",
        "item_label",
        "decision",
        "reason",
        "decided_by",
        "decided_at",
        "report_link",
    )
    list_select_related = ("application", "decided_by")
    list_filter = ("decision", ItemFilter)
    readonly_fields = (
        "application",
        "report",
        "item_label",
        "decision",
        "reason",
        "decided_by",
        "decided_at",
    )
    fields = readonly_fields

    def scope_queryset(self, request: HttpRequest, qs: Any) -> Any:
        return selectors.scope_decision_qs(qs, request.user)

    def household_access_household_id(self, obj: ItemDecision) -> int | None:
        return obj.application.household_id

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("application"), ordering="application__receipt_code")
    def application_code(self, obj: ItemDecision) -> str:
        return obj.application.receipt_code

    @admin.display(description=_("assistance item"), ordering="item")
    def item_label(self, obj: ItemDecision) -> str:
        return ITEM_LABELS.get(obj.item, obj.item)

    @admin.display(description=_("report"))
    def report_link(self, obj: ItemDecision) -> str:
        url = reverse("admin:eligibility_verificationreport_change", args=[obj.report_id])
        return format_html('<a href="{}">{}</a>', url, _("Open the report"))
