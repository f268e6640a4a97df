"""Public pages of 公益创投 projects: the list and each project's page, with its overdue reports."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from .funds_selectors import project_totals
from .projects_selectors import project_page, public_project, public_projects


def report_link(public_id: str) -> str | None:
    """The 纠错/举报 form for a project: the board's report form (charity.views.public), when installed."""
    try:
        return reverse("charity-report", args=("project", public_id))
    except NoReverseMatch:
        return None


@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    projects = list(public_projects())
    funds = project_totals()
    rows = [(p, funds.get(p.pk)) for p in projects]
    return render(request, "charity/projects/list.html", {"rows": rows})


@require_GET
def project_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    project = public_project(public_id)
    if project is None:
        raise Http404
    page = project_page(project, today=timezone.localdate())
    return render(
        request,
        "charity/projects/detail.html",
        {"page": page, "p": project, "report_url": report_link(public_id)},
    )
