from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .permissions import CENTRE_ROLES, REFERRAL_ROLES
from .scopes import is_county_wide, role_of

# Staff pages outside the admin, linked from the admin header for the roles that work there.
STAFF_LINKS = (
    (_("Referral workbench"), "workbench", REFERRAL_ROLES),
    (_("Centre queue"), "centre-queue", CENTRE_ROLES),
    (_("Statistics"), "centre-stats", CENTRE_ROLES),
)


def site(request: HttpRequest) -> dict[str, object]:
    ctx: dict[str, object] = {"COUNTY_NAME": settings.COUNTY_NAME, "SITE_URL": settings.SITE_URL}
    # Next year's holidays are published in Nov/Dec; until someone enters them, every deadline
    # that reaches into that year is provisional, so the people who can fix it are told on every page.
    if request.path.startswith("/admin/") and is_county_wide(request.user):
        from .workdays import unconfirmed_next_year_warning

        ctx["calendar_warning"] = unconfirmed_next_year_warning()
    if request.path.startswith("/admin/") or request.path.startswith("/staff/"):
        role = role_of(request.user)
        ctx["staff_links"] = [(label, reverse(name)) for label, name, roles in STAFF_LINKS if role in roles]
    return ctx
