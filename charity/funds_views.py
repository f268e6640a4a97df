"""The public fund ledger (/charity/funds/) and its downloads: login-free, public data only."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from assist_center.pdf import attachment_response

from .funds_exports import ledger_csv, ledger_xlsx
from .funds_selectors import (
    ledger_rows,
    ledger_years,
    organisation_totals,
    overdue_pledges,
    project_totals,
    projects_with_undisclosed_leftover,
    totals,
)
from .models import FundEntry, Organisation

PAGE_SIZE = 50
# A download holds at most this many lines: the county's whole ledger is far below it.
MAX_EXPORT_ROWS = 20000


def _filters(request: HttpRequest) -> dict[str, Any]:
    """Query-string filters; anything malformed is ignored rather than refused (a shared link)."""
    out: dict[str, Any] = {}
    kind = request.GET.get("kind", "")
    if kind in FundEntry.Kind.values:
        out["kind"] = kind
    year = request.GET.get("year", "")
    if year.isascii() and year.isdigit() and 2000 <= int(year) <= 2100:
        out["year"] = int(year)
    org = request.GET.get("org", "")
    if org.isascii() and org.isdigit() and len(org) < 12:
        out["organisation"] = Organisation.objects.filter(pk=int(org)).first()
    return {k: v for k, v in out.items() if v is not None}


@require_GET
def fund_ledger(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    filters = _filters(request)
    page = Paginator(ledger_rows(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "totals": totals(),
        "organisations": organisation_totals(),
        "overdue": overdue_pledges(today=today),
        "undisclosed": list(projects_with_undisclosed_leftover(today=today)),
        "project_totals": project_totals(),
        "page": page,
        "filters": filters,
        "query": query.urlencode(),
        "kinds": FundEntry.Kind.choices,
        "years": ledger_years(),
        "orgs": Organisation.objects.filter(fund_entries__isnull=False).distinct().order_by("name"),
        "today": today,
    }
    return render(request, "charity/funds/ledger.html", ctx)


def _export(request: HttpRequest) -> list[FundEntry]:
    return list(ledger_rows(**_filters(request))[:MAX_EXPORT_ROWS])


@require_GET
def fund_ledger_csv(request: HttpRequest) -> HttpResponse:
    # Public data (donors named only with consent), the same as the page: no audit row per
    # anonymous download, which would let anyone fill the audit log.
    data = ledger_csv(_export(request))
    name = f"公益资金台账-{timezone.localdate():%Y%m%d}.csv"
    response = attachment_response(
        data, content_type="text/csv; charset=utf-8", filename=name, ascii_fallback="fund-ledger.csv"
    )
    return response


@require_GET
def fund_ledger_xlsx(request: HttpRequest) -> HttpResponse:
    data = ledger_xlsx(_export(request))
    name = f"公益资金台账-{timezone.localdate():%Y%m%d}.xlsx"
    return attachment_response(
        data,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=name,
        ascii_fallback="fund-ledger.xlsx",
    )
