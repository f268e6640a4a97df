"""A department's actions on its referral, the centre's answer, and closing the case.

Each action is one service: the referral is locked (select_for_update) and its status checked on
the locked row, so of two clicks or two people exactly one wins and the other gets a ConflictError
(409) with a clear message. Every action writes its audit event in the same transaction.

Lock order, everywhere in referrals: the case first, then the referral. Actions that can close the
case (complete, cancel) take the case lock, which also serialises "is this the last one?".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Application, ApplicationMember
from assist_center import hooks
from assist_center.actors import Actor
from assist_center.audit import audit_record
from assist_center.errors import ConflictError, field_error
from assist_center.inputs import clean_text
from assist_center.sms.services import sms_queue
from assist_center.workdays import add_working_days, deadline, working_days_between
from benefits.models import BenefitEntry, Enrolment
from benefits.services.enrolments import enrolment_start
from benefits.services.ledger import benefit_record
from eligibility.rules import ITEM_LABELS

from .. import selectors
from ..colours import colour_for
from ..models import Case, Colour, Notification, Referral, ReferralOutcome
from ..permissions import referral_status_allows, require_referral_role
from .attachments import attachments_check, attachments_save

logger = logging.getLogger(__name__)

S = Referral.Status
MAX_AMOUNT = Decimal("10000000")


def _conflict(referral: Referral) -> ConflictError:
    return ConflictError(
        _("This referral is already “%(status)s”: someone acted on it first. Reload to see its state.")
        % {"status": referral.get_status_display()},
        {"status": referral.status},
    )


def _lock(referral_id: int) -> Referral:
    # of=self: the joined department (and case's application and village) rows are read, not
    # locked; locking them would queue every action of a department behind each other.
    return Referral.objects.select_for_update(of=("self",)).select_related("department").get(pk=referral_id)


def _lock_with_case(referral_id: int) -> tuple[Case, Referral]:
    case_id = Referral.objects.filter(pk=referral_id).values_list("case_id", flat=True).get()
    case = (
        Case.objects.select_for_update(of=("self",)).select_related("application", "village").get(pk=case_id)
    )
    return case, _lock(referral_id)


def _message(referral: Referral, *, kind: str, text: str, today: dt.date) -> None:
    """Keep the question/answer thread on the brief: it is what the department reads."""
    brief = dict(referral.brief or {})
    messages = list(brief.get("messages", []))
    messages.append({"kind": kind, "text": text, "date": today.isoformat()})
    brief["messages"] = messages
    referral.brief = brief


def notify(referral: Referral, colour: str) -> None:
    """Tell the department (and for red the coordinator) once: the unique constraint makes a repeat
    a no-op, whoever repeats it (two sweeps, two beats, a task delivered twice, an action)."""
    if colour == Colour.NONE:
        return
    rows = [
        Notification(
            referral_id=referral.pk,
            audience=Notification.Audience.DEPARTMENT,
            department_id=referral.department_id,
            colour=colour,
        )
    ]
    if colour == Colour.RED:
        rows.append(
            Notification(referral_id=referral.pk, audience=Notification.Audience.COORDINATOR, colour=colour)
        )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)


def record_colour_change(referral: Referral, *, today: dt.date) -> list[str]:
    """Recompute a locked referral's colour after its dates changed; notify a new colour.

    Returns the fields to save. Used by actions that move the due date (answer, extend); the sweep
    does the same for many rows at once.
    """
    new = colour_for(allotted=referral.allotted_days, due_date=referral.due_date, today=today)
    if new != referral.colour:
        referral.colour = new
        notify(referral, new)
    return ["colour"]


# --- department actions ----------------------------------------------------------------------


def referral_accept(*, actor: Actor, referral_id: int) -> Referral:
    """The department takes the referral on (pending -> accepted)."""
    found = selectors.referral_get(user=actor, referral_id=referral_id)
    require_referral_role(actor, found, "accept")
    with transaction.atomic():
        referral = _lock(found.pk)
        if not referral_status_allows(referral, "accept"):
            raise _conflict(referral)
        referral.status = S.ACCEPTED
        referral.accepted_at = timezone.now()
        referral.save(update_fields=["status", "accepted_at"])
        audit_record(
            actor=actor,
            action="referral.accept",
            subject=referral,
            old={"status": S.PENDING},
            new={"status": S.ACCEPTED},
            region=referral.township,
            department=referral.department,
        )
    return referral


def referral_request_info(*, actor: Actor, referral_id: int, question: str) -> Referral:
    """The department asks the centre for more: the clock stops until the answer."""
    found = selectors.referral_get(user=actor, referral_id=referral_id)
    require_referral_role(actor, found, "request_info")
    question = clean_text("question", question, required=True)
    today = timezone.localdate()
    with transaction.atomic():
        referral = _lock(found.pk)
        if not referral_status_allows(referral, "request_info"):
            raise _conflict(referral)
        old_status = referral.status
        referral.status = S.INFO_REQUESTED
        referral.paused_since = today
        _message(referral, kind="question", text=question, today=today)
        referral.save(update_fields=["status", "paused_since", "brief"])
        audit_record(
            actor=actor,
            action="referral.request_info",
            subject=referral,
            old={"status": old_status},
            new={"status": S.INFO_REQUESTED, "paused_since": today},
            reason=question,
            region=referral.township,
            department=referral.department,
        )
    return referral


def referral_answer_info(
    *, actor: Actor, referral_id: int, answer: str, attachments: Sequence[Any] = ()
) -> Referral:
    """The centre answers: the clock resumes, and the due date moves by the working days paused.

    `attachments` are uploaded files (photos or PDFs, checked by their content and size before
    anything is saved); they belong to this referral, so only its department and the centre see them.
    """
    found = selectors.referral_get(user=actor, referral_id=referral_id)
    require_referral_role(actor, found, "answer_info")
    answer = clean_text("answer", answer, required=True)
    files = attachments_check(attachments)
    today = timezone.localdate()
    with transaction.atomic():
        referral = _lock(found.pk)
        # The second test repeats the table's for the type checker (paused_since is then a date).
        if not referral_status_allows(referral, "answer_info") or referral.paused_since is None:
            raise _conflict(referral)
        paused = working_days_between(referral.paused_since, today)
        old = {"status": referral.status, "due_date": referral.due_date, "paused_days": referral.paused_days}
        # Back to where the question paused it (issue 16): a referral asked about before anyone
        # accepted it is still waiting to be accepted; only referral_accept records an acceptance.
        resumed = S.ACCEPTED if referral.accepted_at is not None else S.PENDING
        referral.status = resumed
        referral.paused_days += paused
        referral.due_date = add_working_days(referral.due_date, paused)
        referral.provisional = deadline(
            referral.start_date, referral.allotted_days + referral.paused_days
        ).provisional
        referral.paused_since = None
        _message(referral, kind="answer", text=answer, today=today)
        fields = ["status", "paused_days", "due_date", "provisional", "paused_since", "brief"]
        fields += record_colour_change(referral, today=today)
        referral.save(update_fields=fields)
        saved = attachments_save(referral=referral, files=files, actor=actor)
        audit_record(
            actor=actor,
            action="referral.answer_info",
            subject=referral,
            old=old,
            # The files by hash only: their names may name a person.
            new={
                "status": resumed,
                "due_date": referral.due_date,
                "paused_days": referral.paused_days,
                "attachments": [a.sha256 for a in saved],
            },
            reason=answer,
            region=referral.township,
            department=referral.department,
        )
    return referral


def referral_return(*, actor: Actor, referral_id: int, reason_code: str, note: str = "") -> Referral:
    """Send the referral back to the centre with a reason; it waits in the coordinator's queue."""
    found = selectors.referral_get(user=actor, referral_id=referral_id)
    require_referral_role(actor, found, "return")
    if reason_code not in Referral.ReturnReason.values:
        raise field_error("reason_code", _("Choose a reason."))
    note = clean_text("note", note, required=reason_code == Referral.ReturnReason.OTHER)
    with transaction.atomic():
        case, referral = _lock_with_case(found.pk)
        if not referral_status_allows(referral, "return"):
            raise _conflict(referral)
        old_status = referral.status
        referral.status = S.RETURNED
        referral.return_reason = reason_code
        referral.note = note
        referral.paused_since = None
        referral.save(update_fields=["status", "return_reason", "note", "paused_since"])
        audit_record(
            actor=actor,
            action="referral.return",
            subject=referral,
            old={"status": old_status},
            new={"status": S.RETURNED, "reason_code": reason_code},
            reason=note,
            region=case.village,
            department=referral.department,
        )
    return referral


@dataclass(frozen=True)
class OutcomeInput:
    """A department's outcome on one item: granted (benefit kind, amount, period, start) or not (why)."""

    item: str
    granted: bool
    benefit_kind: str = ""
    amount: Decimal | int | str | None = None
    period: str = ""
    start_date: dt.date | None = None
    reason: str = ""


def _outcome_row(referral: Referral, o: OutcomeInput, index: int) -> ReferralOutcome:
    prefix = f"outcomes.{index}"
    if not isinstance(o.granted, bool):
        raise field_error(f"{prefix}.granted", _("Say whether the item was granted."))
    if o.granted:
        kind = clean_text(f"{prefix}.benefit_kind", o.benefit_kind, required=True, max_length=100)
        amount: Decimal | None = None
        if o.amount not in (None, ""):
            try:
                amount = Decimal(str(o.amount))
            except InvalidOperation:
                raise field_error(f"{prefix}.amount", _("Enter an amount in yuan.")) from None
            if (
                not amount.is_finite()
                or amount < 0
                or amount >= MAX_AMOUNT
                or amount != amount.quantize(Decimal("0.01"))
            ):
                raise field_error(f"{prefix}.amount", _("Enter an amount in yuan with at most two decimals."))
        if o.period and o.period not in ReferralOutcome.Period.values:
            raise field_error(f"{prefix}.period", _("Choose a period."))
        if o.start_date is not None and not isinstance(o.start_date, dt.date):
            raise field_error(f"{prefix}.start_date", _("Enter a date."))
        return ReferralOutcome(
            referral=referral,
            item=o.item,
            granted=True,
            benefit_kind=kind,
            amount=amount,
            period=o.period or "",
            start_date=o.start_date,
        )
    reason = clean_text(f"{prefix}.reason", o.reason, required=True)
    return ReferralOutcome(referral=referral, item=o.item, granted=False, reason=reason)


def referral_complete(*, actor: Actor, referral_id: int, outcomes: Sequence[OutcomeInput]) -> Referral:
    """Finish the referral with exactly one outcome per item; the last one closes the case."""
    found = selectors.referral_get(user=actor, referral_id=referral_id)
    require_referral_role(actor, found, "complete")
    outcomes = list(outcomes)
    items = [o.item for o in outcomes]
    if len(set(items)) != len(items):
        raise field_error("outcomes", _("Give each item one outcome."))
    if set(items) != set(found.items):
        raise field_error(
            "outcomes",
            _("Give exactly one outcome for each item of the referral: %(items)s.")
            % {"items": "、".join(ITEM_LABELS.get(i, i) for i in found.items) or "—"},
        )
    with transaction.atomic():
        case, referral = _lock_with_case(found.pk)
        if not referral_status_allows(referral, "complete"):
            raise _conflict(referral)
        rows = [_outcome_row(referral, o, n) for n, o in enumerate(outcomes)]
        old_status = referral.status
        referral.status = S.COMPLETED
        referral.finished_at = timezone.now()
        referral.save(update_fields=["status", "finished_at"])
        ReferralOutcome.objects.bulk_create(rows)
        rolls = outcomes_to_rolls(
            referral=referral, outcomes=rows, household_id=case.application.household_id
        )
        audit_record(
            actor=actor,
            action="referral.complete",
            subject=referral,
            old={"status": old_status},
            new={
                "status": S.COMPLETED,
                "outcomes": [
                    {"item": r.item, "granted": r.granted, "benefit_kind": r.benefit_kind, "amount": r.amount}
                    for r in rows
                ],
                "rolls": rolls,
            },
            region=case.village,
            department=referral.department,
        )
        case_close_if_finished(actor=actor, case=case)
    return referral


# The rolls' writers see the outcome, not the department's account: permission to change the rolls
# is the centre's (may_change_rolls), and the department's decision was checked above
# (require_referral_role). Their audit events name this label; referral.complete, in the same
# transaction, names the department's person and lists what the outcome wrote to the rolls.
ROLLS_ACTOR = "referral outcome"


def outcome_source_ref(outcome: ReferralOutcome) -> str:
    return str(outcome.pk)


def outcome_benefit_key(outcome: ReferralOutcome) -> str:
    return f"outcome:{outcome.pk}"


def outcomes_to_rolls(
    *, referral: Referral, outcomes: Sequence[ReferralOutcome], household_id: int | None
) -> list[dict[str, object]]:
    """Write granted outcomes to the rolls and the ledger in the caller's transaction; say what.

    A recurring grant (monthly or yearly) enrols the household on the item from its start date
    (source GRANTED_OUTCOME, the outcome as source ref); the monthly ledger task pays the months of
    a monthly amount. A one-off grant is one ledger entry. Both are idempotent on the outcome, so a
    retried call writes once. An application without a household (not yet linked to the registry)
    writes nothing and says so; a household already on the rolls for the item (a department's own
    list) keeps that enrolment: the reconciliation with the department's list shows any difference.
    """
    written: list[dict[str, object]] = []
    today = timezone.localdate()
    department = referral.department
    for o in outcomes:
        if not o.granted:
            continue
        if household_id is None:
            logger.warning(
                "referral %s: outcome %s granted, but the application has no household", referral.pk, o.pk
            )
            written.append({"item": o.item, "outcome": o.pk, "skipped": "no_household"})
            continue
        start = o.start_date or today
        if o.period in (ReferralOutcome.Period.MONTHLY, ReferralOutcome.Period.YEARLY):
            # A yearly amount is paid by the department's payment file: on the rolls it is the kind.
            monthly = o.amount if o.period == ReferralOutcome.Period.MONTHLY else None
            kind = "" if monthly is not None else o.benefit_kind
            try:
                enrolment = enrolment_start(
                    actor=ROLLS_ACTOR,
                    household_id=household_id,
                    item=o.item,
                    since=start,
                    source=Enrolment.Source.GRANTED_OUTCOME,
                    source_ref=outcome_source_ref(o),
                    department_id=referral.department_id,
                    monthly_amount=monthly,
                    kind=kind,
                )
            except ConflictError as exc:
                written.append(
                    {"item": o.item, "outcome": o.pk, "already_enrolled": (exc.extra or {}).get("enrolment")}
                )
                continue
            written.append({"item": o.item, "outcome": o.pk, "enrolment": enrolment.pk})
        else:
            entry, _created = benefit_record(
                actor=ROLLS_ACTOR,
                household_id=household_id,
                source=BenefitEntry.Source.REFERRAL_OUTCOME,
                source_key=outcome_benefit_key(o),
                period=start,
                item=o.item,
                provider_code=department.code,
                provider_name=department.name,
                amount=o.amount,
                in_kind="" if o.amount is not None else o.benefit_kind,
                paid_on=o.start_date,
            )
            written.append({"item": o.item, "outcome": o.pk, "benefit": entry.pk})
    return written


# --- closing the case ------------------------------------------------------------------------


def happiness_url(application: Application) -> str:
    """The household's happiness list (design.md: GET /happiness/<token>/): the final link.

    The token is the household's 幸福签 card token, from happiness_list (the "household_list_url"
    hook, issued if the household has no card yet), so the SMS link and the card's QR code open
    the same list and a reprinted card retires both. Without a household (never, for a decided
    application) or without the hook, the status page of the receipt code.
    """
    if application.household_id is not None:
        for url in hooks.call("household_list_url", household_id=application.household_id):
            if url:
                return str(url)
    return f"{settings.SITE_URL}/status/"


def case_close_if_finished(*, actor: Actor, case: Case) -> bool:
    """Close a locked case when every referral is completed or cancelled; queue the one SMS.

    Called inside the transaction of the action that finished the last referral, with the case
    row locked by it, so two departments finishing at once close the case once.
    """
    if case.status != Case.Status.OPEN:
        return False
    if Referral.objects.filter(case=case).exclude(status__in=Referral.FINISHED_STATUSES).exists():
        return False
    today = timezone.localdate()
    application = case.application
    submitted = timezone.localtime(application.created_at).date()
    case.status = Case.Status.CLOSED
    case.closed_at = timezone.now()
    case.working_days_to_close = working_days_between(submitted, today)
    case.save(update_fields=["status", "closed_at", "working_days_to_close"])
    granted = list(
        ReferralOutcome.objects.filter(referral__case=case, granted=True)
        .order_by("referral_id", "id")
        .values_list("item", flat=True)
    )
    sms_id = _closure_sms(case, granted)
    audit_record(
        actor=actor,
        action="case.close",
        subject=case,
        old={"status": Case.Status.OPEN},
        new={
            "status": Case.Status.CLOSED,
            "working_days_to_close": case.working_days_to_close,
            "granted_items": granted,
            "sms": sms_id,
        },
        region=case.village,
    )
    return True


def applicant_sms(
    application: Application, *, template: str, params: dict[str, str], idempotency_key: str
) -> int | None:
    """Queue one SMS to the application's applicant (the only member texted); its id, or None.

    None when the applicant gave no mobile or the number cannot receive one: the outcome stands,
    and the assistant tells the family.
    """
    applicant = (
        ApplicationMember.objects.filter(application=application, role=ApplicationMember.Role.APPLICANT)
        .order_by("position")
        .first()
    )
    if applicant is None or not applicant.phone:
        return None
    try:
        sms = sms_queue(to=applicant.phone, template=template, params=params, idempotency_key=idempotency_key)
    except (ValidationError, ValueError):
        logger.warning(
            "application %s: no %s SMS, the applicant's number cannot receive one", application.pk, template
        )
        return None
    return sms.pk


def _closure_sms(case: Case, granted_items: list[str]) -> int | None:
    """One SMS to the applicant: done, what was granted (item names only), the happiness link."""
    application = case.application
    url = happiness_url(application)
    labels = "、".join(dict.fromkeys(ITEM_LABELS.get(i, i) for i in granted_items))
    if labels:
        template, params = (
            "case_closed_summary",
            {"receipt": application.receipt_code, "granted": labels, "url": url},
        )
    else:
        template, params = "case_closed", {"receipt": application.receipt_code, "url": url}
    # A landline or an unusable number: the case still closes; the assistant tells the family.
    return applicant_sms(
        application, template=template, params=params, idempotency_key=f"case-closed:{case.pk}"
    )
