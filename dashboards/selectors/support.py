"""Monitoring warnings, discovery leads, people on each item, charity and satisfaction."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from applications.models.intake import NeedItem
from assist_center.workdays import working_days_between
from benefits.models import Enrolment
from charity.models import Need
from eligibility.models import DiscoveryLead, MonitoringWarning
from happiness_list.models import Rating

from ..figures import Figure, Series, one_decimal, percent, percentile
from .base import (
    Scope,
    in_towns,
    label_of,
    year_range,
)

# --- support: monitoring, discovery, people on each item, charity, satisfaction ---------------


def warnings_by_township(scope: Scope, year: int, today: dt.date) -> Figure:
    """Monitoring warnings raised in the year: open, overdue, handled and working days to handle."""
    start, end = year_range(year)
    rows = (
        in_towns(MonitoringWarning.objects.filter(created_at__gte=start, created_at__lt=end), scope)
        .annotate(raised=TruncDate("created_at"), handled=TruncDate("resolved_at"))
        .values_list("township__name", "status", "raised", "handled")
        .annotate(n=Count("id"), overdue=Count("id", filter=Q(due_date__lt=today)))
        .order_by()
    )
    per: dict[str, dict[str, Any]] = defaultdict(lambda: {"total": 0, "open": 0, "overdue": 0, "days": []})
    for name, status, raised, handled, n, overdue in rows:
        t = per[name]
        t["total"] += n
        if status == MonitoringWarning.Status.OPEN:
            t["open"] += n
            t["overdue"] += overdue
        elif handled is not None:
            t["days"].extend([working_days_between(raised, handled)] * n)
    names = sorted(per)
    table = []
    for name in names:
        t = per[name]
        table.append(
            [
                name,
                t["total"],
                t["open"],
                t["overdue"],
                len(t["days"]),
                one_decimal(percentile(t["days"], 0.5)),
                one_decimal(percentile(t["days"], 0.9)),
            ]
        )
    return Figure(
        key="warnings",
        title=_("Monitoring warnings by township, %(year)s") % {"year": year},
        headers=[
            _("Township"),
            _("Raised"),
            _("Open"),
            _("Open and overdue"),
            _("Handled"),
            _("Median working days to handle"),
            _("90th percentile working days to handle"),
        ],
        rows=table,
        chart="bar",
        labels=names,
        series=[
            Series(_("Open"), [per[n]["open"] for n in names]),
            Series(_("Open and overdue"), [per[n]["overdue"] for n in names]),
            Series(_("Handled"), [len(per[n]["days"]) for n in names]),
        ],
    )


def leads_by_township(scope: Scope, year: int) -> Figure:
    """Discovery leads found in the year, by status; a converted lead's speed is the working days
    to the application made from it (leads keep no other handling time)."""
    start, end = year_range(year)
    rows = (
        in_towns(DiscoveryLead.objects.filter(created_at__gte=start, created_at__lt=end), scope)
        .annotate(found=TruncDate("created_at"), applied=TruncDate("application__created_at"))
        .values_list("township__name", "status", "found", "applied")
        .annotate(n=Count("id"))
        .order_by()
    )
    S = DiscoveryLead.Status
    per: dict[str, dict[str, Any]] = defaultdict(
        lambda: {S.OPEN: 0, S.CONVERTED: 0, S.DISMISSED: 0, "days": []}
    )
    for name, status, found, applied, n in rows:
        per[name][status] = per[name].get(status, 0) + n
        if status == S.CONVERTED and applied is not None:
            per[name]["days"].extend([working_days_between(found, applied)] * n)
    names = sorted(per)
    return Figure(
        key="leads",
        title=_("Discovery leads by township, %(year)s") % {"year": year},
        headers=[
            _("Township"),
            label_of(S, S.OPEN),
            label_of(S, S.CONVERTED),
            label_of(S, S.DISMISSED),
            _("Median working days to an application"),
        ],
        rows=[
            [
                n,
                per[n][S.OPEN],
                per[n][S.CONVERTED],
                per[n][S.DISMISSED],
                one_decimal(percentile(per[n]["days"], 0.5)),
            ]
            for n in names
        ],
        chart="stacked",
        labels=names,
        series=[
            Series(label_of(S, s), [per[n][s] for n in names]) for s in (S.OPEN, S.CONVERTED, S.DISMISSED)
        ],
    )


def people_on_items(scope: Scope) -> Figure:
    """Households and people enrolled on each item now (active or in gradual exit)."""
    rows = (
        in_towns(Enrolment.objects.exclude(state=Enrolment.State.ENDED), scope)
        .values_list("item")
        .annotate(
            households=Count("household", distinct=True),
            people=Count("person", distinct=True),
            exiting=Count("id", filter=Q(state=Enrolment.State.GRADUAL_EXIT)),
        )
        .order_by("item")
    )
    order = {v: i for i, v in enumerate(NeedItem.values)}
    data = sorted(rows, key=lambda r: order.get(r[0], 99))
    labels = [label_of(NeedItem, r[0]) for r in data]
    return Figure(
        key="items",
        title=_("Households and people on each assistance item"),
        headers=[_("Assistance item"), _("Households"), _("People"), _("In gradual exit")],
        rows=[[label_of(NeedItem, i), h, p, x] for i, h, p, x in data],
        chart="hbar",
        labels=labels,
        series=[Series(_("Households"), [r[1] for r in data]), Series(_("People"), [r[2] for r in data])],
        note=_(
            "People counts enrolments made for a named person; a household enrolment counts its household."
        ),
    )


def charity_by_township(scope: Scope, year: int) -> Figure:
    """公益谷: needs published in the year, how many were claimed and completed, people helped."""
    start, end = year_range(year)
    published = in_towns(Need.objects.filter(published_at__gte=start, published_at__lt=end), scope)
    rows = (
        published.values_list("township__name")
        .annotate(
            published=Count("id", distinct=True),
            claimed=Count("id", filter=Q(claims__isnull=False), distinct=True),
            completed=Count("id", filter=Q(status=Need.Status.COMPLETED), distinct=True),
            people=Count("household__members", filter=Q(status=Need.Status.COMPLETED), distinct=True),
        )
        .order_by("township__name")
    )
    data = list(rows)
    total = [sum(r[i] for r in data) for i in range(1, 5)]
    return Figure(
        key="charity",
        title=_("Charity needs by township, %(year)s") % {"year": year},
        headers=[
            _("Township"),
            _("Needs published"),
            _("Needs claimed"),
            _("Needs completed"),
            _("People helped"),
        ],
        rows=[list(r) for r in data] + ([[_("Total"), *total]] if len(data) > 1 else []),
        chart="bar",
        labels=[r[0] for r in data],
        series=[
            Series(_("Needs published"), [r[1] for r in data]),
            Series(_("Needs claimed"), [r[2] for r in data]),
            Series(_("Needs completed"), [r[3] for r in data]),
        ],
        note=_("People helped: members of the households whose published need was completed."),
    )


def satisfaction_by_township(scope: Scope, year: int) -> Figure:
    start, end = year_range(year)
    rows = (
        in_towns(Rating.objects.filter(created_at__gte=start, created_at__lt=end), scope)
        .values_list("township__name")
        .annotate(
            n=Count("id"),
            satisfied=Count("id", filter=Q(lowest__gte=4)),
            low=Count("id", filter=Q(lowest__lte=2)),
            efficiency=Avg("efficiency"),
            attitude=Avg("attitude"),
            quality=Avg("quality"),
        )
        .order_by("township__name")
    )
    data = list(rows)
    return Figure(
        key="satisfaction",
        title=_("Satisfaction ratings by township, %(year)s") % {"year": year},
        headers=[
            _("Township"),
            _("Ratings"),
            _("Satisfied or very satisfied"),
            _("Satisfaction rate (%)"),
            _("Dissatisfied"),
            _("Efficiency (1-5)"),
            _("Attitude (1-5)"),
            _("Quality of help (1-5)"),
        ],
        rows=[
            [name, n, s, percent(s, n), low, one_decimal(e), one_decimal(a), one_decimal(q)]
            for name, n, s, low, e, a, q in data
        ],
        chart="bar",
        labels=[r[0] for r in data],
        series=[
            Series(_("Satisfaction rate (%)"), [round(100 * r[2] / r[1], 1) if r[1] else None for r in data])
        ],
        note=_("Satisfied: the lowest of the three levels is 4 or 5."),
    )
