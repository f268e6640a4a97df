"""Data quality by township and department: missing fields, conflicts, overdue, freshness."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application, ApplicationMember, Household, Person
from assist_center.models import Department
from benefits.models import RollTask
from eligibility.models import ImportJob, MonitoringWarning
from eligibility.pool.categories import CATEGORIES

from ..figures import Figure, Series, percent
from .base import (
    Scope,
    in_towns,
    label_of,
    township_names,
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
    names = township_names(scope)
    phone = Person.objects.filter(household=OuterRef("pk")).exclude(phone_hash="")
    households = dict(
        (t, (a, b))
        for t, a, b in in_towns(Household.objects.all(), scope)
        .values_list("township_id")
        .annotate(
            no_number=Count("id", filter=Q(household_number="")),
            no_phone=Count("id", filter=~Q(Exists(phone))),
        )
        .order_by()
    )
    other_household = dict(
        in_towns(
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
        in_towns(RollTask.objects.filter(status=RollTask.Status.OPEN, kind__in=CONFLICT_KINDS), scope),
        "township_id",
    )
    overdue = _count_by(
        in_towns(
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
        headers=[_("Department"), *[label_of(RollTask.Kind, k) for k in CONFLICT_KINDS], _("Total")],
        rows=[[n, *[per[n].get(k, 0) for k in CONFLICT_KINDS], sum(per[n].values())] for n in names],
        chart="stacked",
        labels=names,
        series=[
            Series(label_of(RollTask.Kind, k), [per[n].get(k, 0) for n in names]) for k in CONFLICT_KINDS
        ],
    )
