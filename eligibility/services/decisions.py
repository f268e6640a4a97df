"""The assistant's decision on each item of a verification report, and closing the review.

security.md: any adverse decision is made by a person. The rules only recommend; nothing in the
system writes a rejection by itself, and a rejection always carries the person's reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from applications.models import Application
from assist_center import hooks
from assist_center.actors import Actor, staff_account
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, ConflictError, field_error

from ..models import ItemDecision, VerificationReport
from ..rules import ITEM_LABELS, ITEMS
from .verification import application_for_staff

S = Application.Status
D = ItemDecision.Decision
MAX_REASON = 1000
FINAL = (D.APPROVE, D.REJECT)


def latest_report(application_id: int) -> VerificationReport | None:
    return (
        VerificationReport.objects.filter(application_id=application_id)
        .order_by("-created_at", "-pk")
        .first()
    )


def latest_decisions(application_id: int) -> dict[str, ItemDecision]:
    """item -> the newest decision on it (a later decision supersedes an earlier one)."""
    out: dict[str, ItemDecision] = {}
    qs = ItemDecision.objects.filter(application_id=application_id).select_related(
        "decided_by__profile__region", "decided_by__profile__department"
    )
    for d in qs.order_by("-decided_at", "-pk"):
        out.setdefault(d.item, d)
    return out


def approved_items(application_id: int) -> list[str]:
    """What the referrals issue turns into department referrals."""
    return _approved(latest_decisions(application_id))


def _approved(decisions: dict[str, ItemDecision]) -> list[str]:
    return sorted(item for item, d in decisions.items() if d.decision == D.APPROVE)


@dataclass(frozen=True)
class DecidedApplication:
    """What the "application_decided" hook carries: everything a layer above needs of the decision.

    `application` is the row the decision locked and moved to "decided", in the caller's open
    transaction; `report_results` are the results of the report the items were decided on.
    """

    application: Application
    approved_items: tuple[str, ...]
    report_results: tuple[dict[str, Any], ...]
    # item -> the decision that closed it, with its reason and decider (the department sees the
    # township's judgement beside the machine check, issue 16).
    item_decisions: Mapping[str, ItemDecision] = field(default_factory=dict)


def decided_application(application: Application) -> DecidedApplication:
    """The decision of an application already decided (for a caller outside the hook: a retry)."""
    report = latest_report(application.pk)
    decisions = latest_decisions(application.pk)
    return DecidedApplication(
        application=application,
        approved_items=tuple(_approved(decisions)),
        report_results=tuple(report.results) if report is not None else (),
        item_decisions=decisions,
    )


def items_to_decide(application: Application, report: VerificationReport) -> list[str]:
    """Every item the household asked for, and every item the report found it eligible for."""
    eligible = {r["item"] for r in report.results if r.get("outcome") == "eligible"}
    wanted = set(application.needs) | eligible
    return [item for item in ITEMS if item in wanted]


def item_decide(
    *, actor: Actor, application_id: int, item: str, decision: str, reason: str = ""
) -> ItemDecision:
    """Record a person's decision on one item: approve, reject (with a reason) or ask for a home visit."""
    application_for_staff(actor=actor, application_id=application_id)
    if item not in ITEMS:
        raise field_error("item", _("Unknown assistance item."))
    if decision not in D.values:
        raise field_error("decision", _("Choose approve, reject or home visit."))
    if not isinstance(reason, str) or "\x00" in reason:
        raise field_error("reason", _("The reason contains a control character."))
    reason = reason.strip()
    if decision == D.REJECT and not reason:
        raise field_error("reason", _("A rejection needs a reason: the resident is told why."))
    if len(reason) > MAX_REASON:
        raise field_error("reason", _("The reason may have at most %(n)d characters.") % {"n": MAX_REASON})
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("village")
            .defer("form_pdf")
            .get(pk=application_id)
        )
        if application.status != S.UNDER_REVIEW:
            raise ConflictError(
                _("Items are decided while the application is under review; it is now “%(status)s”.")
                % {"status": application.get_status_display()},
                {"status": application.status},
            )
        report = latest_report(application_id)
        if report is None:
            raise ConflictError(_("There is no verification report to decide on yet."))
        previous = latest_decisions(application_id).get(item)
        made = ItemDecision.objects.create(
            application=application,
            report=report,
            item=item,
            decision=decision,
            reason=reason,
            decided_by=staff_account(actor),
        )
        audit_record(
            actor=actor,
            action="item.decide",
            subject=application,
            old={"item": item, "decision": previous.decision} if previous else None,
            new={"item": item, "decision": decision, "report": report.pk},
            reason=reason,
            region=application.village,
        )
    return made


def application_decide_complete(*, actor: Actor, application_id: int) -> Application:
    """Close the review: every asked-for or eligible item has a final decision (approve or reject).

    A home visit is not final: the item stays open until someone approves or rejects it.
    """
    from applications.services.transitions import application_transition

    application_for_staff(actor=actor, application_id=application_id)
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",)).defer("form_pdf").get(pk=application_id)
        )
        if application.status != S.UNDER_REVIEW:
            raise ConflictError(
                _("Items are decided while the application is under review; it is now “%(status)s”.")
                % {"status": application.get_status_display()},
                {"status": application.status},
            )
        report = latest_report(application_id)
        decisions = latest_decisions(application_id)
        if report is None or not any(d.decision in FINAL for d in decisions.values()):
            raise ApplicationError(_("Decide at least one item first."))
        open_items = [
            i
            for i in items_to_decide(application, report)
            if decisions.get(i) is None or decisions[i].decision not in FINAL
        ]
        if open_items:
            raise ApplicationError(
                _("These items still need a decision: %(items)s.")
                % {"items": "、".join(ITEM_LABELS.get(i, i) for i in open_items)},
                {"items": open_items},
            )
        decided = application_transition(application_id=application_id, to=S.DECIDED, actor=actor)
        # Layers above (referrals) open the one-thing case in this same transaction (design.md:
        # a function registered at start-up, never a signal). The payload is what they need, so
        # they neither call back into eligibility nor re-read the locked application.
        hooks.call(
            "application_decided",
            decided=DecidedApplication(
                application=decided,
                approved_items=tuple(_approved(decisions)),
                report_results=tuple(report.results),
                item_decisions=decisions,
            ),
            actor=actor,
        )
        return decided
