"""The overview's figures: applications, time to verify and to close, referrals, departments."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application
from applications.models.intake import Channel
from assist_center.workdays import working_days_between
from eligibility.models import VerificationReport
from referrals.models import Case, Colour, Referral
from referrals.selectors import COUNTY_CASE_TARGET_DAYS

from ..figures import Figure, Series, expand, one_decimal, percent, percentile
from .base import (
    COUNTY_VERIFICATION_TARGET_DAYS,
    Scope,
    in_towns,
    label_of,
    month_label,
    months_of,
    referrals_in,
    year_range,
)

# --- the overview: time to verify and to close, referrals, departments ------------------------


def applications_by_channel_and_status(scope: Scope, year: int) -> Figure:
    start, end = year_range(year)
    rows = (
        in_towns(Application.objects.filter(created_at__gte=start, created_at__lt=end), scope)
        .values_list("channel", "status")
        .annotate(n=Count("id"))
        .order_by("channel", "status")
    )
    counts: dict[tuple[str, str], int] = {(c, s): n for c, s, n in rows}
    statuses = [s for s in Application.Status.values if any(k[1] == s for k in counts)]
    channels = [c for c in Channel.values if any(k[0] == c for k in counts)]
    table = [
        [
            label_of(Channel, c),
            *[counts.get((c, s), 0) for s in statuses],
            sum(counts.get((c, s), 0) for s in statuses),
        ]
        for c in channels
    ]
    return Figure(
        key="applications",
        title=_("Applications by channel and status, %(year)s") % {"year": year},
        headers=[_("Channel"), *[label_of(Application.Status, s) for s in statuses], _("Total")],
        rows=table,
        chart="stacked",
        labels=[label_of(Channel, c) for c in channels],
        series=[
            Series(label_of(Application.Status, s), [counts.get((c, s), 0) for c in channels])
            for s in statuses
        ],
    )


def _timing_figure(
    key: str, title: str, target: int, by_month: dict[str, list[int]], year: int, note: str
) -> Figure:
    months = months_of(year)
    rows = []
    medians: list[float | int | None] = []
    p90s: list[float | int | None] = []
    for m in months:
        values = by_month.get(m, [])
        med, p90 = percentile(values, 0.5), percentile(values, 0.9)
        medians.append(one_decimal(med))
        p90s.append(one_decimal(p90))
        within = sum(1 for v in values if v <= target)
        if values:
            rows.append(
                [m, len(values), one_decimal(med), one_decimal(p90), within, percent(within, len(values))]
            )
    return Figure(
        key=key,
        title=title,
        headers=[
            _("Month"),
            _("Count"),
            _("Median (working days)"),
            _("90th percentile (working days)"),
            _("Within %(n)s working days") % {"n": target},
            _("Share within (%)"),
        ],
        rows=rows,
        chart="line",
        labels=months,
        series=[
            Series(_("Median"), medians),
            Series(_("90th percentile"), p90s),
            Series(_("County figure (%(n)s working days)") % {"n": target}, [target] * 12),
        ],
        note=note,
    )


def verification_time(scope: Scope, year: int) -> Figure:
    """Working days from submission to the application's first verification report, by the month
    of that report (one GROUP BY over the pairs of local dates)."""
    start, end = year_range(year)
    app, rep = Application._meta.db_table, VerificationReport._meta.db_table
    where = ""
    township: list[Any] = []
    if scope.kind == "township":
        where = " AND a.township_id = %s"
        township = [scope.township_id]
    elif scope.kind != "county":
        return _timing_figure("verification", "", COUNTY_VERIFICATION_TARGET_DAYS, {}, year, "")
    tz = timezone.get_current_timezone_name()
    # Raw SQL: the first report's date is an aggregate, which the ORM cannot group by. The table
    # names come from the models; every value is a parameter. Reports from the year's end on
    # cannot be a first report inside the year, so they are left out before the per-application
    # minimum; the township's filter applies before it too.
    sql = (
        f"SELECT (created_at AT TIME ZONE %s)::date, (first_at AT TIME ZONE %s)::date, count(*) FROM ("  # noqa: S608
        f"SELECT a.created_at, min(r.created_at) AS first_at FROM {app} a "
        f"JOIN {rep} r ON r.application_id = a.id WHERE r.created_at < %s{where} "
        f"GROUP BY a.id, a.created_at HAVING min(r.created_at) >= %s) firsts GROUP BY 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tz, tz, end, *township, start])
        pairs = cursor.fetchall()
    by_month: dict[str, list[int]] = defaultdict(list)
    for submitted, verified, n in pairs:
        by_month[month_label(verified)].extend([working_days_between(submitted, verified)] * n)
    return _timing_figure(
        "verification",
        _("Verification time against the county's %(n)s working day, %(year)s")
        % {"n": COUNTY_VERIFICATION_TARGET_DAYS, "year": year},
        COUNTY_VERIFICATION_TARGET_DAYS,
        by_month,
        year,
        _("Working days from submission to the first verification report, by the month of the report."),
    )


def case_time(scope: Scope, year: int) -> Figure:
    """Working days from submission to closure of the cases closed in each month (SQL percentiles)."""
    start, end = year_range(year)
    qs = in_towns(
        Case.objects.filter(status=Case.Status.CLOSED, closed_at__gte=start, closed_at__lt=end), scope
    )
    rows = (
        qs.annotate(month=TruncMonth("closed_at"))
        .values_list("month", "working_days_to_close")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_month: dict[str, list[int]] = defaultdict(list)
    for month, days, n in rows:
        if days is not None:
            by_month[month_label(month)].extend([days] * n)
    return _timing_figure(
        "cases",
        _("Case time against the county's %(n)s working days, %(year)s")
        % {"n": COUNTY_CASE_TARGET_DAYS, "year": year},
        COUNTY_CASE_TARGET_DAYS,
        by_month,
        year,
        _("Working days from submission to closure, by the month the case closed."),
    )


COLOURS = (Colour.RED, Colour.YELLOW, Colour.BLUE, Colour.NONE)
# The workbench's badge colours (static/css/workbench.css), so a red bar is the red of the badges.
COLOUR_HEX = {Colour.RED: "#b3261e", Colour.YELLOW: "#f2c200", Colour.BLUE: "#1f5fbf", Colour.NONE: "#7cb87c"}


def open_referrals_by_colour(scope: Scope) -> Figure:
    rows = (
        referrals_in(scope)
        .filter(status__in=Referral.OPEN_STATUSES)
        .values_list("department__name", "colour")
        .annotate(n=Count("id"))
        .order_by("department__name")
    )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for name, colour, n in rows:
        counts[name][colour] = n
    names = sorted(counts)
    return Figure(
        key="open-referrals",
        title=_("Open referrals by warning colour and department"),
        headers=[_("Department"), *[label_of(Colour, c) for c in COLOURS], _("Total")],
        rows=[[n, *[counts[n].get(c, 0) for c in COLOURS], sum(counts[n].values())] for n in names],
        chart="stacked",
        labels=names,
        series=[
            Series(label_of(Colour, c), [counts[n].get(c, 0) for n in names], colour=COLOUR_HEX[c])
            for c in COLOURS
        ],
    )


@dataclass
class DepartmentRank:
    department_id: int
    name: str
    completed: int
    on_time: int
    average_days: float | None
    rank: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return percent(self.on_time, self.completed)


def department_ranking(scope: Scope, year: int) -> tuple[Figure, DepartmentRank | None]:
    """Departments ranked by the share completed on time, then by average working days.

    A department's rank is among all departments (the county's ranking), but a department sees
    only its own line; a township ranks the departments on its township's referrals.
    """
    start, end = year_range(year)
    base = Referral.objects.all() if scope.kind == "department" else referrals_in(scope)
    rows = (
        base.filter(status=Referral.Status.COMPLETED, finished_at__gte=start, finished_at__lt=end)
        .annotate(done=TruncDate("finished_at"))
        .values_list("department_id", "department__name", "start_date", "done")
        .annotate(n=Count("id"), on_time=Count("id", filter=Q(finished_at__date__lte=F("due_date"))))
        .order_by()
    )
    totals: dict[int, DepartmentRank] = {}
    days: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for dept_id, name, started, done, n, on_time in rows:
        r = totals.setdefault(dept_id, DepartmentRank(dept_id, name, 0, 0, None))
        r.completed += n
        r.on_time += on_time
        days[dept_id].append((working_days_between(started, done), n))
    for dept_id, pairs in days.items():
        values = expand(pairs)
        totals[dept_id].average_days = round(sum(values) / len(values), 2)
    ranked = sorted(totals.values(), key=lambda r: (-(r.on_time_rate or 0), r.average_days or 0, r.name))
    for position, r in enumerate(ranked, start=1):
        r.rank = position
    own = next((r for r in ranked if r.department_id == scope.department_id), None)
    shown = ranked if scope.kind != "department" else [r for r in ranked if r is own]
    figure = Figure(
        key="departments",
        title=_("Departments ranked by on-time completion, %(year)s") % {"year": year},
        headers=[
            _("Rank"),
            _("Department"),
            _("Completed"),
            _("Completed on time"),
            _("On-time rate (%)"),
            _("Avg. working days"),
        ],
        rows=[[r.rank, r.name, r.completed, r.on_time, r.on_time_rate, r.average_days] for r in shown],
        chart="hbar",
        labels=[r.name for r in shown],
        series=[
            Series(
                _("On-time rate (%)"),
                [r.on_time_rate for r in shown],
            ),
        ],
        note=(
            _("Rank %(rank)s of %(n)s departments.") % {"rank": own.rank, "n": len(ranked)}
            if own is not None
            else ""
        ),
    )
    return figure, own
