"""The township's worklist of omission and duplicate flags, one flag with its evidence, and a
household's flags beside its card (the cadre's view of the happiness list).

Scoped like the household: another township's flag or household is a 404; a village cadre reads
its village's flags but does not resolve them (403); departments and organisations have no
worklist (403). Opening a flag or a household's flags is a logged read (FLAG_REVIEW).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from applications.models import AccessPurpose, Household
from applications.services.access import household_access_record
from assist_center.errors import ApplicationError
from assist_center.models import Region, Role
from assist_center.permissions import is_centre
from assist_center.scopes import get_in_scope_or_404, is_county_wide, role_of, scope_queryset
from assist_center.staff_views import staff_context, staff_view
from eligibility.rules import ITEM_LABELS

from ..models import HappinessCard, ListFlag
from ..services import flags as flag_service

PAGE_SIZE = 100

_EVIDENCE_URLS = {
    "entry": "admin:benefits_benefitentry_change",
    "enrolment": "admin:benefits_enrolment_change",
    "report": "admin:eligibility_verificationreport_change",
}


def may_see_flags(user: Any) -> bool:
    """The centre, the township assistants and the village cadres (their village only)."""
    return is_centre(user) or role_of(user) == Role.VILLAGE_CADRE


def _evidence(flag: ListFlag) -> list[dict[str, Any]]:
    rows = []
    for ev in flag.evidence or []:
        name = _EVIDENCE_URLS.get(str(ev.get("type")))
        url = ""
        if name is not None:
            try:
                url = reverse(name, args=[ev.get("id")])
            except NoReverseMatch:
                url = ""
        rows.append({**ev, "url": url})
    return rows


def _row(flag: ListFlag) -> dict[str, Any]:
    return {
        "flag": flag,
        "item": ITEM_LABELS.get(flag.item, flag.item) if flag.item else "—",
        "evidence": _evidence(flag),
    }


@require_GET
@staff_view(may_see_flags)
def flag_worklist(request: HttpRequest) -> HttpResponse:
    """Open flags of the user's township (or village), newest month first; filters by kind."""
    qs = scope_queryset(ListFlag.objects.all(), request.user).select_related("household__village", "township")
    status = request.GET.get("status", ListFlag.Status.OPEN)
    if status not in ListFlag.Status.values:
        status = ListFlag.Status.OPEN
    qs = qs.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind in ListFlag.Kind.values:
        qs = qs.filter(kind=kind)
    townships: list[Region] = []
    township = request.GET.get("township", "")
    if is_county_wide(request.user):
        townships = list(Region.objects.filter(level=Region.Level.TOWNSHIP).order_by("code"))
        if township.isdigit():
            qs = qs.filter(township_id=int(township))
    counts = {
        k: n
        for k, n in scope_queryset(ListFlag.objects.filter(status=ListFlag.Status.OPEN), request.user)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
    }
    page = Paginator(qs.order_by("-period", "kind", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    ctx = {
        **staff_context(request, _("Omissions and duplicates")),
        "rows": [_row(flag) for flag in page],
        "page": page,
        "kinds": ListFlag.Kind.choices,
        "kind": kind,
        "status": status,
        "statuses": ListFlag.Status.choices,
        "counts": [(label, counts.get(value, 0)) for value, label in ListFlag.Kind.choices],
        "townships": townships,
        "township": township,
    }
    response = render(request, "happiness_list/flags.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@staff_view(may_see_flags)
def flag_detail(request: HttpRequest, flag_id: int) -> HttpResponse:
    """One flag: what the check found, its evidence, and the resolution form (the township's)."""
    flag = get_in_scope_or_404(
        ListFlag.objects.select_related("household__village", "township", "resolved_by"),
        request.user,
        pk=flag_id,
    )
    error = ""
    if request.method == "POST":
        try:
            flag_service.flag_resolve(
                actor=request.user,
                flag_id=flag.pk,
                resolution=request.POST.get("resolution"),
                note=request.POST.get("note", ""),
            )
        except ApplicationError as exc:
            error = str(exc.message)
        else:
            return HttpResponseRedirect(reverse("happiness-flag", args=[flag.pk]))
    household_access_record(
        actor=request.user, household_id=flag.household_id, purpose=AccessPurpose.FLAG_REVIEW, subject=flag
    )
    ctx = {
        **staff_context(
            request,
            _("%(kind)s: %(reason)s")
            % {"kind": flag.get_kind_display(), "reason": flag.get_reason_display()},
        ),
        **_row(flag),
        "may_resolve": is_centre(request.user) and flag.status == ListFlag.Status.OPEN,
        "resolutions": ListFlag.Resolution.choices,
        "error": error,
        "note": request.POST.get("note", "") if request.method == "POST" else "",
    }
    response = render(request, "happiness_list/flag_detail.html", ctx, status=400 if error else 200)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@staff_view()
def household_flags(request: HttpRequest, household_id: int) -> HttpResponse:
    """A household's flags (open first), its card and the ways to print it or open the list."""
    household = get_in_scope_or_404(
        Household.objects.select_related("village", "township"), request.user, pk=household_id
    )
    if not may_see_flags(request.user):
        raise PermissionDenied
    household_access_record(actor=request.user, household_id=household.pk, purpose=AccessPurpose.FLAG_REVIEW)
    flags = list(ListFlag.objects.filter(household_id=household.pk).order_by("-status", "-period", "id"))
    card = HappinessCard.objects.filter(household_id=household.pk).first()
    ctx = {
        **staff_context(
            request,
            _("Happiness list checks: household %(number)s")
            % {"number": household.household_number or household.pk},
        ),
        "household": household,
        "rows": [_row(f) for f in flags],
        "card": card,
        "may_print": is_centre(request.user),
    }
    response = render(request, "happiness_list/household_flags.html", ctx)
    response["Cache-Control"] = "no-store"
    return response
