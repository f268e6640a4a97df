"""Causes of hardship by township and month; households that fell back into need (返贫)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Exists, OuterRef
from django.db.models.functions import TruncDate, TruncMonth
from django.utils.translation import gettext as _

from applications.models import Application
from benefits.models import Enrolment

from ..figures import Figure, Series
from .base import (
    Scope,
    in_towns,
    month_label,
    months_of,
    year_range,
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
    start, end = year_range(year)
    rows = (
        in_towns(Application.objects.filter(created_at__gte=start, created_at__lt=end), scope)
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
        by_month[month_label(month)][c] += n
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
            months_of(year),
            note,
        ),
    )


EXIT_REASONS = (Enrolment.EndReason.GRACE_ENDED, Enrolment.EndReason.NO_LONGER_ELIGIBLE)


def fell_back(scope: Scope, year: int) -> Figure:
    """返贫: households that applied in the year after an enrolment of theirs ended because they
    no longer needed it (a completed gradual exit, or no longer eligible), by township and cause.
    A household counts once, with the cause of its latest application."""
    start, end = year_range(year)
    exited = Enrolment.objects.filter(
        household=OuterRef("household"),
        state=Enrolment.State.ENDED,
        end_reason__in=EXIT_REASONS,
        ended_on__lt=OuterRef("submitted_on"),
    )
    rows = (
        in_towns(
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
