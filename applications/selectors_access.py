"""Reads of the household access log: who looked at a household's data, by role, never by name."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from assist_center.models import Role

from .models import AccessPurpose, HouseholdAccess
from .staff_codes import staff_code

__all__ = ["AccessLogEntry", "household_access_log"]

# Purposes whose reason the resident sees: a reveal or a download names why it was needed.
REASON_SHOWN = frozenset({AccessPurpose.REVEAL, AccessPurpose.DOWNLOAD, AccessPurpose.EXPORT})


@dataclass(frozen=True)
class AccessLogEntry:
    time: dt.datetime
    purpose: str
    purpose_label: str
    # Department, organisation or role: whoever the resident can hold to account, never a person.
    who: str
    role_label: str
    staff_code: str
    reason: str


def _role_label(role: str) -> str:
    if role == "superuser":
        return str(Role.COORDINATOR.label)
    try:
        return str(Role(role).label)
    except ValueError:
        return role or _("System")


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The year's start and the next year's start in the county's time zone."""
    tz = timezone.get_default_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


def household_access_log(household_id: int, year: int) -> list[AccessLogEntry]:
    """The year's reads of the household's data, newest first, labelled for the resident.

    Unscoped: the caller has decided that the reader may see this household's log (the resident's
    verified session, or a staff page that fetched the household in scope). Reading it is itself
    logged by the caller (applications.services.access.household_access_log_read).
    """
    start, end = year_bounds(year)
    rows = (
        HouseholdAccess.objects.filter(household_id=household_id, time__gte=start, time__lt=end)
        .select_related("department")
        .order_by("-time", "-id")
    )
    entries = []
    for row in rows:
        role_label = _role_label(row.role) if row.actor_id is not None else _("System")
        if row.organisation_name:
            who = row.organisation_name
        elif row.department is not None:
            who = row.department.name
        else:
            who = role_label
        entries.append(
            AccessLogEntry(
                time=row.time,
                purpose=row.purpose,
                purpose_label=str(AccessPurpose(row.purpose).label),
                who=who,
                role_label=role_label,
                staff_code=staff_code(row.actor_id) if row.actor_id is not None else "",
                reason=row.reason if row.purpose in REASON_SHOWN else "",
            )
        )
    return entries
