"""The dashboards' pages and their figures (dashboards.selectors.base says who sees what)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from ..figures import Figure
from .base import Scope, may_see_centre_dashboards, may_see_dashboard, scope_of
from .hardship import causes, fell_back
from .overview import (
    applications_by_channel_and_status,
    case_time,
    department_ranking,
    open_referrals_by_colour,
    verification_time,
)
from .quality import conflicts_by_department, freshness_by_department, quality_by_township
from .support import (
    charity_by_township,
    leads_by_township,
    people_on_items,
    satisfaction_by_township,
    warnings_by_township,
)

__all__ = [
    "PAGES",
    "Page",
    "Scope",
    "may_see_centre_dashboards",
    "may_see_dashboard",
    "page_figures",
    "page_figures_for",
    "scope_of",
]


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
