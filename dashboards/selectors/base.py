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
from dataclasses import dataclass
from typing import Any

from django.db.models import Aggregate, FloatField, QuerySet
from django.utils import timezone

from assist_center.models import Region, Role
from assist_center.scopes import is_county_wide, profile_of, role_of
from referrals.models import Referral

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


def in_towns(qs: QuerySet[Any], scope: Scope, field: str = "township_id") -> QuerySet[Any]:
    """Rows placed in a township: the county all, a township its own, a department none."""
    if scope.kind == "county":
        return qs
    if scope.kind == "township":
        return qs.filter(**{field: scope.township_id})
    return qs.none()


def referrals_in(scope: Scope) -> QuerySet[Referral]:
    qs = Referral.objects.all()
    if scope.kind == "township":
        return qs.filter(township_id=scope.township_id)
    if scope.kind == "department":
        return qs.filter(department_id=scope.department_id)
    return qs


# --- periods ---------------------------------------------------------------------------------


def year_range(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


def month_label(day: dt.date | dt.datetime) -> str:
    return f"{day.year}-{day.month:02d}"


def months_of(year: int) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(1, 13)]


def label_of(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def township_names(scope: Scope) -> dict[int, str]:
    qs = in_towns(Region.objects.filter(level=Region.Level.TOWNSHIP), scope, field="pk")
    return dict(qs.order_by("code").values_list("pk", "name"))
