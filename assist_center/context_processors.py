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
    (_("Dashboard"), "dashboard", REFERRAL_ROLES),
)


def site(request: HttpRequest) -> dict[str, object]:
    ctx: dict[str, object] = {"COUNTY_NAME": settings.COUNTY_NAME, "SITE_URL": settings.SITE_URL}
    # Next year's holidays are published in Nov/Dec; until someone enters them, every deadline
    # that reaches into that year is provisional, so the people who can fix it are told on every page.
    if request.path.startswith("/admin/") and is_county_wide(request.user):
        from .workdays import unconfirmed_next_year_warning, year_to_warn_about

        ctx["calendar_warning"] = unconfirmed_next_year_warning()
        year = year_to_warn_about()
        if year is not None:
            # Where to do it in the interface, not a command to run (issue 16).
            ctx["calendar_links"] = [
                (
                    _("Enter the holidays of %(year)s") % {"year": year},
                    reverse("admin:assist_center_calendarday_add"),
                ),
                (
                    _("Days of %(year)s entered so far") % {"year": year},
                    f"{reverse('admin:assist_center_calendarday_changelist')}?year={year}",
                ),
                (_("Confirm %(year)s") % {"year": year}, _calendar_year_url(year)),
            ]
    if request.path.startswith("/admin/") or request.path.startswith("/staff/"):
        role = role_of(request.user)
        ctx["staff_links"] = [(label, reverse(name)) for label, name, roles in STAFF_LINKS if role in roles]
    return ctx


def _calendar_year_url(year: int) -> str:
    from .models import CalendarYear

    if CalendarYear.objects.filter(year=year).exists():
        return reverse("admin:assist_center_calendaryear_change", args=[year])
    return f"{reverse('admin:assist_center_calendaryear_add')}?year={year}&confirmed=on"
