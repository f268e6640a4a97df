from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from .scopes import is_county_wide


def site(request: HttpRequest) -> dict[str, object]:
    ctx: dict[str, object] = {"COUNTY_NAME": settings.COUNTY_NAME, "SITE_URL": settings.SITE_URL}
    # Next year's holidays are published in Nov/Dec; until someone enters them, every deadline
    # that reaches into that year is provisional, so the people who can fix it are told on every page.
    if request.path.startswith("/admin/") and is_county_wide(request.user):
        from .workdays import unconfirmed_next_year_warning

        ctx["calendar_warning"] = unconfirmed_next_year_warning()
    return ctx
