"""Ratings of closed cases, the 差评 task that a low one opens, disputes and the integrity flags.

A rating comes only from the household's verified session: the view passes the session's
household and whoever made the request; a signed-in staff account is refused (403), so nobody
can rate on a resident's behalf. One rating per case (the database's unique constraint, behind a
lock on the case row), plus one follow-up after the 差评 task has been answered.

The task's moves are one table (as applications.services.transitions): contact (within 1 working
day), answer (put right and answered within 15), then the resident's follow-up rating closes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assist_center.actors import Actor, AuditActor, staff_account
from assist_center.audit import RESIDENT, audit_record
from assist_center.errors import ApplicationError, ConflictError, field_error
from assist_center.inputs import clean_text
from assist_center.permissions import may_dispute_rating, may_handle_low_ratings, may_review_rating_disputes
from assist_center.pii import blind_index
from assist_center.workdays import deadline
from eligibility.models import ItemDecision
from referrals.models import Case, Referral

from ..models.ratings import (
    LOW_LEVEL,
    MAX_TAGS,
    TAGS,
    IntegrityFlag,
    Level,
    LowRatingTask,
    Rating,
    RatingDispute,
)
from ..selectors.ratings import low_rating_task_get, rating_visible_get

T = LowRatingTask.Status
CONTACT_DAYS = 1
# Zhejiang's rule for a 差评: put right and answered within 15 working days.
ANSWER_DAYS = 15
MAX_COMMENT = 500


class AlreadyRated(ConflictError):
    """The case has its rating (and its follow-up, or no follow-up is due): show the one given."""

    def __init__(self, rating: Rating):
        super().__init__(_("This case has already been rated."), {"rating_id": rating.pk})
        self.rating = rating


@dataclass(frozen=True)
class RatingInput:
    efficiency: Any
    attitude: Any
    quality: Any
    tags: Sequence[Any] = ()
    comment: Any = ""


def threshold(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _level(field: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value not in Level.values:
        raise field_error(field, _("Choose one of the five levels."))
    return value


def _validated(data: RatingInput) -> tuple[int, int, int, int, list[str], str]:
    efficiency = _level("efficiency", data.efficiency)
    attitude = _level("attitude", data.attitude)
    quality = _level("quality", data.quality)
    lowest = min(efficiency, attitude, quality)
    allowed = TAGS[lowest]
    tags: list[str] = []
    for tag in data.tags or ():
        if not isinstance(tag, str) or tag not in allowed:
            raise field_error("tags", _("Choose tags that match your rating."))
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise field_error("tags", _("Choose at most %(n)d tags.") % {"n": MAX_TAGS})
    comment = clean_text("comment", data.comment, required=False, max_length=MAX_COMMENT)
    return efficiency, attitude, quality, lowest, tags, comment


def _assistant_id(case: Case) -> int | None:
    """The township assistant who decided the case's items (the latest approval)."""
    return (
        ItemDecision.objects.filter(
            application_id=case.application_id, decision=ItemDecision.Decision.APPROVE
        )
        .order_by("-decided_at", "-pk")
        .values_list("decided_by_id", flat=True)
        .first()
    )


def _case_parts(case: Case) -> tuple[list[int], list[str]]:
    rows = Referral.objects.filter(case=case, status=Referral.Status.COMPLETED).values_list(
        "department_id", "items"
    )
    departments: set[int] = set()
    items: set[str] = set()
    for department_id, referral_items in rows:
        departments.add(department_id)
        items.update(referral_items or ())
    return sorted(departments), sorted(items)


def rating_submit(
    *,
    actor: AuditActor,
    household_id: int,
    case_id: int,
    data: RatingInput,
    client_ip: str | None = None,
) -> Rating:
    """Record the household's rating of its closed case (or the follow-up after a 差评 was answered).

    Raises PermissionDenied for a signed-in account, Http404 for a case not of this household,
    ApplicationError for bad input or an open case, AlreadyRated when nothing more may be rated.
    """
    if getattr(actor, "is_authenticated", False):
        raise PermissionDenied
    efficiency, attitude, quality, lowest, tags, comment = _validated(data)
    with transaction.atomic():
        # The case row's lock serialises two taps of the same form: one rating, the other sees it.
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("application")
            .filter(pk=case_id, application__household_id=household_id)
            .first()
        )
        if case is None:
            raise Http404
        if case.status != Case.Status.CLOSED:
            raise ApplicationError(_("Only a closed case can be rated."))
        first = Rating.objects.filter(case=case, round=Rating.Round.FIRST).first()
        task: LowRatingTask | None = None
        round_ = Rating.Round.FIRST
        if first is not None:
            task = LowRatingTask.objects.select_for_update().filter(rating=first).first()
            if task is None or task.status != T.ANSWERED:
                raise AlreadyRated(first)
            round_ = Rating.Round.FOLLOW_UP
        departments, items = _case_parts(case)
        rating = Rating(
            subject=Rating.Subject.CASE,
            case=case,
            round=round_,
            household_id=household_id,
            efficiency=efficiency,
            attitude=attitude,
            quality=quality,
            lowest=lowest,
            tags=tags,
            comment=comment,
            township_id=case.township_id,
            assistant_id=_assistant_id(case),
            client_hash=blind_index("rating_client", client_ip) if client_ip else "",
            items=items,
        )
        try:
            with transaction.atomic():
                rating.save(force_insert=True)
        except IntegrityError:
            raise AlreadyRated(first or Rating.objects.get(case=case, round=Rating.Round.FIRST)) from None
        rating.departments.set(departments)
        audit_record(
            actor=actor or RESIDENT,
            action="rating.submit",
            subject=rating,
            new={
                "case": case.pk,
                "round": round_,
                "efficiency": efficiency,
                "attitude": attitude,
                "quality": quality,
            },
            region=case.township,
        )
        if task is not None:
            _follow_up_received(task, rating)
        elif lowest <= LOW_LEVEL:
            _task_open(rating)
        integrity_check(rating)
    return rating


def _task_open(rating: Rating) -> LowRatingTask:
    today = timezone.localdate()
    contact = deadline(today, CONTACT_DAYS)
    answer = deadline(today, ANSWER_DAYS)
    task = LowRatingTask.objects.create(
        rating=rating,
        township_id=rating.township_id,
        contact_due=contact.due,
        answer_due=answer.due,
        provisional=contact.provisional or answer.provisional,
    )
    audit_record(
        actor=None,
        action="rating.task_open",
        subject=task,
        new={"rating": rating.pk, "contact_due": task.contact_due, "answer_due": task.answer_due},
        region=rating.township,
    )
    return task


def _follow_up_received(task: LowRatingTask, rating: Rating) -> None:
    task.status = T.FOLLOWED_UP
    task.follow_up = rating
    task.save(update_fields=["status", "follow_up"])
    audit_record(
        actor=None,
        action="rating.task_followed_up",
        subject=task,
        old={"status": T.ANSWERED},
        new={"status": T.FOLLOWED_UP, "follow_up": rating.pk},
        region=rating.township,
    )


# --- the 差评 task -------------------------------------------------------------------------

# action -> (the status it starts from, the status it leads to, the field its text goes to)
TASK_MOVES: dict[str, tuple[str, str, str]] = {
    "contact": (T.OPEN, T.CONTACTED, "contact_note"),
    "answer": (T.CONTACTED, T.ANSWERED, "answer"),
}


def low_rating_task_act(*, actor: Actor, task_id: int, action: str, text: str) -> LowRatingTask:
    """Record the contact with the resident, or what was put right; the task moves one step."""
    found = low_rating_task_get(user=actor, task_id=task_id)
    if not may_handle_low_ratings(actor):
        raise PermissionDenied
    if action not in TASK_MOVES:
        raise ApplicationError(_("Unknown action."))
    start, end, field = TASK_MOVES[action]
    text = clean_text(field, text, required=True)
    with transaction.atomic():
        task = LowRatingTask.objects.select_for_update().select_related("township").get(pk=found.pk)
        if task.status != start:
            raise ConflictError(
                _("This task is already “%(status)s”: reload to see its state.")
                % {"status": task.get_status_display()},
                {"status": task.status},
            )
        now = timezone.now()
        task.status = end
        setattr(task, field, text)
        stamp = "contacted_at" if action == "contact" else "answered_at"
        setattr(task, stamp, now)
        task.handled_by = staff_account(actor)
        task.save(update_fields=["status", field, stamp, "handled_by"])
        audit_record(
            actor=actor,
            action=f"rating.task_{action}",
            subject=task,
            old={"status": start},
            new={"status": end},
            reason=text,
            region=task.township,
        )
    return task


# --- disputes ------------------------------------------------------------------------------


def rating_dispute_raise(*, actor: Actor, rating_id: int, reason: str) -> RatingDispute:
    """Contest a rating of one's own unit; it stays, and the coordinator reviews the dispute."""
    rating = rating_visible_get(user=actor, rating_id=rating_id)
    if not may_dispute_rating(actor):
        raise PermissionDenied
    reason = clean_text("reason", reason, required=True)
    with transaction.atomic():
        if RatingDispute.objects.filter(rating=rating, status=RatingDispute.Status.OPEN).exists():
            raise ConflictError(_("This rating already has a dispute waiting for review."))
        try:
            with transaction.atomic():
                dispute = RatingDispute.objects.create(
                    rating=rating, raised_by=staff_account(actor), reason=reason
                )
        except IntegrityError:
            raise ConflictError(_("This rating already has a dispute waiting for review.")) from None
        audit_record(
            actor=actor,
            action="rating.dispute_raise",
            subject=dispute,
            new={"rating": rating.pk, "status": dispute.status},
            reason=reason,
            region=rating.township,
        )
    return dispute


def rating_dispute_review(
    *, actor: Actor, dispute_id: int, upheld: bool | None, reason: str
) -> RatingDispute:
    """The coordinator upholds (the rating leaves the figures) or rejects a dispute, with a reason."""
    found = RatingDispute.objects.filter(pk=dispute_id).select_related("rating").first()
    if found is None:
        raise Http404
    rating_visible_get(user=actor, rating_id=found.rating_id)
    if not may_review_rating_disputes(actor):
        raise PermissionDenied
    if upheld is None:
        raise field_error("decision", _("Choose whether to uphold or reject the dispute."))
    reason = clean_text("review_reason", reason, required=True)
    status = RatingDispute.Status.UPHELD if upheld else RatingDispute.Status.REJECTED
    with transaction.atomic():
        dispute = (
            RatingDispute.objects.select_for_update().select_related("rating__township").get(pk=found.pk)
        )
        if dispute.status != RatingDispute.Status.OPEN:
            raise ConflictError(
                _("This dispute has already been reviewed: “%(status)s”.")
                % {"status": dispute.get_status_display()}
            )
        dispute.status = status
        dispute.review_reason = reason
        dispute.reviewed_by = staff_account(actor)
        dispute.reviewed_at = timezone.now()
        dispute.save(update_fields=["status", "review_reason", "reviewed_by", "reviewed_at"])
        audit_record(
            actor=actor,
            action="rating.dispute_review",
            subject=dispute,
            old={"status": RatingDispute.Status.OPEN},
            new={"status": status},
            reason=reason,
            region=dispute.rating.township,
        )
    return dispute


# --- integrity -----------------------------------------------------------------------------


def _flag(kind: str, key: str, rating: Rating, count: int) -> None:
    try:
        with transaction.atomic():
            flag = IntegrityFlag.objects.create(
                kind=kind,
                key=key[:128],
                rating=rating,
                township_id=rating.township_id,
                assistant_id=rating.assistant_id if kind == IntegrityFlag.Kind.TOP_RUN else None,
                count=count,
            )
    except IntegrityError:
        return  # raised already for this window, township hour or run
    audit_record(
        actor=None,
        action="rating.integrity_flag",
        subject=flag,
        new={"kind": kind, "count": count},
        region=rating.township,
    )


def integrity_check(rating: Rating) -> None:
    """Raise the flags this rating completes; each flag once (its kind and key are unique).

    - one network address rating RATING_FLAG_ADDRESS_HOUSEHOLDS or more households within
      RATING_FLAG_ADDRESS_DAYS days;
    - RATING_FLAG_BURST_COUNT or more ratings of one township within RATING_FLAG_BURST_MINUTES;
    - an assistant's last RATING_FLAG_TOP_RUN first ratings all at the top on every dimension.
    """
    now = rating.created_at
    if rating.client_hash:
        days = threshold("RATING_FLAG_ADDRESS_DAYS", 30)
        households = (
            Rating.objects.filter(
                client_hash=rating.client_hash, created_at__gt=now - dt.timedelta(days=days)
            )
            .values("household_id")
            .distinct()
            .count()
        )
        if households >= threshold("RATING_FLAG_ADDRESS_HOUSEHOLDS", 3):
            window = now.date().toordinal() // days
            _flag(IntegrityFlag.Kind.SAME_ADDRESS, f"{rating.client_hash}:{window}", rating, households)
    minutes = threshold("RATING_FLAG_BURST_MINUTES", 60)
    burst = Rating.objects.filter(
        township_id=rating.township_id, created_at__gt=now - dt.timedelta(minutes=minutes)
    ).count()
    if burst >= threshold("RATING_FLAG_BURST_COUNT", 10):
        bucket = int(now.timestamp()) // (minutes * 60)
        _flag(IntegrityFlag.Kind.BURST, f"{rating.township_id}:{bucket}", rating, burst)
    run = threshold("RATING_FLAG_TOP_RUN", 20)
    if rating.assistant_id is not None and rating.lowest == Level.VERY_SATISFIED and run > 0:
        last = list(
            Rating.objects.filter(assistant_id=rating.assistant_id, round=Rating.Round.FIRST)
            .order_by("-created_at", "-pk")
            .values_list("pk", "lowest")[:run]
        )
        if len(last) == run and all(lowest == Level.VERY_SATISFIED for _, lowest in last):
            # Keyed on the run's first rating that is not top: one flag per unbroken run.
            broken = (
                Rating.objects.filter(assistant_id=rating.assistant_id, round=Rating.Round.FIRST)
                .filter(~Q(lowest=Level.VERY_SATISFIED))
                .order_by("-created_at", "-pk")
                .values_list("pk", flat=True)
                .first()
            )
            _flag(IntegrityFlag.Kind.TOP_RUN, f"{rating.assistant_id}:{broken or 0}", rating, run)
