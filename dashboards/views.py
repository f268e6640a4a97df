"""The dashboards (/staff/dashboard/ and one page per theme), each figure also as Excel.

Small function views (house-style.md): `staff_view` is the gate (login, second factor, the
permission predicate), the selectors apply the scope. The charts are drawn by a static script
from data passed with json_script, so the pages need no inline script or style (CSP).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from assist_center.models import Department, Region
from assist_center.staff_views import staff_context, staff_view

from .exports import figure_xlsx
from .selectors import PAGES, Scope, may_see_dashboard, scope_of
from .snapshots import page_snapshot


class YearForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2020, max_value=2100, required=False)


def _year(request: HttpRequest) -> tuple[YearForm, int]:
    form = YearForm(request.GET or None)
    year = timezone.localdate().year
    if form.is_bound and form.is_valid() and form.cleaned_data["year"]:
        year = form.cleaned_data["year"]
    return form, year


def _page_or_404(slug: str, scope: Scope) -> Any:
    page = PAGES.get(slug)
    if page is None:
        raise Http404
    if page.centre_only and not scope.centre:
        raise PermissionDenied
    return page


def _scope_label(scope: Scope) -> str:
    if scope.kind == "county":
        return _("Whole county")
    if scope.kind == "township":
        name = Region.objects.filter(pk=scope.township_id).values_list("name", flat=True).first()
        return _("Township: %(name)s") % {"name": name or ""}
    name = Department.objects.filter(pk=scope.department_id).values_list("name", flat=True).first()
    return _("Department: %(name)s (its referrals)") % {"name": name or ""}


@require_GET
@staff_view(may_see_dashboard)
def dashboard(request: HttpRequest, slug: str = "overview") -> HttpResponse:
    scope = scope_of(request.user)
    assert scope is not None
    page = _page_or_404(slug, scope)
    form, year = _year(request)
    snapshot = page_snapshot(user=request.user, slug=page.slug, year=year)
    tabs = [
        (p.title(), reverse("dashboard-page", args=[p.slug]), p.slug == page.slug)
        for p in PAGES.values()
        if scope.centre or not p.centre_only
    ]
    ctx = {
        **staff_context(request, _("Dashboard: %(page)s") % {"page": page.title()}),
        "page": page,
        "tabs": tabs,
        "form": form,
        "year": year,
        "scope_label": _scope_label(scope),
        "figures": [
            {
                "f": f,
                "chart_id": f"chart-data-{f.key}",
                "data": f.chart_data(),
                # (value, is it a number): numbers right-aligned, names left.
                "rows": [[(c, c is None or isinstance(c, int | float)) for c in r] for r in f.rows],
                "xlsx": f"{reverse('dashboard-export', args=[page.slug, f.key])}?year={year}",
            }
            for f in snapshot.figures
        ],
        "computed_at": timezone.localtime(snapshot.computed_at),
    }
    response = render(request, "dashboards/page.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@staff_view(may_see_dashboard)
def dashboard_export(request: HttpRequest, slug: str, figure: str) -> HttpResponse:
    scope = scope_of(request.user)
    assert scope is not None
    page = _page_or_404(slug, scope)
    _form, year = _year(request)
    figures = page_snapshot(user=request.user, slug=page.slug, year=year).figures
    found = next((f for f in figures if f.key == figure), None)
    if found is None:
        raise Http404
    response = HttpResponse(
        figure_xlsx(found, scope_label=_scope_label(scope)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="dashboard-{found.key}-{year}.xlsx"'
    response["Cache-Control"] = "no-store"
    return response
