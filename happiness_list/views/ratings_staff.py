"""The centre's rating pages: the 差评 tasks with their colours, disputes to review, integrity flags.

The tasks are the county centre's (the rated assistant must not learn who rated); a dispute is
raised from the evaluation page by whoever was rated, and reviewed here by the coordinator.
Each action is one POST URL calling one service (house-style.md).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from applications.models import AccessPurpose
from applications.services.access import household_access_record
from assist_center.errors import ApplicationError
from assist_center.permissions import may_handle_low_ratings, may_review_rating_disputes
from assist_center.pii import mask_name
from assist_center.staff_views import add_service_errors, staff_context, staff_view

from ..models.ratings import LowRatingTask
from ..selectors.ratings import (
    integrity_flags,
    low_rating_task_get,
    low_rating_tasks,
    open_disputes,
    task_colour,
)
from ..services.ratings import low_rating_task_act, rating_dispute_raise, rating_dispute_review


class TextForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000
    )


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why this rating is wrong"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("upheld", gettext_lazy("Uphold the dispute")),
            ("rejected", gettext_lazy("Reject the dispute")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@staff_view(may_handle_low_ratings)
def ratings_centre(request: HttpRequest) -> HttpResponse:
    """The county centre's rating work: open 差评 tasks, disputes waiting, integrity flags."""
    today = timezone.localdate()
    ctx = {
        **staff_context(request, _("Ratings: low-rating tasks, disputes and flags")),
        "tasks": low_rating_tasks(user=request.user, today=today),
        "disputes": open_disputes(user=request.user),
        "flags": integrity_flags(user=request.user),
        "review_form": ReviewForm(),
        "may_review": may_review_rating_disputes(request.user),
    }
    return _no_store(render(request, "happiness_list/ratings_centre.html", ctx))


def _task_page(request: HttpRequest, task: LowRatingTask, form: Any = None, action: str = "") -> HttpResponse:
    today = timezone.localdate()
    case = task.rating.case
    application = case.application if case is not None else None
    applicant = application.members.filter(role="applicant").first() if application else None
    # The rating with its comment, the masked applicant and the village: in the household's log.
    household_access_record(
        actor=request.user, household_id=task.rating.household_id, purpose=AccessPurpose.CASE, subject=task
    )
    ctx = {
        **staff_context(request, _("Low-rating task")),
        "task": task,
        "rating": task.rating,
        "colour": task_colour(task, today),
        "receipt": application.receipt_code if application else "",
        "applicant": mask_name(applicant.name) if applicant else "",
        "household": task.rating.household,
        "contact_form": form if action == "contact" else TextForm(),
        "answer_form": form if action == "answer" else TextForm(),
    }
    return _no_store(render(request, "happiness_list/rating_task.html", ctx))


@require_GET
@staff_view()
def rating_task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    task = low_rating_task_get(user=request.user, task_id=task_id)
    return _task_page(request, task)


def _act(request: HttpRequest, task_id: int, action: str) -> HttpResponse:
    task = low_rating_task_get(user=request.user, task_id=task_id)
    form = TextForm(request.POST)
    if form.is_valid():
        try:
            low_rating_task_act(
                actor=request.user, task_id=task.pk, action=action, text=form.cleaned_data["text"]
            )
        except ApplicationError as exc:
            add_service_errors(form, exc, fallback="text")
        else:
            messages.success(request, _("Saved."))
            return redirect("rating-task", task_id=task.pk)
    return _task_page(request, task, form, action)


@require_POST
@staff_view()
def rating_task_contact(request: HttpRequest, task_id: int) -> HttpResponse:
    return _act(request, task_id, "contact")


@require_POST
@staff_view()
def rating_task_answer(request: HttpRequest, task_id: int) -> HttpResponse:
    return _act(request, task_id, "answer")


@require_POST
@staff_view()
def rating_dispute(request: HttpRequest, rating_id: int) -> HttpResponse:
    """Raise a dispute on a rating of the user's unit (from the evaluation page)."""
    form = DisputeForm(request.POST)
    back = request.POST.get("next", "")
    if not back.startswith("/staff/evaluation/"):
        back = "/staff/evaluation/"
    try:
        # The service checks scope (404) and role (403) before it reads the reason.
        rating_dispute_raise(actor=request.user, rating_id=rating_id, reason=form.data.get("reason", ""))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Your dispute was sent to the coordinator."))
    return redirect(back)


@require_POST
@staff_view()
def rating_dispute_decide(request: HttpRequest, dispute_id: int) -> HttpResponse:
    form = ReviewForm(request.POST)
    decision = request.POST.get("decision", "")
    try:
        rating_dispute_review(
            actor=request.user,
            dispute_id=dispute_id,
            upheld={"upheld": True, "rejected": False}.get(decision),
            reason=form.data.get("reason", ""),
        )
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The dispute was reviewed."))
    return redirect("ratings-centre")
