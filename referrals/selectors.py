"""Reads of cases and referrals, scoped to the user in one place.

Who sees what (security.md, "Who may see what"):
- the county coordinator (and a superuser): everything;
- a township assistant: the cases and referrals of their township;
- department staff: the referrals addressed to their department, and nothing of the case beyond
  each referral's brief (no case pages, no other department's referral);
- village cadres, the auditor, organisations: none.
Out of scope is Http404, exactly like a missing row.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from applications.models import ApplicationMember
from assist_center.audit import audit_record
from assist_center.models import Role
from assist_center.scopes import is_county_wide, profile_of, register_scope, role_of
from assist_center.workdays import working_days_between

from .models import Case, Colour, DeadlineRule, DepartmentContact, Notification, OutsidePolicyNeed, Referral

S = Referral.Status

# The county's published figure: a whole case in 2 working days (design.md).
COUNTY_CASE_TARGET_DAYS = 2


# --- scopes (registered with assist_center.scopes) -------------------------------------------


def scope_referrals(qs: QuerySet[Any], user: Any, *, prefix: str = "") -> QuerySet[Any]:
    """Referral rows (or rows reached through `prefix`, e.g. "referral__") the user may see."""
    if is_county_wide(user):
        return qs
    p = profile_of(user)
    role = role_of(user)
    if p is None:
        return qs.none()
    if role == Role.DEPARTMENT_STAFF and p.department_id is not None:
        return qs.filter(**{f"{prefix}department_id": p.department_id})
    if role == Role.TOWNSHIP_ASSISTANT and p.region_id is not None:
        return qs.filter(**{f"{prefix}township_id": p.region_id})
    return qs.none()


def scope_cases(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Cases: the coordinator all, a township assistant their township; department staff none
    (a case page would show the other departments' referrals)."""
    if is_county_wide(user):
        return qs
    p = profile_of(user)
    if p is not None and role_of(user) == Role.TOWNSHIP_ASSISTANT and p.region_id is not None:
        return qs.filter(township_id=p.region_id)
    return qs.none()


def scope_notifications(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """A department's notifications to its staff (and the township's assistant); the coordinator's
    escalations to the coordinator alone."""
    if is_county_wide(user):
        return qs
    return scope_referrals(qs, user, prefix="referral__").filter(audience=Notification.Audience.DEPARTMENT)


def scope_outside_needs(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    if is_county_wide(user):
        return qs
    p = profile_of(user)
    if p is not None and role_of(user) == Role.TOWNSHIP_ASSISTANT and p.region_id is not None:
        return qs.filter(township_id=p.region_id)
    return qs.none()


def scope_county_config(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Deadline rules and warning contacts: county configuration, the coordinator's."""
    return qs if is_county_wide(user) else qs.none()


register_scope(Referral, scope_referrals)
register_scope(Case, scope_cases)
register_scope(Notification, scope_notifications)
register_scope(OutsidePolicyNeed, scope_outside_needs)
register_scope(DeadlineRule, scope_county_config)
register_scope(DepartmentContact, scope_county_config)


# --- referrals -------------------------------------------------------------------------------


def _referrals() -> QuerySet[Referral]:
    return Referral.objects.select_related("department", "township", "case", "case__village")


def referral_list_visible_to(
    *,
    user: Any,
    colour: str | None = None,
    status: str | None = None,
    department: int | str | None = None,
) -> QuerySet[Referral]:
    """The referrals the user may see, earliest due first; `department` is an id or a code."""
    qs = scope_referrals(_referrals(), user)
    if colour:
        qs = qs.filter(colour=colour)
    if status:
        qs = qs.filter(status=status)
    if department is not None and department != "":
        # ASCII digits only: str.isdigit() also accepts "²", which int() then refuses (a 500).
        if isinstance(department, int) or (department.isascii() and department.isdigit()):
            qs = qs.filter(department_id=int(department))
        else:
            qs = qs.filter(department__code=department)
    return qs.order_by("due_date", "id")


def referral_get(*, user: Any, referral_id: Any) -> Referral:
    """The referral if the user may see it; Http404 alike for missing and out of scope."""
    try:
        return scope_referrals(_referrals(), user).get(pk=int(referral_id))
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def case_get(*, user: Any, case_id: Any) -> Case:
    try:
        return scope_cases(Case.objects.select_related("application", "township", "village"), user).get(
            pk=int(case_id)
        )
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def notifications_for(*, user: Any, unread_only: bool = False) -> QuerySet[Notification]:
    qs = scope_notifications(Notification.objects.select_related("referral", "referral__department"), user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


# --- the coordinator's queue -----------------------------------------------------------------


@dataclass
class CoordinatorQueue:
    red: list[Referral] = field(default_factory=list)
    returned: list[Referral] = field(default_factory=list)
    # Cases whose next step is the centre's: a department asked for more information.
    waiting_on_centre: list[Referral] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.red) + len(self.returned) + len(self.waiting_on_centre)


# Each of the queue's lists shows its most urgent referrals first, at most this many: at 10x the
# county a red list of 12,000 rows took 18 s to render (bench staff_pages_p95_ms) and helps nobody.
QUEUE_SHOWN = 200


def coordinator_queue(*, user: Any) -> CoordinatorQueue:
    """Red referrals, returned referrals and questions waiting for the centre, in the user's scope.

    The coordinator sees the county; a township assistant their township (they answer questions);
    anyone else gets Http404 (the queue is not theirs).
    """
    if not (is_county_wide(user) or role_of(user) == Role.TOWNSHIP_ASSISTANT):
        raise Http404
    base = scope_referrals(_referrals(), user)
    # One more than is shown tells the page that there are more, without a count query.
    limit = QUEUE_SHOWN + 1
    return CoordinatorQueue(
        red=list(
            base.filter(status__in=Referral.OPEN_STATUSES, colour=Colour.RED).order_by("due_date", "id")[
                :limit
            ]
        ),
        returned=list(base.filter(status=S.RETURNED).order_by("finished_at", "id")[:limit]),
        waiting_on_centre=list(base.filter(status=S.INFO_REQUESTED).order_by("paused_since", "id")[:limit]),
    )


# --- statistics ------------------------------------------------------------------------------


@dataclass
class DepartmentStats:
    department_id: int
    department: str
    open: int = 0
    overdue: int = 0
    completed: int = 0
    completed_on_time: int = 0
    average_working_days: float | None = None


def period_bounds(year: int, month: int | None) -> tuple[dt.date, dt.date]:
    """[start, end) of a year, or of one month of it, for the statistics."""
    if month is None:
        return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start, end


def department_stats(*, user: Any, year: int, month: int | None = None) -> list[DepartmentStats]:
    """Per department: open and overdue now; completed, on time and average working days to
    complete within the period (a year, or a month of it). Scoped like the referrals."""
    start, end = period_bounds(year, month)
    tz = timezone.get_current_timezone()
    start_at = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    end_at = dt.datetime.combine(end, dt.time.min, tzinfo=tz)
    today = timezone.localdate()
    stats: dict[int, DepartmentStats] = {}
    qs = scope_referrals(Referral.objects.all(), user)

    def row(dept_id: int, name: str) -> DepartmentStats:
        if dept_id not in stats:
            stats[dept_id] = DepartmentStats(department_id=dept_id, department=name)
        return stats[dept_id]

    for dept_id, name, due, status in qs.filter(status__in=Referral.OPEN_STATUSES).values_list(
        "department_id", "department__name", "due_date", "status"
    ):
        s = row(dept_id, name)
        s.open += 1
        # A referral waiting for more information has its clock stopped: its due date moves when
        # the answer comes, so it is not overdue meanwhile.
        s.overdue += due < today and status in Referral.CLOCK_STATUSES
    durations: dict[int, list[int]] = {}
    for dept_id, name, started, due, finished in qs.filter(
        status=S.COMPLETED, finished_at__gte=start_at, finished_at__lt=end_at
    ).values_list("department_id", "department__name", "start_date", "due_date", "finished_at"):
        s = row(dept_id, name)
        done = timezone.localtime(finished).date()
        s.completed += 1
        s.completed_on_time += done <= due
        durations.setdefault(dept_id, []).append(working_days_between(started, done))
    for dept_id, values in durations.items():
        stats[dept_id].average_working_days = round(sum(values) / len(values), 2)
    return sorted(stats.values(), key=lambda s: s.department_id)


@dataclass
class CaseStats:
    closed: int
    average_working_days: float | None
    within_target: int
    target_days: int = COUNTY_CASE_TARGET_DAYS
    open: int = 0
    # Of the same rows as the average (as percentile_cont(0.5): the mean of the two middle values).
    median_working_days: float | None = None


def case_stats(*, user: Any, year: int, month: int | None = None) -> CaseStats:
    """Cases closed in the period: how many, average working days from submission to closure, and
    how many within the county's 2-working-day figure; plus the cases open now."""
    start, end = period_bounds(year, month)
    tz = timezone.get_current_timezone()
    qs = scope_cases(Case.objects.all(), user)
    closed = list(
        qs.filter(
            status=Case.Status.CLOSED,
            closed_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            closed_at__lt=dt.datetime.combine(end, dt.time.min, tzinfo=tz),
        ).values_list("working_days_to_close", flat=True)
    )
    days = [d for d in closed if d is not None]
    return CaseStats(
        closed=len(closed),
        average_working_days=round(sum(days) / len(days), 2) if days else None,
        within_target=sum(1 for d in days if d <= COUNTY_CASE_TARGET_DAYS),
        open=qs.filter(status=Case.Status.OPEN).count(),
        median_working_days=float(statistics.median(days)) if days else None,
    )


def referrals_of_case(*, user: Any, case_id: Any) -> list[Referral]:
    """A case's referrals for the centre (coordinator, township assistant): Http404 otherwise."""
    case = case_get(user=user, case_id=case_id)
    return list(_referrals().filter(case=case).order_by("id"))


def open_filter() -> Q:
    return Q(status__in=Referral.OPEN_STATUSES)


def referral_contact_phone(user: Any, referral: Referral) -> str | None:
    """The applicant's phone for the staff of the referral's department when the brief says the
    referral needs contact (security.md); never for other personas. The read is audited."""
    if not (referral.brief or {}).get("contact"):
        return None
    p = profile_of(user)
    if p is None or role_of(user) != Role.DEPARTMENT_STAFF or p.department_id != referral.department_id:
        return None
    phone = (
        ApplicationMember.objects.filter(
            application__case__pk=referral.case_id, role=ApplicationMember.Role.APPLICANT
        )
        .order_by("position")
        .values_list("phone", flat=True)
        .first()
    )
    if not phone:
        return None
    audit_record(
        actor=user,
        action="referral.contact_read",
        subject=referral,
        new={"field": "applicant_phone"},
        region=referral.township,
        department=referral.department,
    )
    return str(phone)


def application_staff_links(*, application: Any, user: Any) -> list[tuple[str, str]]:
    """The case and referrals of an application that the user may open (a hook handler)."""
    from django.urls import reverse
    from django.utils.translation import gettext

    links: list[tuple[str, str]] = []
    case = scope_cases(Case.objects.filter(application_id=application.pk), user).first()
    if case is not None:
        links.append((gettext("Case"), reverse("admin:referrals_case_change", args=[case.pk])))
    referrals = scope_referrals(
        Referral.objects.filter(case__application_id=application.pk).select_related("department"), user
    ).order_by("pk")
    for referral in referrals:
        label = gettext("Referral to %(department)s (%(status)s)") % {
            "department": referral.department.name,
            "status": referral.get_status_display(),
        }
        links.append((label, reverse("workbench-referral", args=[referral.pk])))
    return links
