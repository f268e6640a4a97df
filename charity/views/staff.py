"""The centre's pages for needs and claims: publish with the exact preview; confirm or return a completion."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from applications.models import AccessPurpose
from applications.services.access import household_access_record
from assist_center.errors import ApplicationError
from assist_center.permissions import may_handle_claims, may_publish_needs
from assist_center.scopes import get_in_scope_or_404
from assist_center.staff_views import staff_context, staff_view

from ..models import Claim, ClaimUpdate, Need, Organisation
from ..selectors import claim_visible_to_staff_or_404, public_need_dict, scope_claims, scope_needs
from ..services.claims import (
    claim_cancel,
    claim_confirm,
    claim_reassign,
    claim_record_phone_answer,
    claim_return,
)
from ..services.needs import need_preview, need_publish, need_withdraw_consent

LIST_LIMIT = 200


@staff_view(may_publish_needs)
@require_http_methods(["GET", "HEAD"])
def worklist(request: HttpRequest) -> HttpResponse:
    """The centre's 公益谷 to-do list, in the user's scope: needs to publish, completions to confirm."""
    user = request.user
    drafts = (
        scope_needs(Need.objects.filter(status=Need.Status.DRAFT), user)
        .select_related("township")
        .order_by("created_at", "pk")[:LIST_LIMIT]
    )
    waiting = (
        scope_claims(Claim.objects.filter(status__in=[Claim.Status.REPORTED, Claim.Status.DISPUTED]), user)
        .select_related("need", "need__township", "organisation")
        .order_by("reported_at", "pk")[:LIST_LIMIT]
    )
    ctx = {**staff_context(request, "公益谷工作台"), "drafts": list(drafts), "claims": list(waiting)}
    response = render(request, "charity/staff_worklist.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


class PublishForm(forms.Form):
    public_text = forms.CharField(
        label="公开描述（审核后公开）", max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )


@staff_view(may_publish_needs)
@require_http_methods(["GET", "HEAD", "POST"])
def need_publish_page(request: HttpRequest, need_id: int) -> HttpResponse:
    need = get_in_scope_or_404(Need.objects.select_related("household", "township"), request.user, pk=need_id)
    form = PublishForm(request.POST or None, initial={"public_text": need.public_text})
    preview = None
    error = ""
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["public_text"]
        action = request.POST.get("action", "preview")
        try:
            if action == "publish":
                need_publish(actor=request.user, need_id=need.pk, public_text=text)
                return redirect(f"/charity/staff/needs/{need.pk}/")
            if action == "withdraw":
                need_withdraw_consent(
                    actor=request.user, need_id=need.pk, reason=request.POST.get("reason", "")
                )
                return redirect(f"/charity/staff/needs/{need.pk}/")
        except ApplicationError as exc:
            error = str(exc.message)
        preview = need_preview(need=need, public_text=text)
    elif need.status != Need.Status.DRAFT:
        preview = {"card": public_need_dict(need), "visibility": need.visibility, "problems": []}
    # The need's own words (not public) about the household: one row in its access log per view.
    household_access_record(
        actor=request.user, household_id=need.household_id, purpose=AccessPurpose.CASE, subject=need
    )
    ctx = {
        **staff_context(request, "公益需求发布审核"),
        "need": need,
        "form": form,
        "preview": preview,
        "error": error,
    }
    response = render(request, "charity/staff_need.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


@staff_view(may_handle_claims)
@require_http_methods(["GET", "HEAD", "POST"])
def claim_page(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = claim_visible_to_staff_or_404(request.user, claim_id)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "confirm":
                claim_confirm(actor=request.user, claim_id=claim.pk)
            elif action == "return":
                claim_return(actor=request.user, claim_id=claim.pk, reason=request.POST.get("reason", ""))
            elif action == "phone_answer":
                claim_record_phone_answer(
                    actor=request.user, claim_id=claim.pk, answer=request.POST.get("answer", "")
                )
            elif action == "cancel":
                claim_cancel(actor=request.user, claim_id=claim.pk, reason=request.POST.get("reason", ""))
            elif action == "reassign":
                claim_reassign(
                    actor=request.user,
                    claim_id=claim.pk,
                    organisation_id=_int(request.POST.get("organisation", "")),
                    reason=request.POST.get("reason", ""),
                )
            else:
                raise ApplicationError("未知操作。")
        except ApplicationError as exc:
            error = str(exc.message)
        else:
            return redirect(f"/charity/staff/claims/{claim.pk}/")
    # The help given to the household and its answer: one row in its access log per view.
    household_access_record(
        actor=request.user, household_id=claim.need.household_id, purpose=AccessPurpose.CASE, subject=claim
    )
    ctx = {
        **staff_context(request, "认领完成确认"),
        "claim": claim,
        "need": claim.need,
        "updates": ClaimUpdate.objects.filter(claim=claim).prefetch_related("photos"),
        "answers": Claim.ResidentAnswer.choices,
        "error": error,
        "can_move": claim.is_open,
        "organisations": Organisation.objects.filter(vetting=Organisation.Vetting.APPROVED)
        .exclude(pk=claim.organisation_id)
        .order_by("name")
        .only("pk", "name"),
    }
    response = render(request, "charity/staff_claim.html", ctx, status=400 if error else 200)
    response["Cache-Control"] = "no-store"
    return response


def _int(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 12 else 0
