"""Ratings of closed cases: one per case, a 差评 opens its task, disputes stay, integrity flags."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, InternalError, connection, transaction
from django.http import Http404

from assist_center.errors import ApplicationError, ConflictError
from assist_center.models import AuditEvent
from happiness_list.models import IntegrityFlag, LowRatingTask, Rating, RatingDispute
from happiness_list.selectors.evaluation import evaluation_figures, evaluation_target_get
from happiness_list.services.ratings import (
    AlreadyRated,
    low_rating_task_act,
    rating_dispute_raise,
    rating_dispute_review,
)
from referrals.models import Case

from ..referrals.test_colours import at
from .ratings_builders import closed_case, rate

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(county_map: Any, personas: Any) -> Case:
    return closed_case(county_map.village_a1, assistant=personas.assistant_a)


def test_one_rating_per_case_and_a_second_attempt_gets_the_first(case: Case, personas: Any) -> None:
    first = rate(case, (5, 4, 5), tags=("smooth",), comment="  办得很快 ")
    assert (first.lowest, first.tags, first.comment) == (4, ["smooth"], "办得很快")
    assert first.assistant_id == personas.assistant_a.pk and first.township_id == case.township_id
    assert set(first.departments.values_list("code", flat=True)) == {"civil_affairs", "medical_security"}
    with pytest.raises(AlreadyRated) as exc:
        rate(case, (1, 1, 1))
    assert exc.value.rating.pk == first.pk and exc.value.status == 409
    assert Rating.objects.filter(case=case).count() == 1
    assert not LowRatingTask.objects.exists()
    event = AuditEvent.objects.get(action="rating.submit")
    assert event.actor_label == "resident" and "comment" not in event.new_values
    # The database itself holds the line, whatever the service does.
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(
            case=case, household_id=first.household_id, efficiency=5, attitude=5, quality=5, lowest=5,
            township_id=case.township_id,
        )  # fmt: skip


def test_a_staff_session_may_not_rate_and_another_household_gets_404(
    case: Case, personas: Any, county_map: Any
) -> None:
    with pytest.raises(PermissionDenied):
        rate(case, actor=personas.assistant_a)
    with pytest.raises(PermissionDenied):
        rate(case, actor=personas.coordinator)
    other = closed_case(county_map.village_a1, assistant=personas.assistant_a)
    from happiness_list.services.ratings import RatingInput, rating_submit

    with pytest.raises(Http404):
        rating_submit(
            actor=personas.anonymous,
            household_id=other.application.household_id,  # type: ignore[arg-type]
            case_id=case.pk,
            data=RatingInput(efficiency=5, attitude=5, quality=5),
        )
    assert not Rating.objects.exists()


def test_bad_input_gets_its_message(case: Case) -> None:
    for levels, field in [((0, 5, 5), "efficiency"), ((5, 6, 5), "attitude"), ((5, 5, True), "quality")]:
        with pytest.raises(ApplicationError) as exc:
            rate(case, levels)
        assert field in exc.value.extra["fields"]
    with pytest.raises(ApplicationError) as exc:
        rate(case, (5, 5, 5), tags=("slow",))  # a 差评 tag on a top rating
    assert "tags" in exc.value.extra["fields"]
    with pytest.raises(ApplicationError):
        rate(case, (5, 5, 5), comment="x\x00")
    with pytest.raises(ApplicationError):
        rate(case, (5, 5, 5), comment="好" * 501)
    assert not Rating.objects.exists()


def test_an_open_case_cannot_be_rated(case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(status=Case.Status.OPEN)
    with pytest.raises(ApplicationError) as exc:
        rate(case)
    assert exc.value.status == 400


def test_a_low_rating_opens_a_task_with_one_and_fifteen_working_days(case: Case, personas: Any) -> None:
    # Rated on Friday 25 September 2026: the contact is due Monday 28 September; the answer 15
    # working days on, over the National Day rest (1-7 October) and its Saturday make-up day (10
    # October): 28-30 Sep, 8-10 Oct, 12-16 Oct, 19-22 Oct, so Thursday 22 October.
    with time_machine.travel(at(dt.date(2026, 9, 25), 15), tick=False):
        rating = rate(case, (2, 4, 4), tags=("slow",), comment="等了很久")
    task = LowRatingTask.objects.get(rating=rating)
    assert task.status == LowRatingTask.Status.OPEN
    assert task.contact_due == dt.date(2026, 9, 28)
    assert task.answer_due == dt.date(2026, 10, 22)
    assert AuditEvent.objects.filter(action="rating.task_open", subject_id=str(task.pk)).exists()


def test_the_task_moves_contact_answer_then_the_follow_up_rating(case: Case, personas: Any) -> None:
    rating = rate(case, (1, 2, 1), tags=("passed_around",))
    task = rating.task
    with pytest.raises(Http404):  # a township assistant (perhaps the one rated) never sees it
        low_rating_task_act(actor=personas.assistant_a, task_id=task.pk, action="contact", text="已电话联系")
    with pytest.raises(ConflictError):  # nothing is put right before the resident is reached
        low_rating_task_act(actor=personas.coordinator, task_id=task.pk, action="answer", text="已补发")
    with pytest.raises(ApplicationError):
        low_rating_task_act(actor=personas.coordinator, task_id=task.pk, action="contact", text=" ")
    with pytest.raises(AlreadyRated):  # no follow-up before the answer
        rate(case, (5, 5, 5))
    low_rating_task_act(actor=personas.coordinator, task_id=task.pk, action="contact", text="已电话联系")
    low_rating_task_act(actor=personas.coordinator, task_id=task.pk, action="answer", text="已补发救助金")
    task.refresh_from_db()
    assert task.status == LowRatingTask.Status.ANSWERED and task.handled_by == personas.coordinator
    follow_up = rate(case, (4, 5, 4))
    assert follow_up.round == Rating.Round.FOLLOW_UP
    task.refresh_from_db()
    assert task.status == LowRatingTask.Status.FOLLOWED_UP and task.follow_up_id == follow_up.pk
    with pytest.raises(AlreadyRated):  # one follow-up, no more
        rate(case, (5, 5, 5))
    actions = AuditEvent.objects.filter(subject_type="happiness_list.lowratingtask", subject_id=str(task.pk))
    assert sorted(actions.values_list("action", flat=True)) == [
        "rating.task_answer",
        "rating.task_contact",
        "rating.task_followed_up",
        "rating.task_open",
    ]


def test_a_dispute_is_reviewed_with_a_reason_and_nothing_is_deleted(case: Case, personas: Any) -> None:
    rating = rate(case, (1, 1, 1), comment="态度差")
    with pytest.raises(Http404):  # another township's assistant
        rating_dispute_raise(actor=personas.assistant_b, rating_id=rating.pk, reason="不是我办的")
    dispute = rating_dispute_raise(actor=personas.assistant_a, rating_id=rating.pk, reason="评价对象有误")
    with pytest.raises(ConflictError):
        rating_dispute_raise(actor=personas.dept_civil, rating_id=rating.pk, reason="再次申诉")
    with pytest.raises(PermissionDenied):
        rating_dispute_review(actor=personas.assistant_a, dispute_id=dispute.pk, upheld=True, reason="自己审")
    with pytest.raises(ApplicationError):
        rating_dispute_review(actor=personas.coordinator, dispute_id=dispute.pk, upheld=True, reason="")
    rating_dispute_review(actor=personas.coordinator, dispute_id=dispute.pk, upheld=True, reason="系统派错人")
    dispute.refresh_from_db()
    assert dispute.status == RatingDispute.Status.UPHELD and dispute.review_reason == "系统派错人"
    with pytest.raises(ConflictError):
        rating_dispute_review(actor=personas.coordinator, dispute_id=dispute.pk, upheld=False, reason="改判")
    # The rating stays, out of the figures; the database refuses to delete or rewrite it.
    target = evaluation_target_get(user=personas.assistant_a, kind="assistant", pk=personas.assistant_a.pk)
    assert evaluation_figures(target=target, year=rating.created_at.year).total.count == 0
    statements = [
        ("DELETE FROM happiness_list_rating WHERE id = %s", rating.pk),
        ("UPDATE happiness_list_rating SET efficiency = 5 WHERE id = %s", rating.pk),
        ("DELETE FROM happiness_list_ratingdispute WHERE id = %s", dispute.pk),
        ("DELETE FROM happiness_list_lowratingtask WHERE rating_id = %s", rating.pk),
    ]
    for sql, pk in statements:
        with (
            pytest.raises(InternalError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql, [pk])
    assert Rating.objects.filter(pk=rating.pk).exists() and RatingDispute.objects.count() == 1


def test_one_address_rating_many_households_is_flagged_once_at_the_threshold(
    county_map: Any, personas: Any, settings: Any
) -> None:
    settings.RATING_FLAG_ADDRESS_HOUSEHOLDS = 3
    cases = [closed_case(county_map.village_a1, assistant=personas.assistant_a) for _ in range(4)]
    rate(cases[0], ip="10.1.1.1")
    rate(cases[1], ip="10.1.1.1")
    rate(cases[2], ip="10.9.9.9")
    assert not IntegrityFlag.objects.exists()
    rate(cases[3], ip="10.1.1.1")  # the third household from one address
    flag = IntegrityFlag.objects.get()
    assert flag.kind == IntegrityFlag.Kind.SAME_ADDRESS and flag.count == 3
    assert "10.1.1.1" not in flag.key and not Rating.objects.filter(client_hash__contains="10.1").exists()


def test_a_burst_and_an_unbroken_run_of_top_marks_are_flagged_at_their_thresholds(
    county_map: Any, personas: Any, settings: Any
) -> None:
    settings.RATING_FLAG_BURST_COUNT = 4
    settings.RATING_FLAG_TOP_RUN = 3
    cases = [closed_case(county_map.village_a1, assistant=personas.assistant_a) for _ in range(4)]
    with time_machine.travel(at(dt.date(2026, 11, 2), 9), tick=True):
        rate(cases[0], (5, 5, 5))
        rate(cases[1], (5, 5, 4))  # breaks the run
        rate(cases[2], (5, 5, 5))
        assert not IntegrityFlag.objects.exists()
        rate(cases[3], (5, 5, 5))
    kinds = dict(IntegrityFlag.objects.values_list("kind", "count"))
    assert kinds == {IntegrityFlag.Kind.BURST: 4}
    settings.RATING_FLAG_TOP_RUN = 2
    more = closed_case(county_map.village_a1, assistant=personas.assistant_a)
    with time_machine.travel(at(dt.date(2026, 11, 3), 9), tick=True):
        rate(more, (5, 5, 5))
    top = IntegrityFlag.objects.get(kind=IntegrityFlag.Kind.TOP_RUN)
    assert top.assistant_id == personas.assistant_a.pk and top.count == 2
