"""Writes to the fund ledger: record an entry, correct one. Nothing else writes it.

The table is append-only in the database (migration 0003); these services are the only way in,
and each writes its audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from assist_center.actors import Actor, account_of
from assist_center.audit import audit_record
from assist_center.errors import ConflictError, field_error
from assist_center.inputs import clean_text
from assist_center.scopes import is_county_wide

from .models import FundEntry, Organisation, Project

K = FundEntry.Kind
MAX_AMOUNT = Decimal("1000000000")  # one billion yuan: beyond any county project, catches typos
LEFTOVER_PROJECT_STATUSES = (Project.Status.COMPLETED, Project.Status.TERMINATED)


def is_member_of(user: Any, organisation: Organisation) -> bool:
    """An active account that is one of the organisation's members."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return organisation.members.filter(pk=user.pk).exists()


def may_keep_ledger_of(user: Any, organisation: Organisation) -> bool:
    """The coordinator keeps every organisation's ledger; a member keeps their own organisation's."""
    return is_county_wide(user) or is_member_of(user, organisation)


def clean_amount(value: Any, *, allow_zero: bool = False) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except (InvalidOperation, ValueError):
        raise field_error("amount", "请输入金额（元），例如 1000 或 1000.50。") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise field_error("amount", "金额最多两位小数。")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise field_error("amount", "金额必须大于 0。")
    if amount > MAX_AMOUNT:
        raise field_error("amount", "金额过大，请核对。")
    return amount


def _clean_date(field: str, value: Any, *, today: dt.date, future_ok: bool = False) -> dt.date:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise field_error(field, "请输入日期，例如 2026-03-01。") from None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise field_error(field, "请输入日期，例如 2026-03-01。")
    if value.year < 2000:
        raise field_error(field, "日期过早，请核对。")
    if not future_ok and value > today:
        raise field_error(field, "日期不能晚于今天。")
    return value


def _validate(
    *,
    organisation: Organisation,
    kind: str,
    project: Project | None,
    due_on: dt.date | None,
    pledge: FundEntry | None,
    donor_name: str,
) -> None:
    if kind not in K.values:
        raise field_error("kind", "请选择类型：认捐、到账、支出或剩余资金披露。")
    if project is not None and project.organisation_id != organisation.pk:
        raise field_error("project", "该项目不属于此组织。")
    if kind == K.LEFTOVER:
        if project is None:
            raise field_error("project", "剩余资金披露须指明项目。")
        if project.status not in LEFTOVER_PROJECT_STATUSES:
            raise field_error("project", "项目结项或终止后才能披露剩余资金。")
    if due_on is not None and kind != K.PLEDGE:
        raise field_error("due_on", "只有认捐有到账期限。")
    if kind == K.PLEDGE and due_on is None:
        raise field_error("due_on", "认捐须填写承诺到账日期。")
    if pledge is not None:
        if kind != K.RECEIPT:
            raise field_error("pledge", "只有到账可以对应认捐。")
        if pledge.kind != K.PLEDGE or pledge.organisation_id != organisation.pk:
            raise field_error("pledge", "所选认捐不属于此组织。")
        if FundEntry.objects.filter(corrects=pledge).exists():
            raise field_error("pledge", "所选认捐已被更正，请选择更正后的记录。")
    if donor_name and kind not in (K.PLEDGE, K.RECEIPT):
        raise field_error("donor_name", "只有认捐和到账记录捐赠人。")


def _audit_values(entry: FundEntry) -> dict[str, Any]:
    return {
        "public_id": entry.public_id,
        "organisation": entry.organisation_id,
        "project": entry.project_id,
        "kind": entry.kind,
        "amount": entry.amount,
        "occurred_on": entry.occurred_on,
        "due_on": entry.due_on,
        "pledge": entry.pledge_id,
        "donor_named": entry.donor_consents_to_name and bool(entry.donor_name),
        "corrects": entry.corrects_id,
    }


def fund_entry_record(
    *,
    actor: Actor,
    organisation: Organisation,
    kind: str,
    amount: Any,
    occurred_on: Any,
    project: Project | None = None,
    due_on: Any = None,
    pledge: FundEntry | None = None,
    donor_name: str = "",
    donor_consents_to_name: bool = False,
    purpose: str = "",
    corrects: FundEntry | None = None,
    correction_note: str = "",
) -> FundEntry:
    """Append one entry to the ledger (a correction when `corrects` is given, with its note)."""
    if not may_keep_ledger_of(actor, organisation):
        raise PermissionDenied
    today = timezone.localdate()
    value = clean_amount(amount, allow_zero=corrects is not None)
    when = _clean_date("occurred_on", occurred_on, today=today)
    due = None if due_on in (None, "") else _clean_date("due_on", due_on, today=today, future_ok=True)
    donor = clean_text("donor_name", donor_name, required=False, max_length=100)
    text = clean_text("purpose", purpose, required=kind in (K.SPENDING, K.LEFTOVER), max_length=300)
    note = clean_text("correction_note", correction_note, required=corrects is not None, max_length=300)
    if corrects is None and note:
        raise field_error("correction_note", "更正说明只用于更正记录。")
    _validate(
        organisation=organisation, kind=kind, project=project, due_on=due, pledge=pledge, donor_name=donor
    )
    with transaction.atomic():
        if corrects is not None:
            # The lock serialises two corrections of one entry; the one-to-one makes the loser's
            # insert fail anyway, this turns it into a clear 409 instead of an IntegrityError.
            original = FundEntry.objects.select_for_update().get(pk=corrects.pk)
            if original.organisation_id != organisation.pk:
                raise field_error("corrects", "被更正的记录不属于此组织。")
            if original.kind != kind:
                raise field_error("kind", "更正记录的类型须与原记录相同。")
            if FundEntry.objects.filter(corrects=original).exists():
                raise ConflictError("该记录已被更正，请更正最新的那条记录。")
        entry = FundEntry(
            organisation=organisation,
            project=project,
            kind=kind,
            amount=value,
            occurred_on=when,
            due_on=due,
            pledge=pledge,
            donor_name=donor,
            donor_consents_to_name=bool(donor_consents_to_name) and bool(donor),
            purpose=text,
            corrects=corrects,
            correction_note=note,
            created_by=account_of(actor),
        )
        try:
            with transaction.atomic():
                entry.save()
        except IntegrityError:
            raise ConflictError("该记录已被更正，请更正最新的那条记录。") from None
        audit_record(
            actor=actor,
            action="charity.fund_entry.correct" if corrects is not None else "charity.fund_entry.record",
            subject=entry,
            new=_audit_values(entry),
            reason=note,
            region=project.township if project is not None else None,
        )
    return entry


def fund_entry_correct(
    *,
    actor: Actor,
    entry: FundEntry,
    correction_note: str,
    amount: Any = None,
    occurred_on: Any = None,
    project: Project | str | None = "same",
    due_on: Any = "same",
    donor_name: str | None = None,
    donor_consents_to_name: bool | None = None,
    purpose: str | None = None,
) -> FundEntry:
    """A new entry replacing `entry`: its values unless given, and the note saying why."""
    return fund_entry_record(
        actor=actor,
        organisation=entry.organisation,
        kind=entry.kind,
        amount=entry.amount if amount is None else amount,
        occurred_on=entry.occurred_on if occurred_on is None else occurred_on,
        project=entry.project if project == "same" else project,  # type: ignore[arg-type]
        due_on=entry.due_on if due_on == "same" else due_on,
        pledge=entry.pledge,
        donor_name=entry.donor_name if donor_name is None else donor_name,
        donor_consents_to_name=(
            entry.donor_consents_to_name if donor_consents_to_name is None else donor_consents_to_name
        ),
        purpose=entry.purpose if purpose is None else purpose,
        corrects=entry,
        correction_note=correction_note,
    )
