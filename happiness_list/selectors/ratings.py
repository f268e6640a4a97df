"""Reads of ratings, 差评 tasks, disputes and integrity flags, each scoped to the user in one place.

Who sees a rating: the coordinator, the rated township's assistants (their unit), the rated
departments' staff and the rated organisation's members. None of them learns who rated: the
household is never part of what these selectors hand to the evaluation pages. The 差评 tasks,
which need the household to contact it, are the county centre's alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from assist_center.models import Role
from assist_center.scopes import is_county_wide, profile_of, role_of
from referrals.colours import colour_for
from referrals.models import Colour

from ..models.ratings import IntegrityFlag, LowRatingTask, Rating, RatingDispute

T = LowRatingTask.Status


def scope_ratings(qs: QuerySet[Rating], user: Any) -> QuerySet[Rating]:
    """Narrow ratings to the ones of the user's own unit (all of them for the coordinator)."""
    if is_county_wide(user):
        return qs
    p = profile_of(user)
    role = role_of(user)
    if p is None:
        return qs.none()
    if role == Role.TOWNSHIP_ASSISTANT and p.region_id is not None:
        return qs.filter(Q(assistant=user) | Q(township_id=p.region_id))
    if role == Role.DEPARTMENT_STAFF and p.department_id is not None:
        return qs.filter(departments=p.department_id)
    if role == Role.ORGANISATION:
        return qs.filter(organisation__members=user)
    return qs.none()


def rating_visible_get(*, user: Any, rating_id: int) -> Rating:
    rating = scope_ratings(Rating.objects.select_related("township"), user).filter(pk=rating_id).first()
    if rating is None:
        raise Http404
    return rating


def counted(qs: QuerySet[Rating]) -> QuerySet[Rating]:
    """Leave out the ratings whose dispute the coordinator upheld (they stay in the database)."""
    upheld = RatingDispute.objects.filter(rating=OuterRef("pk"), status=RatingDispute.Status.UPHELD)
    return qs.filter(~Exists(upheld))


def scope_tasks(qs: QuerySet[LowRatingTask], user: Any) -> QuerySet[LowRatingTask]:
    return qs if is_county_wide(user) else qs.none()


def low_rating_task_get(*, user: Any, task_id: int) -> LowRatingTask:
    task = (
        scope_tasks(LowRatingTask.objects.all(), user)
        .select_related("rating__case__application", "rating__household__village", "township", "follow_up")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise Http404
    return task


def task_colour(task: LowRatingTask, today: dt.date) -> Colour:
    """The referrals' warning rule on the step the task is at: the contact day, then the answer."""
    if task.status == T.OPEN:
        return colour_for(allotted=1, due_date=task.contact_due, today=today)
    if task.status == T.CONTACTED:
        return colour_for(allotted=15, due_date=task.answer_due, today=today)
    return Colour.NONE


@dataclass
class TaskRow:
    task: LowRatingTask
    colour: Colour
    due: dt.date | None


def low_rating_tasks(*, user: Any, today: dt.date, open_only: bool = True) -> list[TaskRow]:
    qs = scope_tasks(LowRatingTask.objects.all(), user).select_related("rating", "township")
    if open_only:
        qs = qs.filter(status__in=[T.OPEN, T.CONTACTED, T.ANSWERED])
    rows = []
    for task in qs.order_by("answer_due", "pk")[:500]:
        due = (
            task.contact_due
            if task.status == T.OPEN
            else task.answer_due
            if task.status == T.CONTACTED
            else None
        )
        rows.append(TaskRow(task=task, colour=task_colour(task, today), due=due))
    return rows


def open_disputes(*, user: Any) -> list[RatingDispute]:
    ratings = scope_ratings(Rating.objects.all(), user)
    return list(
        RatingDispute.objects.filter(status=RatingDispute.Status.OPEN, rating__in=ratings)
        .select_related("rating__township")
        .order_by("created_at")[:200]
    )


def integrity_flags(*, user: Any) -> list[IntegrityFlag]:
    if not is_county_wide(user):
        return []
    return list(IntegrityFlag.objects.select_related("township", "assistant").order_by("-created_at")[:200])


@dataclass
class CaseToRate:
    """One of the household's closed cases as its own rating panel shows it."""

    case: Any
    first: Rating | None
    task: LowRatingTask | None
    follow_up: Rating | None
    arrived_for: bool

    @property
    def open_for(self) -> str:
        """ "first" or "follow_up" when a rating may be given now, else ""."""
        if self.first is None:
            return "first"
        if self.task is not None and self.task.status == T.ANSWERED:
            return "follow_up"
        return ""


def household_cases_to_rate(
    *, household_id: int, application_id: int | None, limit: int = 10
) -> list[CaseToRate]:
    """The household's closed cases, newest first (the one the SMS link came for at the top)."""
    from referrals.models import Case

    cases = list(
        Case.objects.filter(application__household_id=household_id, status=Case.Status.CLOSED)
        .select_related("application")
        .order_by("-closed_at", "-pk")[:limit]
    )
    ratings: dict[tuple[int, int], Rating] = {
        (r.case_id, r.round): r  # type: ignore[misc]
        for r in Rating.objects.filter(case__in=cases, household_id=household_id)
    }
    tasks = {
        t.rating.case_id: t
        for t in LowRatingTask.objects.filter(rating__case__in=cases).select_related("rating")
    }
    rows = [
        CaseToRate(
            case=c,
            first=ratings.get((c.pk, Rating.Round.FIRST)),
            task=tasks.get(c.pk),
            follow_up=ratings.get((c.pk, Rating.Round.FOLLOW_UP)),
            arrived_for=c.application_id == application_id,
        )
        for c in cases
    ]
    rows.sort(key=lambda row: not row.arrived_for)
    return rows
