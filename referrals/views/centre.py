"""The centre's pages: the coordinator's queue and the statistics per department and per case.

The coordinator sees the county; a township assistant sees their township's part (the selectors
apply the scope). The queue links to each referral's page, where the reassign, extend and answer
forms are, so that each action keeps one URL and one service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from applications.services.otp import IP_PER_HOUR, otp_refusal_counts
from assist_center.permissions import is_centre, is_county_wide
from assist_center.staff_views import staff_context, staff_view

from ..models import Case, Referral
from ..selectors import (
    COUNTY_CASE_TARGET_DAYS,
    QUEUE_SHOWN,
    CoordinatorQueue,
    DepartmentStats,
    case_stats,
    coordinator_queue,
    department_stats,
)
from ..selectors_stats import cases_closed_latest
from .workbench import Row, row_for


def _rows(referrals: list[Referral]) -> list[Row]:
    """List rows with the case's receipt code fetched in one query for all of them (no N+1)."""
    today = timezone.localdate()
    receipts = dict(
        Case.objects.filter(pk__in={r.case_id for r in referrals}).values_list(
            "pk", "application__receipt_code"
        )
    )
    return [row_for(r, today, receipt=receipts.get(r.case_id, "")) for r in referrals]


@require_GET
@staff_view(is_centre)
def centre_queue(request: HttpRequest) -> HttpResponse:
    """Red referrals, returned referrals, and questions waiting for the centre's answer."""
    queue = coordinator_queue(user=request.user)
    more = any(len(part) > QUEUE_SHOWN for part in (queue.red, queue.returned, queue.waiting_on_centre))
    queue = CoordinatorQueue(
        red=queue.red[:QUEUE_SHOWN],
        returned=queue.returned[:QUEUE_SHOWN],
        waiting_on_centre=queue.waiting_on_centre[:QUEUE_SHOWN],
    )
    everything = [*queue.red, *queue.returned, *queue.waiting_on_centre]
    rows = {id(row.referral): row for row in _rows(everything)}
    sections = [
        {
            "key": "red",
            "title": _("Red: overdue"),
            "help": _("Past their due date: call the department, reassign or extend with a reason."),
            "rows": [rows[id(r)] for r in queue.red],
        },
        {
            "key": "returned",
            "title": _("Returned to the centre"),
            "help": _("A department returned these: reassign them to the right department."),
            "rows": [rows[id(r)] for r in queue.returned],
        },
        {
            "key": "waiting",
            "title": _("Waiting for the centre's answer"),
            "help": _("A department asked for more information; its deadline is paused until you answer."),
            "rows": [rows[id(r)] for r in queue.waiting_on_centre],
        },
    ]
    ctx = {
        **staff_context(request, _("Centre queue")),
        "sections": sections,
        "total": f"{queue.total}+" if more else queue.total,
        "shown_at_most": QUEUE_SHOWN if more else None,
        "is_centre": True,
    }
    response = render(request, "referrals/centre_queue.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


class PeriodForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2020, max_value=2100, required=False)
    month = forms.IntegerField(label=gettext_lazy("Month"), min_value=1, max_value=12, required=False)


@dataclass
class DepartmentLine:
    """One department's line: open and overdue now, completions this month and this year."""

    department: str
    open: int
    overdue: int
    month: DepartmentStats | None
    year: DepartmentStats | None

    @property
    def on_time_open(self) -> int:
        return self.open - self.overdue


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _figures(user: Any, year: int, month: int | None) -> dict[str, Any]:
    s = case_stats(user=user, year=year, month=month)
    return {
        "closed": s.closed,
        "open": s.open,
        "average": s.average_working_days,
        "median": s.median_working_days,  # from the same rows: one query fewer (issue 15)
        "within": s.within_target,
        "share": _share(s.within_target, s.closed),
    }


@require_GET
@staff_view(is_centre)
def centre_stats(request: HttpRequest) -> HttpResponse:
    """Per department and per case, this month and this year (or the month and year asked for)."""
    today = timezone.localdate()
    period = PeriodForm(request.GET or None)
    year, month = today.year, today.month
    if period.is_bound and period.is_valid():
        year = period.cleaned_data["year"] or year
        month = period.cleaned_data["month"] or month
    user = request.user
    by_year = {s.department_id: s for s in department_stats(user=user, year=year)}
    by_month = {s.department_id: s for s in department_stats(user=user, year=year, month=month)}
    lines = []
    for dept_id in sorted(by_year.keys() | by_month.keys()):
        # Open and overdue are "now" in both calls; either row carries them.
        any_row = by_year.get(dept_id) or by_month[dept_id]
        lines.append(
            DepartmentLine(
                department=any_row.department,
                open=any_row.open,
                overdue=any_row.overdue,
                month=by_month.get(dept_id),
                year=by_year.get(dept_id),
            )
        )
    ctx = {
        **staff_context(request, _("Statistics")),
        "period": period,
        "year": year,
        "month": month,
        "lines": lines,
        "cases_month": _figures(user, year, month),
        "cases_year": _figures(user, year, None),
        "latest": cases_closed_latest(user=user, year=year),
        "target": COUNTY_CASE_TARGET_DAYS,
        "is_centre": True,
        # Issue 16: whether the SMS code limits refuse residents (county-wide figures, no phones).
        "sms_refusals": otp_refusal_counts() if is_county_wide(user) else None,
        "sms_ip_ceiling": IP_PER_HOUR,
    }
    response = render(request, "referrals/centre_stats.html", ctx)
    response["Cache-Control"] = "no-store"
    return response
