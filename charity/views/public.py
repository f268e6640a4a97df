"""The public board (no login), a need's share page, 纠错/举报, and the resident's receipt answer."""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from assist_center.db_router import replica_reads
from assist_center.errors import ApplicationError
from assist_center.http import client_ip
from assist_center.models import Region
from assist_center.qr import qr_svg_data_uri
from assist_center.staff_views import add_service_errors

from ..access import organisation_of
from ..models import Category, Claim, Need, PublicReport
from ..projects_selectors import public_project
from ..selectors import board_needs, public_need_dict, public_need_or_404
from ..services.claims import claim_resident_answer, need_claim
from ..services.needs import board_cache_version, need_profiles_check
from ..services.reports import report_submit

PAGE_SIZE = 20
BOARD_MAX_AGE = 60


class BoardFilter(forms.Form):
    category = forms.ChoiceField(label="类别", required=False, choices=[("", "全部类别"), *Category.choices])
    township = forms.ChoiceField(label="乡镇", required=False)
    status = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("", "全部状态"), ("published", "待认领"), ("claimed", "已认领"), ("completed", "已完成")],
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        towns = (
            Region.objects.filter(level=Region.Level.TOWNSHIP).order_by("code").values_list("code", "name")
        )
        township = self.fields["township"]
        assert isinstance(township, forms.ChoiceField)
        township.choices = [("", "全部乡镇"), *towns]


def _public_cache(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={BOARD_MAX_AGE}"
    return response


@require_http_methods(["GET", "HEAD"])
def board(request: HttpRequest) -> HttpResponse:
    form = BoardFilter(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    anonymous = not request.user.is_authenticated
    key = ""
    if anonymous:
        digest = hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest()[:32]
        key = f"charity:board:{board_cache_version()}:{digest}"
        html = cache.get(key)
        if html is not None:
            return _public_cache(HttpResponse(html))
    # Built afresh: first re-apply the fewer-than-5 rule (at most once a minute); a change moves the
    # cache version, so the page is stored under the new one.
    need_profiles_check()
    if anonymous:
        key = f"charity:board:{board_cache_version()}:{digest}"
    page = int(data.get("page") or 1)
    with replica_reads():  # display only: a replica's lag is far inside the board's cache time
        town = Region.objects.filter(code=data.get("township") or "-", level=Region.Level.TOWNSHIP).first()
        qs = board_needs(
            user=request.user,
            category=data.get("category") or "",
            township_id=town.pk if town else None,
            status=data.get("status") or "",
        )
        count = qs.count()
        rows = [public_need_dict(n) for n in qs[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "form": form,
        "needs": rows,
        "count": count,
        "page": page,
        "has_next": page * PAGE_SIZE < count,
        "has_prev": page > 1,
        "query": query.urlencode(),
        "organisation": organisation_of(request),
    }
    response = render(request, "charity/board.html", ctx)
    if anonymous:
        cache.set(key, response.content.decode(), BOARD_MAX_AGE)
        return _public_cache(response)
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def need_page(request: HttpRequest, public_id: str) -> HttpResponse:
    need_profiles_check()
    need = public_need_or_404(public_id, user=request.user)
    org = organisation_of(request)
    error = ""
    status = 200
    if request.method == "POST":
        if org is None:
            return redirect(f"/charity/login/?next=/charity/needs/{public_id}/")
        try:
            claim = need_claim(actor=request.user, public_id=public_id)
        except ApplicationError as exc:
            error, status = str(exc.message), exc.status
        else:
            return redirect(f"/charity/portal/claims/{claim.pk}/")
    url = f"{settings.SITE_URL}/charity/needs/{need.public_id}/"
    card = public_need_dict(need)
    ctx = {
        "need": card,
        "share_url": url,
        "qr": qr_svg_data_uri(url),
        "og_title": f"{card['category_label']}｜{card['township']}｜公益谷",
        "og_image": f"{settings.SITE_URL}/static/charity/og.png",
        "organisation": org,
        "error": error,
        "can_claim": need.status == Need.Status.PUBLISHED and org is not None,
    }
    response = render(request, "charity/need.html", ctx, status=status)
    response["Cache-Control"] = (
        "private, no-store" if request.user.is_authenticated else f"public, max-age={BOARD_MAX_AGE}"
    )
    return response


class ReportForm(forms.Form):
    kind = forms.ChoiceField(
        label="类型",
        choices=PublicReport.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "请选择：信息有误或举报违规。",
            "invalid_choice": "请选择：信息有误或举报违规。",
        },
    )
    text = forms.CharField(
        label="情况说明",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "请写明情况。",
            "max_length": "情况说明最多1000字。",
            "null_characters_not_allowed": "请输入纯文本。",
        },
    )
    contact = forms.CharField(
        label="联系方式（选填，方便我们回复您）",
        max_length=64,
        required=False,
        error_messages={"max_length": "联系方式最多64个字符。"},
    )


@require_http_methods(["GET", "HEAD", "POST"])
def report(request: HttpRequest, subject: str, ref: str) -> HttpResponse:
    """纠错/举报 on a public need or project page: reaches the centre with a 5-working-day deadline."""
    if subject not in PublicReport.Subject.values or len(ref) > 32:
        raise Http404
    if subject == PublicReport.Subject.NEED:
        public_need_or_404(ref)
    elif public_project(ref) is None:
        raise Http404
    form = ReportForm(request.POST or None)
    done = False
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                report_submit(
                    subject=subject,
                    ref=ref,
                    kind=form.cleaned_data["kind"],
                    text=form.cleaned_data["text"],
                    contact=form.cleaned_data["contact"],
                    ip=client_ip(request),
                )
            except ApplicationError as exc:
                status = exc.status
                if not add_service_errors(form, exc):
                    form.add_error(None, str(exc.message))
            else:
                done = True
        else:
            status = 400
    response = render(
        request,
        "charity/report.html",
        {"form": form, "done": done, "subject": subject, "ref": ref},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def resident_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The resident's page from the SMS link: received / partly / not received."""
    claim = Claim.objects.select_related("need").filter(resident_token=token).first()
    if claim is None or len(token) > 64:
        raise Http404
    message = ""
    if request.method == "POST":
        try:
            claim = claim_resident_answer(actor=None, token=token, answer=request.POST.get("answer", ""))
            message = "感谢您的反馈，乡镇助理员会尽快确认。"
        except ApplicationError as exc:
            message = str(exc.message)
    response = render(
        request,
        "charity/resident_answer.html",
        {
            "claim": claim,
            "category": claim.need.get_category_display(),
            "answers": Claim.ResidentAnswer.choices,
            "message": message,
        },
    )
    response["Cache-Control"] = "no-store"
    return response
