"""Staff evaluation from the residents' ratings: per assistant, township, department and organisation.

Each figure counts the first ratings of the year (a dispute the coordinator upheld leaves its rating
out); an average needs at least EVALUATION_MIN_RATINGS ratings behind it, below that only the count
shows (a handful of ratings says more about the households than about the work). The case mix
stands beside the figures, so a township with hard cases is read with them in mind.

Scope: the coordinator sees every unit; everyone else sees their own (an assistant their own figures
and their township's, department staff their department's, organisation members their
organisation's); any other unit is a 404, as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Avg, Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncMonth
from django.http import Http404
from django.utils import timezone

from assist_center.models import Department, Region, Role
from assist_center.scopes import is_county_wide, profile_of, role_of
from charity.models import Organisation
from eligibility.rules import ITEM_LABELS

from ..models.ratings import LOW_LEVEL, LowRatingTask, Rating
from .ratings import counted

Kind = Literal["assistant", "township", "department", "organisation"]
KINDS: tuple[Kind, ...] = ("assistant", "township", "department", "organisation")
DIMENSIONS = ("efficiency", "attitude", "quality")


def min_ratings() -> int:
    return int(getattr(settings, "EVALUATION_MIN_RATINGS", 5))


@dataclass(frozen=True)
class Target:
    kind: Kind
    pk: int
    name: str


def _name_of(kind: str, pk: int) -> str | None:
    if kind == "assistant":
        user = User.objects.filter(pk=pk, profile__role=Role.TOWNSHIP_ASSISTANT).first()
        return None if user is None else (user.get_full_name() or user.get_username())
    if kind == "township":
        return (
            Region.objects.filter(pk=pk, level=Region.Level.TOWNSHIP).values_list("name", flat=True).first()
        )
    if kind == "department":
        return Department.objects.filter(pk=pk).values_list("name", flat=True).first()
    if kind == "organisation":
        return Organisation.objects.filter(pk=pk).values_list("name", flat=True).first()
    return None


def own_targets(user: Any) -> list[tuple[Kind, int]]:
    """The units whose figures the user may see without being the coordinator."""
    p = profile_of(user)
    role = role_of(user)
    if p is None:
        return []
    if role == Role.TOWNSHIP_ASSISTANT:
        out: list[tuple[Kind, int]] = [("assistant", user.pk)]
        if p.region_id is not None:
            out.append(("township", p.region_id))
        return out
    if role == Role.DEPARTMENT_STAFF and p.department_id is not None:
        return [("department", p.department_id)]
    if role == Role.ORGANISATION:
        return [("organisation", pk) for pk in user.organisations.values_list("pk", flat=True)]
    return []


def evaluation_target_get(*, user: Any, kind: str, pk: int) -> Target:
    """The unit to show, or Http404 when it does not exist or is not the user's to see."""
    if kind not in KINDS:
        raise Http404
    if not is_county_wide(user) and (kind, pk) not in own_targets(user):
        raise Http404
    name = _name_of(kind, pk)
    if name is None:
        raise Http404
    return Target(kind=kind, pk=pk, name=name)  # type: ignore[arg-type]


def _of(kind: str, pk: int) -> Q:
    return {
        "assistant": Q(assistant_id=pk),
        "township": Q(township_id=pk),
        "department": Q(departments=pk),
        "organisation": Q(organisation_id=pk),
    }[kind]


def _year(qs: QuerySet[Rating], year: int) -> QuerySet[Rating]:
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, 1, 1, tzinfo=tz)
    end = dt.datetime(year + 1, 1, 1, tzinfo=tz)
    return qs.filter(created_at__gte=start, created_at__lt=end)


@dataclass
class Averages:
    count: int
    efficiency: float | None
    attitude: float | None
    quality: float | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> Averages:
        n = int(row.get("n") or 0)
        shown = n >= min_ratings()

        def avg(key: str) -> float | None:
            value = row.get(key)
            return round(float(value), 2) if shown and value is not None else None

        return cls(count=n, efficiency=avg("efficiency"), attitude=avg("attitude"), quality=avg("quality"))

    @property
    def shown(self) -> bool:
        return self.efficiency is not None


def _departments_count() -> Any:
    # A subquery, not Count("departments"): a department's own filter joins that table already.
    through = Rating.departments.through.objects.filter(rating_id=OuterRef("pk"))
    return Coalesce(Subquery(through.values("rating_id").annotate(c=Count("pk")).values("c")[:1]), 0)  # type: ignore[misc]


_AGG = {"n": Count("pk", distinct=True), **{d: Avg(d) for d in DIMENSIONS}}


@dataclass
class LowRow:
    """A low rating as its rated unit sees it: when, how, the tags and comment; never who."""

    rating: Rating
    task: LowRatingTask | None
    follow_up: Rating | None


@dataclass
class Figures:
    target: Target
    year: int
    total: Averages
    months: list[tuple[dt.date, Averages]]
    mix: list[tuple[str, int]]
    multi_department: int
    low: list[LowRow] = field(default_factory=list)
    low_count: int = 0


def evaluation_figures(*, target: Target, year: int) -> Figures:
    """The unit's figures for the year: averages, monthly trend, case mix and low ratings."""
    qs = counted(_year(Rating.objects.filter(_of(target.kind, target.pk), round=Rating.Round.FIRST), year))
    total = Averages.of(qs.aggregate(**_AGG))
    months = [
        (row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"], Averages.of(row))
        for row in qs.annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(**_AGG)
        .order_by("month")
    ]
    mix: Counter[str] = Counter()
    multi = 0
    for items, departments in qs.annotate(d=_departments_count()).values_list("items", "d").iterator():
        mix.update(items or ())
        multi += departments > 1
    low_ratings = list(
        qs.filter(lowest__lte=LOW_LEVEL).select_related("task__follow_up").order_by("-created_at", "-pk")[:50]
    )
    low = []
    for rating in low_ratings:
        task = getattr(rating, "task", None)
        low.append(LowRow(rating=rating, task=task, follow_up=task.follow_up if task else None))
    return Figures(
        target=target,
        year=year,
        total=total,
        months=months,
        mix=[(str(ITEM_LABELS.get(item, item)), n) for item, n in mix.most_common()],
        multi_department=multi,
        low=low,
        low_count=qs.filter(lowest__lte=LOW_LEVEL).count(),
    )


@dataclass
class OverviewLine:
    target: Target
    figures: Averages


def evaluation_overview(*, user: Any, year: int) -> dict[str, list[OverviewLine]]:
    """The coordinator's table: every rated unit of each kind with its count and averages."""
    if not is_county_wide(user):
        raise Http404
    qs = counted(_year(Rating.objects.filter(round=Rating.Round.FIRST), year))
    keys: dict[str, tuple[str, str]] = {
        "assistant": ("assistant_id", "assistant__username"),
        "township": ("township_id", "township__name"),
        "department": ("departments", "departments__name"),
        "organisation": ("organisation_id", "organisation__name"),
    }
    out: dict[str, list[OverviewLine]] = {}
    for kind, (pk_key, name_key) in keys.items():
        rows = (
            qs.filter(**{f"{pk_key}__isnull": False})
            .values(pk_key, name_key)
            .annotate(**_AGG)
            .order_by(name_key)
        )
        out[kind] = [
            OverviewLine(Target(kind=kind, pk=row[pk_key], name=str(row[name_key])), Averages.of(row))  # type: ignore[arg-type]
            for row in rows
        ]
    return out
