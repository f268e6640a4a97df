"""The one way the rolls change: start, begin a gradual exit, end; under a row lock, audited.

Shaped like applications.services.transitions: one table of allowed moves, one function that
moves a locked row and checks the move on its current state (of two staff acting at once, one wins
and the other gets a 409), `update_fields`, and in the same transaction an EnrolmentEvent (the
roll's own history) and an audit event.

Callers (integration of issue 10): referrals' granted outcome calls `enrolment_start` with
source GRANTED_OUTCOME in the transaction that records the outcome; a monitoring warning resolved
as "exit started" calls `enrolment_begin_exit`; the grace sweep (benefits.services.sweeps) ends
exits whose grace end passed.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Household, Person
from assist_center.actors import AuditActor, account_of
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, ConflictError, field_error
from assist_center.permissions import may_change_rolls
from assist_center.scopes import region_in_scope

from ..models import Enrolment, EnrolmentEvent

S = Enrolment.State
E = EnrolmentEvent.Kind

ALLOWED: dict[str, frozenset[str]] = {
    S.ACTIVE: frozenset({S.GRADUAL_EXIT, S.ENDED}),
    # A gradual exit may be withdrawn (the assistant finds the change did not affect eligibility).
    S.GRADUAL_EXIT: frozenset({S.ENDED, S.ACTIVE}),
    S.ENDED: frozenset(),
}
MAX_REASON_LENGTH = 1000
MAX_GRACE = dt.timedelta(days=366)
# Item codes belong to eligibility (above this app); here only their shape is checked.
_ITEM = re.compile(r"[a-z][a-z0-9_]{1,31}")


def can_transition(current: str, to: str) -> bool:
    return to in ALLOWED.get(current, frozenset())


def _check_actor(actor: AuditActor, village: Any) -> None:
    """Staff acting on the rolls: the enrolment's township assistant or the county (404 / 403).

    The system (None) and a labelled entry point (a string) act for the county.
    """
    if actor is None or isinstance(actor, str):
        return
    if not region_in_scope(actor, village):
        raise Http404
    if not may_change_rolls(actor):
        raise PermissionDenied(_("You may not change the rolls."))


def _clean_reason(reason: Any, *, required: bool) -> str:
    if not isinstance(reason, str) or "\x00" in reason:
        raise field_error("reason", _("The reason contains a control character."))
    reason = reason.strip()
    if required and not reason:
        raise field_error("reason", _("Give a reason."))
    if len(reason) > MAX_REASON_LENGTH:
        raise field_error(
            "reason", _("The reason may have at most %(n)d characters.") % {"n": MAX_REASON_LENGTH}
        )
    return reason


def enrolment_start(
    *,
    actor: AuditActor,
    household_id: int,
    item: str,
    since: dt.date,
    source: str,
    person_id: int | None = None,
    department_id: int | None = None,
    monthly_amount: Decimal | None = None,
    kind: str = "",
    standard_version: int | None = None,
    source_ref: str = "",
    reason: str = "",
) -> Enrolment:
    """Put a household (or one person of it) on the rolls of `item` from `since`.

    Idempotent for a source: starting again with the same source and source_ref returns the open
    enrolment (a retried task or outcome). Another open enrolment of the same item is a 409: a new
    amount is an end (REPLACED) and a new start, never an edit.
    """
    if source not in Enrolment.Source.values:
        raise field_error("source", _("Unknown source."))
    if not isinstance(item, str) or not _ITEM.fullmatch(item):
        raise field_error("item", _("Unknown assistance item."))
    if monthly_amount is not None and monthly_amount < 0:
        raise field_error("monthly_amount", _("The amount cannot be negative."))
    kind = (kind or "").strip()[:200]
    if monthly_amount is None and not kind:
        raise field_error("monthly_amount", _("Give a monthly amount or the benefit in kind."))
    reason = _clean_reason(reason, required=source == Enrolment.Source.ASSISTANT_ENTRY)
    with transaction.atomic():
        household = Household.objects.select_related("township", "village").filter(pk=household_id).first()
        if household is None:
            raise ApplicationError(_("Household not found."), status=404)
        _check_actor(actor, household.village)
        if (
            person_id is not None
            and not Person.objects.filter(pk=person_id, household_id=household_id).exists()
        ):
            raise field_error("person", _("This person is not a member of the household."))
        open_qs = Enrolment.objects.filter(
            household_id=household_id, item=item, **_person_lookup(person_id)
        ).exclude(state=S.ENDED)
        existing = open_qs.first()
        if existing is not None:
            if source_ref and existing.source == source and existing.source_ref == source_ref:
                return existing
            raise ConflictError(
                _("This household is already on the rolls for this item; end that enrolment first."),
                {"enrolment": existing.pk},
            )
        try:
            with transaction.atomic():
                enrolment = Enrolment.objects.create(
                    household=household,
                    person_id=person_id,
                    township=household.township,
                    department_id=department_id,
                    item=item,
                    since=since,
                    monthly_amount=monthly_amount,
                    kind=kind,
                    standard_version=standard_version,
                    source=source,
                    source_ref=source_ref[:64],
                    reason=reason,
                    created_by=account_of(actor),
                )
        except IntegrityError:
            # A concurrent start of the same item committed first (enrolment_open_once).
            raise ConflictError(
                _("This household is already on the rolls for this item; end that enrolment first.")
            ) from None
        EnrolmentEvent.objects.create(
            enrolment=enrolment,
            kind=E.STARTED,
            old_state="",
            new_state=S.ACTIVE,
            effective_date=since,
            data={"monthly_amount": monthly_amount, "kind": kind, "source": source, "source_ref": source_ref},
            reason=reason,
            actor=account_of(actor),
        )
        _household_enrolled(household_id)
        audit_record(
            actor=actor,
            action="enrolment.start",
            subject=enrolment,
            new={
                "household": household_id,
                "person": person_id,
                "item": item,
                "since": since,
                "monthly_amount": monthly_amount,
                "kind": kind,
                "source": source,
                "source_ref": source_ref,
            },
            reason=reason,
            region=household.township,
        )
    return enrolment


def _person_lookup(person_id: int | None) -> dict[str, Any]:
    return {"person_id": person_id} if person_id is not None else {"person__isnull": True}


def _household_enrolled(household_id: int) -> None:
    """Keep Household.is_enrolled (what monitoring and the re-check select by) equal to the rolls."""
    enrolled = Enrolment.objects.filter(household_id=household_id).exclude(state=S.ENDED).exists()
    Household.objects.filter(pk=household_id).exclude(is_enrolled=enrolled).update(is_enrolled=enrolled)


def _move(
    *,
    enrolment_id: int,
    to: str,
    kind: str,
    actor: AuditActor,
    effective_date: dt.date,
    reason: str,
    changes: dict[str, Any],
    data: dict[str, Any] | None = None,
) -> Enrolment:
    with transaction.atomic():
        enrolment = (
            Enrolment.objects.select_for_update(of=("self",))
            .select_related("township", "household__village")
            .filter(pk=enrolment_id)
            .first()
        )
        if enrolment is None:
            raise ApplicationError(_("Enrolment not found."), status=404)
        _check_actor(actor, enrolment.household.village)
        old = enrolment.state
        if not can_transition(old, to):
            raise ConflictError(
                _(
                    "This enrolment is now “%(state)s” and can no longer be moved to “%(to)s”. "
                    "Reload the page to see its current state."
                )
                % {"state": enrolment.get_state_display(), "to": S(to).label},
                {"state": old},
            )
        enrolment.state = to
        for name, value in changes.items():
            setattr(enrolment, name, value)
        enrolment.save(update_fields=["state", *changes])
        EnrolmentEvent.objects.create(
            enrolment=enrolment,
            kind=kind,
            old_state=old,
            new_state=to,
            effective_date=effective_date,
            data=data or {},
            reason=reason,
            actor=account_of(actor),
        )
        if to == S.ENDED:
            _household_enrolled(enrolment.household_id)
        audit_record(
            actor=actor,
            action=f"enrolment.{kind}",
            subject=enrolment,
            old={"state": old},
            new={"state": to, **changes, **(data or {})},
            reason=reason,
            region=enrolment.township,
        )
    return enrolment


def enrolment_begin_exit(
    *, actor: AuditActor, enrolment_id: int, grace_end: dt.date, reason: str, warning_id: int | None = None
) -> Enrolment:
    """Start a gradual exit (渐退) that ends on `grace_end`; the township is reminded before it.

    The person (through the assistant) decides the exit; the grace sweep only carries it out.
    `warning_id` names the monitoring warning that proposed it, if any.
    """
    reason = _clean_reason(reason, required=True)
    today = timezone.localdate()
    if not isinstance(grace_end, dt.date) or grace_end < today:
        raise field_error("grace_end", _("The grace period must end today or later."))
    if grace_end > today + MAX_GRACE:
        raise field_error("grace_end", _("The grace period may last at most a year."))
    return _move(
        enrolment_id=enrolment_id,
        to=S.GRADUAL_EXIT,
        kind=E.EXIT_BEGUN,
        actor=actor,
        effective_date=today,
        reason=reason,
        changes={"grace_end": grace_end},
        data={"warning": warning_id} if warning_id is not None else None,
    )


def enrolment_revoke_exit(*, actor: AuditActor, enrolment_id: int, reason: str) -> Enrolment:
    """Withdraw a gradual exit before its end: the enrolment is active again."""
    reason = _clean_reason(reason, required=True)
    return _move(
        enrolment_id=enrolment_id,
        to=S.ACTIVE,
        kind=E.EXIT_REVOKED,
        actor=actor,
        effective_date=timezone.localdate(),
        reason=reason,
        changes={"grace_end": None},
    )


def enrolment_end(
    *, actor: AuditActor, enrolment_id: int, ended_on: dt.date, why: str, reason: str = ""
) -> Enrolment:
    """End an enrolment on `ended_on` for `why` (an Enrolment.EndReason)."""
    if why not in Enrolment.EndReason.values:
        raise field_error("why", _("Say why the enrolment ends."))
    reason = _clean_reason(
        reason, required=why in (Enrolment.EndReason.CORRECTION, Enrolment.EndReason.DEPARTMENT)
    )
    return _move(
        enrolment_id=enrolment_id,
        to=S.ENDED,
        kind=E.ENDED,
        actor=actor,
        effective_date=ended_on,
        reason=reason,
        changes={"ended_on": ended_on, "end_reason": why, "until": ended_on},
    )
