"""Monthly receipt checks: a random share of last month's paid entries, one SMS each, yes or no back.

The one-card subsidy scandals were cadres skimming what recipients never knew they were owed; a
household asked "did 1150 yuan of 低保 arrive?" finds out. A "no" opens a township task like a
resident's "有问题?" (EntryProblem, source receipt_check). Once-only: the month's ReceiptSampleRun
row is inserted first, so a second beat, a retry or a redelivered task samples nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import ApplicationMember, Household, Person
from assist_center.audit import RESIDENT, audit_record
from assist_center.errors import ConflictError, field_error
from assist_center.sms.services import sms_queue
from benefits.models import BenefitEntry
from eligibility.rules import ITEM_LABELS

from ..models import EntryProblem, ListFlag, ReceiptCheck, ReceiptSampleRun
from .list_problems import entry_problem_report

__all__ = ["DEFAULT_SHARE", "receipt_answer", "receipt_check_get", "receipt_sample_month", "receipt_url"]

DEFAULT_SHARE = Decimal("0.02")


def sample_share() -> Decimal:
    share = Decimal(str(getattr(settings, "HAPPINESS_RECEIPT_SAMPLE_SHARE", DEFAULT_SHARE)))
    return min(max(share, Decimal("0")), Decimal("1"))


def receipt_url(token: str) -> str:
    # Under /happiness/<token>/ so that the log filter (assist_center.redaction) hides the token.
    return f"{settings.SITE_URL}/happiness/{token}/receipt/"


def _previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _household_phone(household_id: int) -> str | None:
    """A phone on record for the household: the head's (or another member's), else an applicant's."""
    people = [
        p
        for p in Person.objects.filter(
            household_id=household_id, registry_status=Person.RegistryStatus.REGISTERED
        ).exclude(phone_hash="")
    ]
    people.sort(key=lambda p: (p.relation != Person.Relation.HEAD, p.pk))
    if people and people[0].phone:
        return str(people[0].phone)
    member = (
        ApplicationMember.objects.filter(
            application__household_id=household_id, role=ApplicationMember.Role.APPLICANT
        )
        .exclude(phone_hash="")
        .order_by("-application__created_at")
        .first()
    )
    return str(member.phone) if member is not None and member.phone else None


def receipt_sample_month(*, today: dt.date | None = None, share: Decimal | None = None) -> int:
    """Sample last month's paid money entries and text each household once; return how many."""
    today = today or timezone.localdate()
    month = _previous_month(today)
    share = sample_share() if share is None else share
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = ReceiptSampleRun.objects.create(month=month, share=share)
        except IntegrityError:
            return 0  # this month's sample was drawn already (another beat, a retry)
        candidates = BenefitEntry.objects.filter(period=month, amount__gt=0).exclude(
            pk__in=ReceiptCheck.objects.values("entry_id")
        )
        total = candidates.count()
        n = (
            int((Decimal(total) * share).to_integral_value(rounding="ROUND_CEILING"))
            if total and share
            else 0
        )
        chosen = list(candidates.order_by("?")[:n]) if n else []
        townships = dict(
            Household.objects.filter(pk__in={e.household_id for e in chosen}).values_list("pk", "township_id")
        )
        sent = 0
        for entry in chosen:
            phone = _household_phone(entry.household_id)
            if phone is None or entry.household_id not in townships:
                continue
            check = ReceiptCheck.objects.create(
                entry_id=entry.pk,
                household_id=entry.household_id,
                township_id=townships[entry.household_id],
                sample_month=month,
                token=secrets.token_urlsafe(16),
            )
            sms_queue(
                to=phone,
                template="receipt_check",
                params={
                    "month": f"{entry.period.year}年{entry.period.month}月",
                    "item": ITEM_LABELS.get(entry.item, entry.provider_name or "帮扶"),
                    "amount": f"{entry.amount:.2f}",
                    "url": receipt_url(check.token),
                },
                idempotency_key=f"receipt-check:{check.pk}",
            )
            sent += 1
        run.sampled = sent
        run.save(update_fields=["sampled"])
        audit_record(
            actor=None,
            action="happiness.receipt_sample",
            subject=run,
            new={"month": f"{month:%Y-%m}", "share": share, "candidates": total, "sampled": sent},
        )
    return sent


def receipt_check_get(*, token: Any) -> ReceiptCheck:
    if not isinstance(token, str) or not 16 <= len(token) <= 64:
        raise Http404
    check = ReceiptCheck.objects.filter(token=token).first()
    if check is None:
        raise Http404
    return check


def receipt_answer(*, check_id: int, answer: Any, household_id: int | None = None) -> ReceiptCheck:
    """Record "yes" or "no" once; a "no" opens a township task. With `household_id`, only its own."""
    if answer not in (ReceiptCheck.Answer.YES, ReceiptCheck.Answer.NO):
        raise field_error("answer", _("Choose whether the amount arrived."))
    qs = ReceiptCheck.objects.filter(pk=check_id)
    if household_id is not None:
        qs = qs.filter(household_id=household_id)
    check = qs.first()
    if check is None:
        raise Http404
    with transaction.atomic():
        done = ReceiptCheck.objects.filter(pk=check.pk, answer=ReceiptCheck.Answer.PENDING).update(
            answer=answer, answered_at=timezone.now()
        )
        if not done:
            raise ConflictError(_("This question has already been answered. Thank you."))
        audit_record(
            actor=RESIDENT,
            action="happiness.receipt_answer",
            subject=check,
            new={"answer": answer},
        )
        if answer == ReceiptCheck.Answer.NO:
            entry_problem_report(
                household_id=check.household_id,
                entry_id=check.entry_id,
                kind=EntryProblem.Kind.NOT_RECEIVED,
                note="",
                source=EntryProblem.Source.RECEIPT_CHECK,
            )
            _flag_receipt_no(check)
    check.refresh_from_db()
    return check


def _flag_receipt_no(check: ReceiptCheck) -> None:
    """The township's worklist gets a flag beside the task: a paid amount the household never saw."""
    from .flags import entry_evidence, flag_raise

    entry = BenefitEntry.objects.filter(pk=check.entry_id).first()
    item = entry.item if entry is not None else ""
    amount = f"{entry.amount:.2f} 元" if entry is not None and entry.amount is not None else ""
    flag_raise(
        household_id=check.household_id,
        kind=ListFlag.Kind.RECEIPT,
        reason=ListFlag.Reason.RECEIPT_NO,
        item=item,
        period=entry.period if entry is not None else check.sample_month,
        key=f"receipt:{check.pk}",
        evidence=[
            {
                "type": "receipt_check",
                "id": check.pk,
                "label": f"{check.sample_month:%Y-%m} {ITEM_LABELS.get(item, item)} {amount} 没收到".strip(),
            },
            *([entry_evidence(entry)] if entry is not None else []),
        ],
    )


def pending_checks_of(household_id: int) -> list[ReceiptCheck]:
    return list(
        ReceiptCheck.objects.filter(household_id=household_id, answer=ReceiptCheck.Answer.PENDING).order_by(
            "-sample_month", "id"
        )
    )


__all__ += ["pending_checks_of", "sample_share"]
