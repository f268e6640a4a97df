"""The organisations' portal: login, own claims, progress and completion, delivery details."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_otp.forms import OTPAuthenticationForm

from applications.models import Person
from assist_center.errors import ApplicationError
from assist_center.staff_views import add_service_errors
from assist_center.two_factor import SecondFactorFormMixin

from ..access import organisation_member_required
from ..models import Claim, ClaimUpdate
from ..projects_selectors import project_of_organisation, project_page, projects_of_organisation
from ..selectors import claim_of_organisation_or_404, claims_of_organisation, public_need_dict
from ..services.access_log import record_delivery_view
from ..services.claims import (
    DETAILS_HIDE_DAYS,
    MAX_PHOTOS,
    claim_add_progress,
    claim_mark_contacted,
    claim_report_completion,
)
from ..services.needs import parse_amount


class _UsernameLength:
    fields: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class MemberLoginForm(_UsernameLength, AuthenticationForm):
    pass


class MemberOTPLoginForm(_UsernameLength, SecondFactorFormMixin, OTPAuthenticationForm):
    pass


def login(request: HttpRequest) -> HttpResponseBase:
    """Members' sign-in: django-axes locks username+IP after 5 failures; TOTP where staff need it."""
    form_class = MemberOTPLoginForm if settings.STAFF_REQUIRE_2FA else MemberLoginForm
    view = auth_views.LoginView.as_view(
        template_name="charity/login.html",
        authentication_form=form_class,
        next_page="/charity/portal/",
        redirect_authenticated_user=False,
    )
    response = view(request)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["POST"])
def logout(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import logout as do_logout

    do_logout(request)
    return redirect("/charity/")


@organisation_member_required
def portal(request: HttpRequest) -> HttpResponse:
    org = request.organisation  # type: ignore[attr-defined]
    claims = list(claims_of_organisation(org)[:200])
    ctx = {
        "organisation": org,
        "refusal": org.claim_refusal(timezone.localdate()),
        "open_claims": [c for c in claims if c.is_open],
        "past_claims": [c for c in claims if not c.is_open],
    }
    response = render(request, "charity/portal.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


class ProgressForm(forms.Form):
    text = forms.CharField(label="进展说明", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    photos = forms.FileField(label="照片（选填）", required=False, widget=forms.ClearableFileInput())


class CompletionForm(forms.Form):
    text = forms.CharField(label="完成情况", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    in_kind = forms.CharField(label="帮扶内容（实物或服务）", max_length=200, required=False)
    value = forms.CharField(label="折合金额（元，选填）", max_length=20, required=False)
    photos = forms.FileField(label="证明照片", required=False, widget=forms.ClearableFileInput())


def _photos(request: HttpRequest) -> list[bytes]:
    files = request.FILES.getlist("photos")[: MAX_PHOTOS + 1]
    return [f.read(8 * 1024 * 1024 + 1) for f in files]


@organisation_member_required
@require_http_methods(["GET", "HEAD", "POST"])
def claim_detail(request: HttpRequest, claim_id: int) -> HttpResponse:
    org = request.organisation  # type: ignore[attr-defined]
    claim = claim_of_organisation_or_404(org, claim_id)
    progress = ProgressForm()
    completion = CompletionForm()
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "contacted":
                claim_mark_contacted(actor=request.user, claim_id=claim.pk)
            elif action == "progress":
                progress = ProgressForm(request.POST, request.FILES)
                if progress.is_valid():
                    claim_add_progress(
                        actor=request.user,
                        claim_id=claim.pk,
                        text=progress.cleaned_data["text"],
                        photos=_photos(request),
                    )
                else:
                    raise ApplicationError("请填写进展说明。")
            elif action == "complete":
                completion = CompletionForm(request.POST, request.FILES)
                if not completion.is_valid():
                    raise ApplicationError("请填写完成情况。")
                claim_report_completion(
                    actor=request.user,
                    claim_id=claim.pk,
                    text=completion.cleaned_data["text"],
                    in_kind=completion.cleaned_data["in_kind"],
                    value=parse_amount(completion.cleaned_data["value"]),
                    photos=_photos(request),
                )
            else:
                raise ApplicationError("未知操作。")
        except ApplicationError as exc:
            error = str(exc.message)
            add_service_errors(completion if action == "complete" else progress, exc)
        else:
            return redirect(f"/charity/portal/claims/{claim.pk}/")
        claim = claim_of_organisation_or_404(org, claim_id)
    updates = list(ClaimUpdate.objects.filter(claim=claim).prefetch_related("photos"))
    ctx = {
        "organisation": org,
        "claim": claim,
        "need": public_need_dict(claim.need),
        "updates": updates,
        "progress_form": progress,
        "completion_form": completion,
        "error": error,
        "can_work": claim.status in (Claim.Status.ACTIVE, Claim.Status.CONTACTED),
        "details_available": delivery_details_available(claim),
    }
    response = render(request, "charity/claim.html", ctx, status=400 if error else 200)
    response["Cache-Control"] = "no-store"
    return response


def delivery_details_available(claim: Claim) -> bool:
    """Only with sharing consent, while the claim is open or within 30 days of completion."""
    need = claim.need
    if not need.share_consent or need.consent_withdrawn_at is not None:
        return False
    if claim.is_open:
        return True
    if claim.status == Claim.Status.CONFIRMED and claim.confirmed_at is not None:
        return timezone.now() - claim.confirmed_at <= dt.timedelta(days=DETAILS_HIDE_DAYS)
    return False


@organisation_member_required
@require_http_methods(["GET", "HEAD"])
def delivery_details(request: HttpRequest, claim_id: int) -> HttpResponse:
    """Name, phone, village, delivery address: nothing else; every view recorded in the household's log."""
    org = request.organisation  # type: ignore[attr-defined]
    claim = claim_of_organisation_or_404(org, claim_id)
    available = delivery_details_available(claim)
    details: dict[str, str] = {}
    if available:
        need = claim.need
        people = sorted(
            Person.objects.filter(household_id=need.household_id).select_related("household__village"),
            key=lambda p: p.relation != Person.Relation.HEAD,
        )
        contact = next((p for p in people if p.phone), people[0] if people else None)
        household = need.household
        details = {
            "name": contact.name if contact else "",
            "phone": contact.phone if contact else "",
            "village": household.village.name,
            "address": household.address,
        }
        record_delivery_view(actor=request.user, claim=claim)
    response = render(
        request,
        "charity/delivery.html",
        {"organisation": org, "claim": claim, "details": details, "available": available},
    )
    response["Cache-Control"] = "no-store"
    return response


@organisation_member_required
@require_http_methods(["GET", "HEAD"])
def projects(request: HttpRequest) -> HttpResponse:
    """The organisation's own 公益创投 projects, drafts included; nobody else's."""
    org = request.organisation  # type: ignore[attr-defined]
    rows = list(projects_of_organisation(org)[:200])
    response = render(request, "charity/portal_projects.html", {"organisation": org, "projects": rows})
    response["Cache-Control"] = "no-store"
    return response


@organisation_member_required
@require_http_methods(["GET", "HEAD"])
def project_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """One own project with its tranches and every report (returned drafts too); another's is a 404."""
    org = request.organisation  # type: ignore[attr-defined]
    project = project_of_organisation(org, public_id)
    if project is None:
        raise Http404
    page = project_page(project, today=timezone.localdate(), with_drafts=True)
    response = render(
        request, "charity/portal_project.html", {"organisation": org, "p": project, "page": page}
    )
    response["Cache-Control"] = "no-store"
    return response
