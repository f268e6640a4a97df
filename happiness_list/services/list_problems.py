"""The resident's "有问题?" on a list entry, and the township's answer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Household
from assist_center.actors import Actor
from assist_center.audit import RESIDENT, audit_record
from assist_center.errors import ConflictError, field_error
from assist_center.permissions import is_centre
from assist_center.scopes import get_in_scope_or_404
from assist_center.workdays import deadline
from benefits.models import BenefitEntry

from ..models import EntryProblem

__all__ = ["PROBLEM_DAYS", "entry_problem_answer", "entry_problem_report", "problem_days"]

# A township checks a payment with the department and answers within this many working days.
PROBLEM_DAYS = 5
MAX_NOTE = 500


def problem_days() -> int:
    return int(getattr(settings, "HAPPINESS_PROBLEM_WORKING_DAYS", PROBLEM_DAYS))


def entry_problem_report(
    *, household_id: int, entry_id: Any, kind: Any, note: Any = "", source: str = EntryProblem.Source.LIST
) -> EntryProblem:
    """Open a township task for one entry of the household's own list; a second report shows the first.

    An entry of another household is a 404, exactly like a missing one.
    """
    if kind not in EntryProblem.Kind.values:
        raise field_error("kind", _("Choose what is wrong with this entry."))
    if not isinstance(note, str):
        note = ""
    note = note.replace("\x00", "").strip()
    if len(note) > MAX_NOTE:
        raise field_error("note", _("Please keep the note under 500 characters."))
    try:
        entry_pk = int(entry_id)
    except (TypeError, ValueError):
        raise Http404 from None
    entry = BenefitEntry.objects.filter(pk=entry_pk, household_id=household_id).first()
    if entry is None:
        raise Http404
    household = Household.objects.select_related("township").get(pk=household_id)
    today = timezone.localdate()
    days = problem_days()
    due = deadline(today, days).due
    with transaction.atomic():
        existing = EntryProblem.objects.filter(entry_id=entry.pk, status=EntryProblem.Status.OPEN).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                problem = EntryProblem.objects.create(
                    household_id=household_id,
                    township_id=household.township_id,
                    entry_id=entry.pk,
                    kind=kind,
                    source=source,
                    note=note,
                    allotted_days=days,
                    due_date=due,
                )
        except IntegrityError:
            # A double tap raced us: the other request's task stands.
            return EntryProblem.objects.get(entry_id=entry.pk, status=EntryProblem.Status.OPEN)
        audit_record(
            actor=RESIDENT,
            action="happiness.problem_report",
            subject=problem,
            new={"entry": entry.pk, "kind": kind, "source": source, "due_date": due},
            region=household.township,
        )
    return problem


def entry_problem_answer(*, actor: Actor, problem_id: int, answer: Any) -> EntryProblem:
    """The township answers a problem; the resident sees the answer on the list."""
    problem = get_in_scope_or_404(EntryProblem.objects.select_related("township"), actor, pk=problem_id)
    if not is_centre(actor):
        raise PermissionDenied
    if not isinstance(answer, str) or not answer.strip():
        raise field_error("answer", _("Write the answer the resident will read."))
    text = answer.replace("\x00", "").strip()[:2000]
    with transaction.atomic():
        done = EntryProblem.objects.filter(pk=problem.pk, status=EntryProblem.Status.OPEN).update(
            status=EntryProblem.Status.ANSWERED,
            answer=text,
            answered_by=actor,
            answered_at=timezone.now(),
            colour="none",
        )
        if not done:
            raise ConflictError(_("This problem has already been answered."))
        audit_record(
            actor=actor,
            action="happiness.problem_answer",
            subject=problem,
            new={"status": EntryProblem.Status.ANSWERED},
            region=problem.township,
        )
    problem.refresh_from_db()
    return problem
