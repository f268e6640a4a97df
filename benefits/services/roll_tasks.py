"""Closing a township's roll task: the assistant says what they found and did, audited.

Shaped like referrals.services.actions: scoped fetch (404) → permission (403) → validate (400) →
row lock → status check (409, of two staff closing one task exactly one wins) → write → audit.
A roll task records a finding; whatever it leads to on the rolls (an enrolment, an end, a new
amount) goes through benefits.services.enrolments, which writes its own history.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assist_center.actors import AuditActor, account_of
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, ConflictError, field_error
from assist_center.permissions import may_change_rolls
from assist_center.scopes import region_in_scope

from ..models import RollTask

MAX_NOTE_LENGTH = 2000


def roll_task_resolve(*, actor: AuditActor, task_id: int, note: str) -> RollTask:
    """Close an open roll task with the assistant's note of what was found and done."""
    if not isinstance(note, str) or "\x00" in note:
        raise field_error("note", _("The note contains a control character."))
    note = note.strip()
    if not note:
        raise field_error("note", _("Say what you found and what you did."))
    if len(note) > MAX_NOTE_LENGTH:
        raise field_error("note", _("The note may have at most %(n)d characters.") % {"n": MAX_NOTE_LENGTH})
    with transaction.atomic():
        task = (
            RollTask.objects.select_for_update(of=("self",))
            .select_related("township", "household__village")
            .filter(pk=task_id)
            .first()
        )
        if task is None:
            raise ApplicationError(_("Roll task not found."), status=404)
        if actor is not None and not isinstance(actor, str):
            if not region_in_scope(actor, task.household.village):
                raise Http404
            if not may_change_rolls(actor):
                raise PermissionDenied(_("You may not change the rolls."))
        if task.status != RollTask.Status.OPEN:
            raise ConflictError(
                _("This roll task has already been closed. Reload the page to see its note."),
                {"status": task.status},
            )
        task.status = RollTask.Status.DONE
        task.resolution_note = note
        task.resolved_by = account_of(actor)
        task.resolved_at = timezone.now()
        task.save(update_fields=["status", "resolution_note", "resolved_by", "resolved_at"])
        audit_record(
            actor=actor,
            action="roll_task.resolve",
            subject=task,
            old={"status": RollTask.Status.OPEN},
            new={"status": RollTask.Status.DONE, "kind": task.kind, "item": task.item},
            reason=note,
            region=task.township,
        )
    return task
