"""Evaluation pages: the coordinator's table of every rated unit, and one unit's figures.

Everyone but the coordinator lands on their own unit; another unit's page is a 404 (the selector
decides). The low ratings show their levels, tags, comment and follow-up, never the household.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from assist_center.permissions import may_dispute_rating, may_view_evaluation
from assist_center.scopes import is_county_wide
from assist_center.staff_views import staff_context, staff_view

from ..selectors.evaluation import (
    evaluation_figures,
    evaluation_overview,
    evaluation_target_get,
    min_ratings,
    own_targets,
)
from .ratings_staff import DisputeForm


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    today = timezone.localdate()
    if raw.isascii() and raw.isdigit() and 2020 <= int(raw) <= today.year + 1:
        return int(raw)
    return today.year


def _kind_labels() -> dict[str, str]:
    return {
        "assistant": _("Assistants"),
        "township": _("Townships"),
        "department": _("Departments"),
        "organisation": _("Organisations"),
    }


@require_GET
@staff_view(may_view_evaluation)
def evaluation_home(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    if not is_county_wide(request.user):
        own = own_targets(request.user)
        if not own:
            raise Http404
        kind, pk = own[0]
        return redirect(f"{reverse('evaluation-detail', args=[kind, pk])}?year={year}")
    overview = evaluation_overview(user=request.user, year=year)
    labels = _kind_labels()
    ctx = {
        **staff_context(request, _("Evaluation from residents' ratings")),
        "year": year,
        "sections": [(kind, labels[kind], lines) for kind, lines in overview.items()],
        "min_ratings": min_ratings(),
    }
    response = render(request, "happiness_list/evaluation_overview.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@staff_view(may_view_evaluation)
def evaluation_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    target = evaluation_target_get(user=request.user, kind=kind, pk=pk)
    year = _year(request)
    figures = evaluation_figures(target=target, year=year)
    labels = {
        "assistant": _("Assistant"),
        "township": _("Township"),
        "department": _("Department"),
        "organisation": _("Organisation"),
    }
    ctx = {
        **staff_context(request, _("Evaluation: %(name)s") % {"name": target.name}),
        "figures": figures,
        "kind_label": labels[target.kind],
        "year": year,
        "min_ratings": min_ratings(),
        "own": [(k, p) for k, p in own_targets(request.user) if (k, p) != (kind, pk)],
        "may_dispute": may_dispute_rating(request.user) and not is_county_wide(request.user),
        "dispute_form": DisputeForm(),
        "here": request.get_full_path(),
    }
    response = render(request, "happiness_list/evaluation.html", ctx)
    response["Cache-Control"] = "no-store"
    return response
