"""The dashboards' figures: each one SQL aggregate (or two) over the records, scoped in one place.

Who sees what (security.md): the county coordinator (and a superuser) the county; a township
assistant their township; department staff the referrals addressed to their department, with
their department's rank among all departments but no other department's figures. Anyone else
has no dashboard (the views answer 403).

Working days come from the project's calendar (assist_center.workdays), which is Python over an
in-memory table: where a figure needs working days between two dates, the query groups the rows
by the pair of dates and returns a count per pair, and the calendar turns each pair into working
days. A year of a county is a few thousand distinct pairs at most, whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Avg, Count, Exists, F, FloatField, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application, ApplicationMember, Household, Person
from applications.models.intake import Channel, NeedItem
from assist_center.models import Department, Region, Role
from assist_center.scopes import is_county_wide, profile_of, role_of
from assist_center.workdays import working_days_between
from benefits.models import Enrolment, RollTask
from charity.models import Need
from eligibility.models import DiscoveryLead, ImportJob, MonitoringWarning, VerificationReport
from eligibility.pool.categories import CATEGORIES
from happiness_list.models import Rating
from referrals.models import Case, Colour, Referral
from referrals.selectors import COUNTY_CASE_TARGET_DAYS

from .figures import Figure, Series, expand, one_decimal, percent, percentile

# The county's published figure for the data check (design.md): 1 working day (it was 15).
COUNTY_VERIFICATION_TARGET_DAYS = 1


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont; Django has no percentile aggregate of its own."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=fraction, **extra)


# --- scope -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    kind: str  # "county", "township" or "department"
    township_id: int = 0  # set for "township" (0 matches no row)
    department_id: int = 0  # set for "department"

    @property
    def centre(self) -> bool:
        return self.kind in ("county", "township")


def scope_of(user: Any) -> Scope | None:
    """The dashboard scope of a user, or None for a user without a dashboard."""
    if is_county_wide(user):
        return Scope("county")
    p = profile_of(user)
    role = role_of(user)
    if p is None:
        return None
    if role == Role.TOWNSHIP_ASSISTANT and p.region_id is not None:
        return Scope("township", township_id=p.region_id)
    if role == Role.DEPARTMENT_STAFF and p.department_id is not None:
        return Scope("department", department_id=p.department_id)
    return None


def may_see_dashboard(user: Any) -> bool:
    return scope_of(user) is not None


def may_see_centre_dashboards(user: Any) -> bool:
    """The township and county pages (applications, households, causes): not departments'."""
    s = scope_of(user)
    return s is not None and s.centre


def _towns(qs: QuerySet[Any], scope: Scope, field: str = "township_id") -> QuerySet[Any]:
    """Rows placed in a township: the county all, a township its own, a department none."""
    if scope.kind == "county":
        return qs
    if scope.kind == "township":
        return qs.filter(**{field: scope.township_id})
    return qs.none()


def _referrals(scope: Scope) -> QuerySet[Referral]:
    qs = Referral.objects.all()
    if scope.kind == "township":
        return qs.filter(township_id=scope.township_id)
    if scope.kind == "department":
        return qs.filter(department_id=scope.department_id)
    return qs


# --- periods ---------------------------------------------------------------------------------


def _year_range(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


def _month_label(day: dt.date | dt.datetime) -> str:
    return f"{day.year}-{day.month:02d}"


def _months(year: int) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(1, 13)]


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


# --- the overview: time to verify and to close, referrals, departments ------------------------


def applications_by_channel_and_status(scope: Scope, year: int) -> Figure:
    start, end = _year_range(year)
    rows = (
        _towns(Application.objects.filter(created_at__gte=start, created_at__lt=end), scope)
        .values_list("channel", "status")
        .annotate(n=Count("id"))
        .order_by("channel", "status")
    )
    counts: dict[tuple[str, str], int] = {(c, s): n for c, s, n in rows}
    statuses = [s for s in Application.Status.values if any(k[1] == s for k in counts)]
    channels = [c for c in Channel.values if any(k[0] == c for k in counts)]
    table = [
        [
            _label(Channel, c),
            *[counts.get((c, s), 0) for s in statuses],
            sum(counts.get((c, s), 0) for s in statuses),
        ]
        for c in channels
    ]
    return Figure(
        key="applications",
        title=_("Applications by channel and status, %(year)s") % {"year": year},
        headers=[_("Channel"), *[_label(Application.Status, s) for s in statuses], _("Total")],
        rows=table,
        chart="stacked",
        labels=[_label(Channel, c) for c in channels],
        series=[
            Series(_label(Application.Status, s), [counts.get((c, s), 0) for c in channels]) for s in statuses
        ],
    )


def _timing_figure(
    key: str, title: str, target: int, by_month: dict[str, list[int]], year: int, note: str
) -> Figure:
    months = _months(year)
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
    start, end = _year_range(year)
    app, rep = Application._meta.db_table, VerificationReport._meta.db_table
    params: list[Any] = [start, end]
    where = ""
    if scope.kind == "township":
        where = " AND a.township_id = %s"
        params.append(scope.township_id)
    elif scope.kind != "county":
        return _timing_figure("verification", "", COUNTY_VERIFICATION_TARGET_DAYS, {}, year, "")
    tz = timezone.get_current_timezone_name()
    # Raw SQL: the first report's date is an aggregate, which the ORM cannot group by. The table
    # names come from the models; every value is a parameter.
    sql = (
        f"SELECT (a.created_at AT TIME ZONE %s)::date, (r.first_at AT TIME ZONE %s)::date, count(*) "  # noqa: S608
        f"FROM {app} a JOIN (SELECT application_id, min(created_at) AS first_at FROM {rep} "
        f"GROUP BY application_id) r ON r.application_id = a.id "
        f"WHERE r.first_at >= %s AND r.first_at < %s{where} GROUP BY 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tz, tz, *params])
        pairs = cursor.fetchall()
    by_month: dict[str, list[int]] = defaultdict(list)
    for submitted, verified, n in pairs:
        by_month[_month_label(verified)].extend([working_days_between(submitted, verified)] * n)
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
    start, end = _year_range(year)
    qs = _towns(
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
            by_month[_month_label(month)].extend([days] * n)
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
        _referrals(scope)
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
        headers=[_("Department"), *[_label(Colour, c) for c in COLOURS], _("Total")],
        rows=[[n, *[counts[n].get(c, 0) for c in COLOURS], sum(counts[n].values())] for n in names],
        chart="stacked",
        labels=names,
        series=[
            Series(_label(Colour, c), [counts[n].get(c, 0) for n in names], colour=COLOUR_HEX[c])
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
    start, end = _year_range(year)
    base = Referral.objects.all() if scope.kind == "department" else _referrals(scope)
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


# --- support: monitoring, discovery, people on each item, charity, satisfaction ---------------


def _township_names(scope: Scope) -> dict[int, str]:
    qs = _towns(Region.objects.filter(level=Region.Level.TOWNSHIP), scope, field="pk")
    return dict(qs.order_by("code").values_list("pk", "name"))


def warnings_by_township(scope: Scope, year: int, today: dt.date) -> Figure:
    """Monitoring warnings raised in the year: open, overdue, handled and working days to handle."""
    start, end = _year_range(year)
    rows = (
        _towns(MonitoringWarning.objects.filter(created_at__gte=start, created_at__lt=end), scope)
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
    start, end = _year_range(year)
    rows = (
        _towns(DiscoveryLead.objects.filter(created_at__gte=start, created_at__lt=end), scope)
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
            _label(S, S.OPEN),
            _label(S, S.CONVERTED),
            _label(S, S.DISMISSED),
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
        series=[Series(_label(S, s), [per[n][s] for n in names]) for s in (S.OPEN, S.CONVERTED, S.DISMISSED)],
    )


def people_on_items(scope: Scope) -> Figure:
    """Households and people enrolled on each item now (active or in gradual exit)."""
    rows = (
        _towns(Enrolment.objects.exclude(state=Enrolment.State.ENDED), scope)
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
    labels = [_label(NeedItem, r[0]) for r in data]
    return Figure(
        key="items",
        title=_("Households and people on each assistance item"),
        headers=[_("Assistance item"), _("Households"), _("People"), _("In gradual exit")],
        rows=[[_label(NeedItem, i), h, p, x] for i, h, p, x in data],
        chart="hbar",
        labels=labels,
        series=[Series(_("Households"), [r[1] for r in data]), Series(_("People"), [r[2] for r in data])],
        note=_(
            "People counts enrolments made for a named person; a household enrolment counts its household."
        ),
    )


def charity_by_township(scope: Scope, year: int) -> Figure:
    """公益谷: needs published in the year, how many were claimed and completed, people helped."""
    start, end = _year_range(year)
    published = _towns(Need.objects.filter(published_at__gte=start, published_at__lt=end), scope)
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
    start, end = _year_range(year)
    rows = (
        _towns(Rating.objects.filter(created_at__gte=start, created_at__lt=end), scope)
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


# --- causes of hardship and households that fell back into need ------------------------------

# The causes of hardship the county reports (illness, disability, schooling, accident,
# unemployment, disaster, family). Applications carry the items asked for, not a cause, so the
# cause is read from the items: the first of these that the application asks for decides it, and
# an application asking only for the living allowances, housing or bills counts as "family".
CAUSE_OF_ITEM: tuple[tuple[str, str], ...] = (
    ("medical", "illness"),
    ("disability_living", "disability"),
    ("disability_care", "disability"),
    ("education", "schooling"),
    ("temporary", "accident"),
    ("employment", "unemployment"),
    ("disaster", "disaster"),
)
CAUSES = ("illness", "disability", "schooling", "accident", "unemployment", "disaster", "family")


def cause_labels() -> dict[str, str]:
    return {
        "illness": _("Illness"),
        "disability": _("Disability"),
        "schooling": _("Schooling"),
        "accident": _("Accident or emergency"),
        "unemployment": _("Unemployment"),
        "disaster": _("Disaster"),
        "family": _("Family circumstances"),
    }


def cause_of(needs: list[str] | None) -> str:
    asked = set(needs or ())
    for item, cause in CAUSE_OF_ITEM:
        if item in asked:
            return cause
    return "family"


def _cause_table(
    key: str, title: str, first: str, rows: dict[str, dict[str, int]], order: list[str], note: str
) -> Figure:
    labels = cause_labels()
    return Figure(
        key=key,
        title=title,
        headers=[first, *[labels[c] for c in CAUSES], _("Total")],
        rows=[[k, *[rows[k].get(c, 0) for c in CAUSES], sum(rows[k].values())] for k in order if k in rows],
        chart="stacked",
        labels=[k for k in order if k in rows],
        series=[Series(labels[c], [rows[k].get(c, 0) for k in order if k in rows]) for c in CAUSES],
        note=note,
    )


def causes(scope: Scope, year: int) -> tuple[Figure, Figure]:
    """Applications of the year by cause: per township and per month (one query for both)."""
    start, end = _year_range(year)
    rows = (
        _towns(Application.objects.filter(created_at__gte=start, created_at__lt=end), scope)
        .annotate(month=TruncMonth("created_at"))
        .values_list("township__name", "month", "needs")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_town: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_month: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for town, month, needs, n in rows:
        c = cause_of(needs)
        by_town[town][c] += n
        by_month[_month_label(month)][c] += n
    note = _(
        "The cause is read from the items asked for: medical assistance is illness, the disability "
        "allowances disability, education schooling, temporary assistance an accident or emergency, "
        "employment unemployment, disaster assistance a disaster; the rest family circumstances."
    )
    return (
        _cause_table(
            "causes-township",
            _("Causes of hardship by township, %(year)s") % {"year": year},
            _("Township"),
            by_town,
            sorted(by_town),
            note,
        ),
        _cause_table(
            "causes-month",
            _("Causes of hardship by month, %(year)s") % {"year": year},
            _("Month"),
            by_month,
            _months(year),
            note,
        ),
    )


EXIT_REASONS = (Enrolment.EndReason.GRACE_ENDED, Enrolment.EndReason.NO_LONGER_ELIGIBLE)


def fell_back(scope: Scope, year: int) -> Figure:
    """返贫: households that applied in the year after an enrolment of theirs ended because they
    no longer needed it (a completed gradual exit, or no longer eligible), by township and cause.
    A household counts once, with the cause of its latest application."""
    start, end = _year_range(year)
    exited = Enrolment.objects.filter(
        household=OuterRef("household"),
        state=Enrolment.State.ENDED,
        end_reason__in=EXIT_REASONS,
        ended_on__lt=OuterRef("submitted_on"),
    )
    rows = (
        _towns(
            Application.objects.filter(created_at__gte=start, created_at__lt=end, household__isnull=False),
            scope,
        )
        .annotate(submitted_on=TruncDate("created_at"))
        .filter(Exists(exited))
        .order_by("household_id", "-created_at")
        .distinct("household_id")
        .values_list("township__name", "needs")
    )
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for town, needs in rows:
        per[town][cause_of(needs)] += 1
    return _cause_table(
        "fell-back",
        _("Households that fell back into need after an exit, %(year)s") % {"year": year},
        _("Township"),
        per,
        sorted(per),
        _(
            "Households that applied again after an enrolment ended with a completed gradual exit or "
            "as no longer eligible; each household once, with the cause of its latest application."
        ),
    )


# --- data quality ------------------------------------------------------------------------------

CONFLICT_KINDS = (
    RollTask.Kind.ON_LIST_NOT_ENROLLED,
    RollTask.Kind.ENROLLED_NOT_ON_LIST,
    RollTask.Kind.AMOUNT_DIFFERS,
)


def _count_by(qs: QuerySet[Any], field: str) -> dict[Any, int]:
    return dict(qs.values_list(field).annotate(n=Count("id")).order_by())


def quality_by_township(scope: Scope, today: dt.date) -> Figure:
    names = _township_names(scope)
    phone = Person.objects.filter(household=OuterRef("pk")).exclude(phone_hash="")
    households = dict(
        (t, (a, b))
        for t, a, b in _towns(Household.objects.all(), scope)
        .values_list("township_id")
        .annotate(
            no_number=Count("id", filter=Q(household_number="")),
            no_phone=Count("id", filter=~Q(Exists(phone))),
        )
        .order_by()
    )
    other_household = dict(
        _towns(
            ApplicationMember.objects.filter(
                in_other_household=True, application__status__in=Application.OPEN_STATUSES
            ),
            scope,
            field="application__township_id",
        )
        .values_list("application__township_id")
        .annotate(n=Count("application", distinct=True))
        .order_by()
    )
    conflicts = _count_by(
        _towns(RollTask.objects.filter(status=RollTask.Status.OPEN, kind__in=CONFLICT_KINDS), scope),
        "township_id",
    )
    overdue = _count_by(
        _towns(
            MonitoringWarning.objects.filter(status=MonitoringWarning.Status.OPEN, due_date__lt=today), scope
        ),
        "township_id",
    )
    table = []
    for pk, name in names.items():
        no_number, no_phone = households.get(pk, (0, 0))
        table.append(
            [name, no_number, no_phone, other_household.get(pk, 0), conflicts.get(pk, 0), overdue.get(pk, 0)]
        )
    headers = [
        _("Township"),
        _("Households without a household number"),
        _("Households without any phone"),
        _("Open applications naming a member of another household"),
        _("Unresolved conflicts with departments' lists"),
        _("Overdue monitoring warnings"),
    ]
    return Figure(
        key="quality-township",
        title=_("Data quality by township"),
        headers=headers,
        rows=table,
        chart="hbar",
        labels=[r[0] for r in table],
        series=[Series(headers[i], [r[i] for r in table]) for i in range(1, 6)],
    )


def freshness_by_department(scope: Scope, today: dt.date) -> Figure:
    """How fresh each department's data in the pool is: its latest finished import, the rows it
    read and rejected, and the imports that failed in the last 90 days."""
    # The pool is county-wide (no township's figures in it): a township sees it whole.
    dept_of = {code: c.department for code, c in CATEGORIES.items()}
    latest = (
        ImportJob.objects.filter(status=ImportJob.Status.DONE, finished_at__isnull=False)
        .order_by("category", "-finished_at")
        .distinct("category")
        .values_list("category", "finished_at", "rows_read", "rows_rejected")
    )
    since = timezone.now() - dt.timedelta(days=90)
    failed = dict(
        ImportJob.objects.filter(status=ImportJob.Status.FAILED, created_at__gte=since)
        .values_list("category")
        .annotate(n=Count("id"))
        .order_by()
    )
    depts = Department.objects.order_by("sort_order", "code")
    if scope.kind == "department":
        depts = depts.filter(pk=scope.department_id)
    names = dict(depts.values_list("code", "name"))
    per: dict[str, dict[str, Any]] = {
        code: {"categories": 0, "last": None, "rows": 0, "rejected": 0, "failed": 0} for code in names
    }
    for c in CATEGORIES.values():
        if c.department in per:
            per[c.department]["categories"] += 1
    for category, finished, rows_read, rejected in latest:
        d = per.get(dept_of.get(category, ""))
        if d is None:
            continue
        d["rows"] += rows_read
        d["rejected"] += rejected
        local = timezone.localtime(finished).date()
        d["last"] = local if d["last"] is None else max(d["last"], local)
    for category, n in failed.items():
        d = per.get(dept_of.get(category, ""))
        if d is not None:
            d["failed"] += n
    table = []
    for code, d in per.items():
        if d["categories"] == 0:
            continue
        age = (today - d["last"]).days if d["last"] else None
        table.append(
            [
                names[code],
                d["categories"],
                d["last"].isoformat() if d["last"] else _("never"),
                age,
                d["rows"],
                d["rejected"],
                percent(d["rejected"], d["rows"]),
                d["failed"],
            ]
        )
    return Figure(
        key="freshness",
        title=_("Freshness of each department's data"),
        headers=[
            _("Department"),
            _("Record categories"),
            _("Last import"),
            _("Days since"),
            _("Rows in the latest imports"),
            _("Rows rejected"),
            _("Share rejected (%)"),
            _("Failed imports (90 days)"),
        ],
        rows=table,
        chart="hbar",
        labels=[r[0] for r in table],
        series=[Series(_("Days since the last import"), [r[3] for r in table])],
        note=_("Per category the latest finished import counts; a department's date is its most recent one."),
    )


def conflicts_by_department(scope: Scope) -> Figure:
    qs = RollTask.objects.filter(status=RollTask.Status.OPEN, kind__in=CONFLICT_KINDS)
    if scope.kind == "township":
        qs = qs.filter(township_id=scope.township_id)
    elif scope.kind == "department":
        qs = qs.filter(enrolment__department_id=scope.department_id)
    rows = (
        qs.values_list("enrolment__department__name", "kind")
        .annotate(n=Count("id"))
        .order_by("enrolment__department__name")
    )
    per: dict[str, dict[str, int]] = defaultdict(dict)
    for name, kind, n in rows:
        per[name or _("Not yet enrolled")][kind] = n
    names = sorted(per)
    return Figure(
        key="conflicts-department",
        title=_("Unresolved conflicts with departments' lists, by department"),
        headers=[_("Department"), *[_label(RollTask.Kind, k) for k in CONFLICT_KINDS], _("Total")],
        rows=[[n, *[per[n].get(k, 0) for k in CONFLICT_KINDS], sum(per[n].values())] for n in names],
        chart="stacked",
        labels=names,
        series=[Series(_label(RollTask.Kind, k), [per[n].get(k, 0) for n in names]) for k in CONFLICT_KINDS],
    )


# --- pages -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    slug: str
    title: Callable[[], str]
    centre_only: bool
    build: Callable[[Scope, int, dt.date], list[Figure]]


def _overview(scope: Scope, year: int, today: dt.date) -> list[Figure]:
    ranking, _own = department_ranking(scope, year)
    if scope.kind == "department":
        return [open_referrals_by_colour(scope), ranking]
    return [
        applications_by_channel_and_status(scope, year),
        verification_time(scope, year),
        case_time(scope, year),
        open_referrals_by_colour(scope),
        ranking,
    ]


def _support(scope: Scope, year: int, today: dt.date) -> list[Figure]:
    return [
        warnings_by_township(scope, year, today),
        leads_by_township(scope, year),
        people_on_items(scope),
        charity_by_township(scope, year),
        satisfaction_by_township(scope, year),
    ]


def _causes(scope: Scope, year: int, today: dt.date) -> list[Figure]:
    by_town, by_month = causes(scope, year)
    return [by_town, by_month, fell_back(scope, year)]


def _quality(scope: Scope, year: int, today: dt.date) -> list[Figure]:
    if scope.kind == "department":
        return [freshness_by_department(scope, today), conflicts_by_department(scope)]
    return [
        quality_by_township(scope, today),
        freshness_by_department(scope, today),
        conflicts_by_department(scope),
    ]


PAGES: dict[str, Page] = {
    "overview": Page("overview", lambda: _("Overview"), False, _overview),
    "support": Page("support", lambda: _("Monitoring, items and charity"), True, _support),
    "causes": Page("causes", lambda: _("Causes of hardship"), True, _causes),
    "quality": Page("quality", lambda: _("Data quality"), False, _quality),
}


def page_figures_for(scope: Scope, slug: str, year: int, today: dt.date) -> list[Figure]:
    return PAGES[slug].build(scope, year, today)


def page_figures(*, user: Any, slug: str, year: int, today: dt.date | None = None) -> list[Figure]:
    """The figures of one dashboard page for the user, computed now (callers have checked the user
    may see it; the pages read them through dashboards.snapshots)."""
    scope = scope_of(user)
    assert scope is not None
    return page_figures_for(scope, slug, year, today or timezone.localdate())
