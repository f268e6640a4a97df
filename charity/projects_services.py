"""Writes of 公益创投 projects: application, tranche plan, decisions, reports, releases.

Every move goes through `_move` (one table of allowed moves, a row lock, a 409 for the loser,
update_fields, the audit event), like applications/services/transitions.py. The centre's acts
also leave a ProjectDecision, which the project's public page lists.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from assist_center.actors import Actor, account_of
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, ConflictError, field_error
from assist_center.inputs import clean_text
from assist_center.models import Region
from assist_center.scopes import is_county_wide

from .funds_services import clean_amount, fund_entry_record, is_member_of
from .models import FundEntry, Organisation, Project, ProjectCall, ProjectDecision, ProjectReport, Tranche

S = Project.Status
D = ProjectDecision.Kind
# The payer named on a tranche's ledger receipt: the centre's venture-philanthropy fund.
VENTURE_FUND_DONOR = "县联合帮扶中心公益创投资金"

# (from, to) -> decision kind written for the move (None: the organisation's own act).
MOVES: dict[tuple[str, str], str | None] = {
    (S.DRAFT, S.SUBMITTED): None,
    (S.SUBMITTED, S.APPROVED): D.APPROVE,
    (S.SUBMITTED, S.REJECTED): D.REJECT,
    (S.APPROVED, S.IN_PROGRESS): D.START,
    (S.IN_PROGRESS, S.COMPLETED): D.COMPLETE,
    (S.IN_PROGRESS, S.TERMINATED): D.TERMINATE,
    (S.APPROVED, S.TERMINATED): D.TERMINATE,
}
NEEDS_NOTE = {S.REJECTED, S.TERMINATED}


def _require_member(actor: Actor, organisation: Organisation) -> None:
    if not (is_county_wide(actor) or is_member_of(actor, organisation)):
        raise PermissionDenied


def _require_centre(actor: Actor) -> None:
    # The centre's decisions are the coordinator's (issue 11: "the centre's decisions").
    if not is_county_wide(actor):
        raise PermissionDenied


def _clean_count(field: str, value: Any) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise field_error(field, "请输入整数人数。") from None
    if n < 0 or n > 1_000_000:
        raise field_error(field, "人数须在 0 到 1000000 之间。")
    return n


def _decide(project: Project, *, actor: Actor, kind: str, note: str, now: dt.datetime) -> None:
    ProjectDecision.objects.create(
        project=project, kind=kind, note=note, decided_by=account_of(actor), decided_at=now
    )


def project_create(
    *,
    actor: Actor,
    organisation: Organisation,
    call: ProjectCall,
    title: str,
    summary: str,
    budget_total: Any,
    beneficiaries_planned: Any = 0,
    township: Region | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> Project:
    """An organisation's draft application to a call."""
    _require_member(actor, organisation)
    if township is not None and township.level != Region.Level.TOWNSHIP:
        raise field_error("township", "请选择乡镇（街道）。")
    if starts_on and ends_on and ends_on < starts_on:
        raise field_error("ends_on", "结束日期不能早于开始日期。")
    now = timezone.now()
    with transaction.atomic():
        project = Project.objects.create(
            call=call,
            organisation=organisation,
            title=clean_text("title", title, required=True, max_length=120),
            summary=clean_text("summary", summary, required=True, max_length=2000),
            budget_total=clean_amount(budget_total),
            beneficiaries_planned=_clean_count("beneficiaries_planned", beneficiaries_planned),
            township=township,
            starts_on=starts_on,
            ends_on=ends_on,
            updated_at=now,
        )
        audit_record(
            actor=actor,
            action="charity.project.create",
            subject=project,
            new={"organisation": organisation.pk, "call": call.pk, "budget_total": project.budget_total},
            region=township,
        )
    return project


def tranche_plan_set(
    *, actor: Actor, project: Project, tranches: Sequence[tuple[Any, dt.date]]
) -> list[Tranche]:
    """Replace the draft's tranche plan: (amount, report due date) per tranche, in order.

    The organisation plans while drafting; the coordinator may adjust before approval. Once
    approved the plan is fixed (a released tranche is money paid).
    """
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.status == S.DRAFT:
            _require_member(actor, locked.organisation)
        elif locked.status == S.SUBMITTED:
            _require_centre(actor)
        else:
            raise ConflictError("项目已立项，拨付计划不能再改。")
        if not tranches:
            raise field_error("tranches", "至少需要一期拨付。")
        amounts = [clean_amount(a) for a, _due in tranches]
        if sum(amounts, Decimal(0)) > locked.budget_total:
            raise field_error("tranches", "各期金额之和超过项目预算。")
        dues = [due for _a, due in tranches]
        if any(later < earlier for earlier, later in itertools.pairwise(dues)):
            raise field_error("tranches", "各期报告期限须按先后排列。")
        Tranche.objects.filter(project=locked).delete()
        made = Tranche.objects.bulk_create(
            Tranche(project=locked, number=i, amount=amount, report_due_on=due)
            for i, (amount, due) in enumerate(zip(amounts, dues, strict=True), start=1)
        )
        locked.updated_at = timezone.now()
        locked.save(update_fields=["updated_at"])
        audit_record(
            actor=actor,
            action="charity.project.tranche_plan",
            subject=locked,
            new={"tranches": [[str(a), d.isoformat()] for a, d in zip(amounts, dues, strict=True)]},
            region=locked.township,
        )
    return made


def project_move(*, actor: Actor, project: Project, to: str, note: str = "") -> Project:
    """Move a project along MOVES: the organisation submits, the coordinator decides the rest."""
    text = clean_text("note", note, required=to in NEEDS_NOTE, max_length=500)
    with transaction.atomic():
        locked = (
            Project.objects.select_for_update(of=("self",))
            .select_related("call", "organisation")
            .get(pk=project.pk)
        )
        key = (locked.status, to)
        if key not in MOVES:
            if any(frm == locked.status for frm, _to in MOVES) or to not in S.values:
                raise ConflictError(
                    f"项目当前为“{locked.get_status_display()}”，不能进行此操作，请刷新后查看。",
                    {"status": locked.status},
                )
            raise ConflictError(f"项目已“{locked.get_status_display()}”，不能再变更。")
        decision = MOVES[key]
        if decision is None:
            _require_member(actor, locked.organisation)
        else:
            _require_centre(actor)
        today = timezone.localdate()
        if to == S.SUBMITTED and not (locked.call.opens_on <= today <= locked.call.closes_on):
            raise ApplicationError(
                f"本批公益创投不在申报期内（{locked.call.opens_on:%Y-%m-%d} 至 "
                f"{locked.call.closes_on:%Y-%m-%d}）。"
            )
        if to == S.APPROVED:
            planned = sum((t.amount for t in locked.tranches.all()), Decimal(0))
            if planned != locked.budget_total:
                raise ApplicationError("立项前，各期拨付金额之和须等于项目预算。")
        now = timezone.now()
        old = locked.status
        locked.status = to
        locked.updated_at = now
        fields = ["status", "updated_at"]
        if to in (S.COMPLETED, S.TERMINATED):
            locked.ended_on = today
            fields.append("ended_on")
        locked.save(update_fields=fields)
        if decision is not None:
            _decide(locked, actor=actor, kind=decision, note=text, now=now)
        audit_record(
            actor=actor,
            action=f"charity.project.{to}",
            subject=locked,
            old={"status": old},
            new={"status": to},
            reason=text,
            region=locked.township,
        )
    return locked


def project_report_submit(
    *, actor: Actor, project: Project, tranche: Tranche, text: str, beneficiaries_reached: Any
) -> ProjectReport:
    """The organisation's report on a tranche's work; the centre then approves or returns it."""
    _require_member(actor, project.organisation)
    body = clean_text("text", text, required=True, max_length=5000)
    reached = _clean_count("beneficiaries_reached", beneficiaries_reached)
    with transaction.atomic():
        locked = Project.objects.select_for_update(of=("self",)).get(pk=project.pk)
        if locked.status not in (S.APPROVED, S.IN_PROGRESS):
            raise ConflictError("只有已立项、实施中的项目可以提交报告。")
        if tranche.project_id != locked.pk:
            raise field_error("tranche", "该期不属于此项目。")
        if tranche.reports.filter(
            status__in=(ProjectReport.Status.SUBMITTED, ProjectReport.Status.APPROVED)
        ).exists():
            raise ConflictError("这一期已有待审或已通过的报告。")
        now = timezone.now()
        report = ProjectReport.objects.create(
            project=locked,
            tranche=tranche,
            text=body,
            beneficiaries_reached=reached,
            submitted_by=account_of(actor),
            submitted_at=now,
        )
        locked.updated_at = now
        locked.save(update_fields=["updated_at"])
        audit_record(
            actor=actor,
            action="charity.project.report_submit",
            subject=report,
            new={"project": locked.pk, "tranche": tranche.number, "beneficiaries_reached": reached},
            region=locked.township,
        )
    return report


def project_report_review(
    *, actor: Actor, report: ProjectReport, approve: bool, note: str = ""
) -> ProjectReport:
    """The coordinator approves a submitted report (it unlocks its tranche) or returns it with a reason."""
    _require_centre(actor)
    text = clean_text("note", note, required=not approve, max_length=500)
    with transaction.atomic():
        locked = (
            ProjectReport.objects.select_for_update(of=("self",))
            .select_related("project", "tranche")
            .get(pk=report.pk)
        )
        if locked.status != ProjectReport.Status.SUBMITTED:
            raise ConflictError(f"该报告已“{locked.get_status_display()}”，请刷新后查看。")
        now = timezone.now()
        locked.status = ProjectReport.Status.APPROVED if approve else ProjectReport.Status.RETURNED
        locked.reviewed_by = account_of(actor)
        locked.reviewed_at = now
        locked.review_note = text
        locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
        project = Project.objects.select_for_update(of=("self",)).get(pk=locked.project_id)
        fields = ["updated_at"]
        if approve and locked.beneficiaries_reached > project.beneficiaries_reached:
            project.beneficiaries_reached = locked.beneficiaries_reached
            fields.append("beneficiaries_reached")
        project.updated_at = now
        project.save(update_fields=fields)
        _decide(
            project,
            actor=actor,
            kind=D.APPROVE_REPORT if approve else D.RETURN_REPORT,
            note=text or f"第{locked.tranche.number}期报告",
            now=now,
        )
        audit_record(
            actor=actor,
            action="charity.project.report_" + ("approve" if approve else "return"),
            subject=locked,
            new={"status": locked.status},
            reason=text,
            region=project.township,
        )
    return locked


def overdue_report_tranches(project: Project, *, today: dt.date) -> list[Tranche]:
    """Pending tranches whose report was due before today and is not approved: each blocks releases."""
    return [
        t
        for t in project.tranches.filter(status=Tranche.Status.PENDING, report_due_on__lt=today).order_by(
            "number"
        )
        if not t.reports.filter(status=ProjectReport.Status.APPROVED).exists()
    ]


def tranche_release(*, actor: Actor, tranche: Tranche, note: str = "") -> Tranche:
    """Release a tranche: only with its report approved and no report of the project overdue.

    The money paid is appended to the ledger as the project's receipt from the venture fund.
    """
    _require_centre(actor)
    text = clean_text("note", note, required=False, max_length=500)
    with transaction.atomic():
        project = (
            Project.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .get(pk=tranche.project_id)
        )
        locked = Tranche.objects.select_for_update().get(pk=tranche.pk)
        if locked.status != Tranche.Status.PENDING:
            raise ConflictError(f"第{locked.number}期已拨付。")
        if project.status not in (S.APPROVED, S.IN_PROGRESS):
            raise ConflictError(f"项目当前为“{project.get_status_display()}”，不能拨付。")
        if not locked.reports.filter(status=ProjectReport.Status.APPROVED).exists():
            raise ApplicationError(f"第{locked.number}期的报告尚未审核通过，不能拨付。")
        today = timezone.localdate()
        blocking = [t for t in overdue_report_tranches(project, today=today) if t.pk != locked.pk]
        if blocking:
            raise ApplicationError(
                "第{n}期报告已逾期未通过，拨付暂停。".format(n="、".join(str(t.number) for t in blocking)),
                {"overdue_tranches": [t.number for t in blocking]},
            )
        now = timezone.now()
        locked.status = Tranche.Status.RELEASED
        locked.released_at = now
        locked.released_by = account_of(actor)
        locked.save(update_fields=["status", "released_at", "released_by"])
        project.updated_at = now
        project.save(update_fields=["updated_at"])
        _decide(
            project,
            actor=actor,
            kind=D.RELEASE,
            note=text or f"第{locked.number}期 {locked.amount} 元",
            now=now,
        )
        fund_entry_record(
            actor=actor,
            organisation=project.organisation,
            project=project,
            kind=FundEntry.Kind.RECEIPT,
            amount=locked.amount,
            occurred_on=today,
            donor_name=VENTURE_FUND_DONOR,
            donor_consents_to_name=True,
            purpose=f"公益创投第{locked.number}期拨付",
        )
        audit_record(
            actor=actor,
            action="charity.tranche.release",
            subject=locked,
            new={"project": project.pk, "number": locked.number, "amount": locked.amount},
            reason=text,
            region=project.township,
        )
    return locked


def project_beneficiaries_set(*, actor: Actor, project: Project, reached: Any) -> Project:
    """The coordinator's correction of the beneficiaries reached (reports normally set it)."""
    _require_centre(actor)
    n = _clean_count("beneficiaries_reached", reached)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        old = locked.beneficiaries_reached
        locked.beneficiaries_reached = n
        locked.updated_at = timezone.now()
        locked.save(update_fields=["beneficiaries_reached", "updated_at"])
        audit_record(
            actor=actor,
            action="charity.project.beneficiaries",
            subject=locked,
            old={"beneficiaries_reached": old},
            new={"beneficiaries_reached": n},
            region=locked.township,
        )
    return locked
