"""Claims: exactly one wins; progress and completion with evidence; the resident's answer; confirmation.

The race (security.md): the claim is a conditional UPDATE of the need (WHERE status='published')
whose row count decides the winner, backed by the partial unique index claim_one_open_per_need.
Nothing checks and then inserts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from applications.models import Person
from assist_center.actors import Actor, AuditActor, staff_account
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, ConflictError, field_error
from assist_center.inputs import clean_text
from assist_center.permissions import may_handle_claims
from assist_center.phones import InvalidPhone
from assist_center.sms.services import sms_queue
from assist_center.workdays import add_working_days, working_days_between
from benefits.models import BenefitEntry
from benefits.services.ledger import benefit_record

from ..access import organisation_of_user
from ..evidence import clean_photo
from ..models import Claim, ClaimUpdate, EvidencePhoto, Need, Organisation
from .needs import board_changed_on_commit

logger = logging.getLogger(__name__)

CLAIMED_MESSAGE = "该需求已被认领，请选择其他需求。"
RELAPSE_DAYS = 30
RESIDENT_ANSWER_DAYS = 5
DETAILS_HIDE_DAYS = 30
# (contact, delivery) deadlines in working days per category; settings.CHARITY_DEADLINES overrides.
DEFAULT_DEADLINES: dict[str, tuple[int, int]] = {
    "industry": (5, 30),
    "education": (3, 20),
    "medical_escort": (2, 10),
    "daily_care": (2, 10),
    "comfort": (3, 15),
    "donation": (3, 10),
    "housing": (5, 40),
    "employment": (5, 30),
    "other": (3, 15),
}


def deadlines_for(category: str) -> tuple[int, int]:
    table = {**DEFAULT_DEADLINES, **getattr(settings, "CHARITY_DEADLINES", {})}
    return table.get(category, DEFAULT_DEADLINES["other"])


def max_open_claims() -> int:
    return int(getattr(settings, "CHARITY_MAX_OPEN_CLAIMS", 10))


def _member_org(actor: Actor) -> Organisation:
    org = organisation_of_user(actor)
    if org is None:
        raise PermissionDenied
    return org


def need_claim(*, actor: Actor, public_id: str) -> Claim:
    """Claim a published need for the actor's organisation: 201 for one, ConflictError for the rest."""
    org = _member_org(actor)
    now = timezone.now()
    today = timezone.localdate(now)
    refusal = org.claim_refusal(today)
    if refusal:
        raise ApplicationError(refusal, status=403)
    need = Need.objects.filter(public_id=public_id, status__in=[*Need.Status.values]).first()
    if need is None or need.status in (Need.Status.DRAFT, Need.Status.WITHDRAWN):
        raise Http404
    if need.visibility == Need.Visibility.VETTED_ONLY and org.claim_refusal(today):
        raise Http404
    if Claim.objects.filter(
        need=need,
        organisation=org,
        status=Claim.Status.RELEASED,
        ended_at__gte=now - dt.timedelta(days=RELAPSE_DAYS),
    ).exists():
        raise ApplicationError("贵组织的认领已超时释放，30天内不能再次认领该需求。", status=403)
    contact_days, delivery_days = deadlines_for(need.category)
    with transaction.atomic():
        # Serialises one organisation's claims so that the cap holds under concurrency.
        locked_org = Organisation.objects.select_for_update().get(pk=org.pk)
        if (
            Claim.objects.filter(organisation=locked_org, status__in=Claim.OPEN_STATUSES).count()
            >= max_open_claims()
        ):
            raise ConflictError(
                f"贵组织未完成的认领已达上限（{max_open_claims()}件），请先完成已认领的需求。"
            )
        won = Need.objects.filter(pk=need.pk, status=Need.Status.PUBLISHED).update(
            status=Need.Status.CLAIMED, priority=False
        )
        if won != 1:
            raise ConflictError(CLAIMED_MESSAGE)
        try:
            with transaction.atomic():
                claim = Claim.objects.create(
                    need=need,
                    organisation=locked_org,
                    claimed_by=staff_account(actor),
                    claimed_at=now,
                    contact_due=add_working_days(today, contact_days),
                    delivery_due=add_working_days(today, delivery_days),
                )
        except IntegrityError:
            raise ConflictError(CLAIMED_MESSAGE) from None
        audit_record(
            actor=actor,
            action="claim.create",
            subject=claim,
            new={"need": need.public_id, "organisation": locked_org.name},
            region=need.township,
        )
        board_changed_on_commit()
    return claim


def _locked_claim(claim_id: int, statuses: Sequence[str]) -> Claim:
    claim = (
        Claim.objects.select_for_update(of=("self",)).select_related("need", "organisation").get(pk=claim_id)
    )
    if claim.status not in statuses:
        raise ConflictError(f"该认领当前为“{claim.get_status_display()}”，不能进行此操作。")
    return claim


def _reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise field_error("reason", "请填写原因。")
    return clean_text("reason", reason, required=True, max_length=500)


def _centre_claim(actor: Actor, claim_id: int) -> None:
    """The centre's actions: a claim outside the actor's township is a 404, a role without the right 403."""
    from ..selectors import claim_visible_to_staff_or_404

    claim_visible_to_staff_or_404(actor, claim_id)
    if not may_handle_claims(actor):
        raise PermissionDenied


def _own_claim(actor: Actor, claim_id: int) -> Claim:
    org = _member_org(actor)
    if not Claim.objects.filter(pk=claim_id, organisation=org).exists():
        raise Http404
    return Claim.objects.get(pk=claim_id)


def claim_mark_contacted(*, actor: Actor, claim_id: int) -> Claim:
    _own_claim(actor, claim_id)
    with transaction.atomic():
        claim = _locked_claim(claim_id, (Claim.Status.ACTIVE,))
        claim.status = Claim.Status.CONTACTED
        claim.contacted_at = timezone.now()
        claim.save(update_fields=["status", "contacted_at"])
        audit_record(actor=actor, action="claim.contacted", subject=claim, region=claim.need.township)
    return claim


def _save_photos(update: ClaimUpdate, photos: Sequence[bytes]) -> None:
    for raw in photos:
        clean = clean_photo(raw)
        EvidencePhoto.objects.create(
            update=update,
            image=clean.data,
            sha256=clean.sha256,
            original_sha256=clean.original_sha256,
            width=clean.width,
            height=clean.height,
        )


MAX_PHOTOS = 6


def claim_add_progress(
    *, actor: Actor, claim_id: int, text: str, photos: Sequence[bytes] = ()
) -> ClaimUpdate:
    _own_claim(actor, claim_id)
    text = clean_text("text", text, required=True, max_length=2000)
    if len(photos) > MAX_PHOTOS:
        raise field_error("photos", f"每次最多上传{MAX_PHOTOS}张照片。")
    with transaction.atomic():
        claim = _locked_claim(claim_id, (Claim.Status.ACTIVE, Claim.Status.CONTACTED))
        update = ClaimUpdate.objects.create(
            claim=claim, kind=ClaimUpdate.Kind.PROGRESS, text=text, author=staff_account(actor)
        )
        _save_photos(update, photos)
        audit_record(actor=actor, action="claim.progress", subject=claim, region=claim.need.township)
    return update


def resident_phone(need: Need) -> str:
    """The household's contact phone (the head's first), or blank."""
    # The phone is an encrypted field: no database lookup on it, pick in Python.
    people = [p for p in Person.objects.filter(household_id=need.household_id).order_by("id") if p.phone]
    best = sorted(people, key=lambda p: p.relation != Person.Relation.HEAD)
    return best[0].phone if best else ""


def claim_report_completion(
    *,
    actor: Actor,
    claim_id: int,
    text: str,
    in_kind: str,
    value: Decimal | None = None,
    photos: Sequence[bytes] = (),
) -> Claim:
    """Report the need done, with evidence; the resident is asked (SMS link) whether it arrived."""
    _own_claim(actor, claim_id)
    text = clean_text("text", text, required=True, max_length=2000)
    in_kind = clean_text("in_kind", in_kind, required=value is None, max_length=200)
    if value is not None and (value < 0 or value > Decimal("99999999")):
        raise field_error("value", "金额超出范围。")
    if len(photos) > MAX_PHOTOS:
        raise field_error("photos", f"每次最多上传{MAX_PHOTOS}张照片。")
    with transaction.atomic():
        claim = _locked_claim(claim_id, (Claim.Status.ACTIVE, Claim.Status.CONTACTED))
        update = ClaimUpdate.objects.create(
            claim=claim, kind=ClaimUpdate.Kind.COMPLETION, text=text, author=staff_account(actor)
        )
        _save_photos(update, photos)
        now = timezone.now()
        claim.status = Claim.Status.REPORTED
        claim.reported_at = now
        claim.in_kind = in_kind
        claim.value = value
        claim.resident_answer = ""
        claim.resident_answer_due = add_working_days(timezone.localdate(now), RESIDENT_ANSWER_DAYS)
        claim.save(
            update_fields=[
                "status",
                "reported_at",
                "in_kind",
                "value",
                "resident_answer",
                "resident_answer_due",
            ]
        )
        audit_record(actor=actor, action="claim.report_completion", subject=claim, region=claim.need.township)
        phone = resident_phone(claim.need)
        if phone:
            try:
                sms_queue(
                    to=phone,
                    template="charity_receipt_check",
                    params={"url": f"{settings.SITE_URL}/charity/r/{claim.resident_token}/"},
                    idempotency_key=f"charity-receipt:{claim.pk}:{update.pk}",
                )
            except InvalidPhone:
                claim.phone_task_open = True
                claim.save(update_fields=["phone_task_open"])
    return claim


def claim_resident_answer(*, actor: AuditActor, token: str, answer: str, by_phone: bool = False) -> Claim:
    """The resident's answer from the SMS link (or the assistant's record of a phone call)."""
    if answer not in Claim.ResidentAnswer.values:
        raise field_error("answer", "请选择：已收到、部分收到或未收到。")
    with transaction.atomic():
        claim = (
            Claim.objects.select_for_update(of=("self",))
            .select_related("need")
            .filter(resident_token=token)
            .first()
        )
        if claim is None:
            raise Http404
        if claim.status != Claim.Status.REPORTED:
            raise ConflictError("该帮扶已确认或已结束，感谢您的反馈。")
        claim.resident_answer = answer
        claim.resident_answered_at = timezone.now()
        claim.phone_task_open = False
        fields = ["resident_answer", "resident_answered_at", "phone_task_open"]
        if answer == Claim.ResidentAnswer.NOT_RECEIVED:
            # Not received opens a dispute instead of a confirmation.
            claim.status = Claim.Status.DISPUTED
            fields.append("status")
        claim.save(update_fields=fields)
        audit_record(
            actor=actor if by_phone else "resident",
            action="claim.resident_answer",
            subject=claim,
            # Not "by_phone": the audit masks every key that names a phone.
            new={"answer": answer, "channel": "phone_call" if by_phone else "sms_link"},
            region=claim.need.township,
        )
    return claim


def claim_record_phone_answer(*, actor: Actor, claim_id: int, answer: str) -> Claim:
    _centre_claim(actor, claim_id)
    return claim_resident_answer(
        actor=actor, token=Claim.objects.get(pk=claim_id).resident_token, answer=answer, by_phone=True
    )


def claim_confirm(*, actor: Actor, claim_id: int) -> Claim:
    """Confirm a completion: claim and need done, one ledger entry and exactly one SMS, atomically."""
    _centre_claim(actor, claim_id)
    with transaction.atomic():
        claim = _locked_claim(claim_id, (Claim.Status.REPORTED,))
        if claim.resident_answer not in (Claim.ResidentAnswer.RECEIVED, Claim.ResidentAnswer.PARTLY):
            raise ConflictError("居民尚未确认收到，请等待居民反馈或电话回访后再确认。")
        now = timezone.now()
        claim.status = Claim.Status.CONFIRMED
        claim.confirmed_at = now
        claim.confirmed_by = staff_account(actor)
        claim.ended_at = now
        claim.save(update_fields=["status", "confirmed_at", "confirmed_by", "ended_at"])
        need = claim.need
        if need.status == Need.Status.CLAIMED:
            Need.objects.filter(pk=need.pk).update(status=Need.Status.COMPLETED)
        in_kind = claim.in_kind or ("" if claim.value is not None else need.get_category_display())
        benefit_record(
            actor=actor,
            household_id=need.household_id,
            source=BenefitEntry.Source.CHARITY_COMPLETION,
            source_key=f"charity-claim:{claim.pk}",
            period=timezone.localdate(now),
            item=need.category,
            provider_code=f"org:{claim.organisation_id}",
            provider_name=claim.organisation.name,
            amount=claim.value,
            in_kind=in_kind,
            paid_on=timezone.localdate(now),
        )
        audit_record(actor=actor, action="claim.confirm", subject=claim, region=need.township)
        phone = resident_phone(need)
        if phone:
            try:
                sms_queue(
                    to=phone,
                    template="charity_help_recorded",
                    params={"org": claim.organisation.name[:40]},
                    idempotency_key=f"charity-confirmed:{claim.pk}",
                )
            except InvalidPhone:
                logger.info("charity confirmation SMS skipped: no mobile", extra={"claim": claim.pk})
        board_changed_on_commit()
    return claim


def claim_return(*, actor: Actor, claim_id: int, reason: str) -> Claim:
    """The assistant returns a completion report to the organisation, with a reason."""
    _centre_claim(actor, claim_id)
    reason = _reason(reason)
    with transaction.atomic():
        claim = _locked_claim(claim_id, (Claim.Status.REPORTED, Claim.Status.DISPUTED))
        claim.status = Claim.Status.CONTACTED
        claim.save(update_fields=["status"])
        ClaimUpdate.objects.create(
            claim=claim, kind=ClaimUpdate.Kind.RETURNED, text=reason, author=staff_account(actor)
        )
        audit_record(
            actor=actor, action="claim.return", subject=claim, reason=reason, region=claim.need.township
        )
    return claim


def claim_cancel(*, actor: Actor, claim_id: int, reason: str, republish: bool = True) -> Claim:
    """The coordinator cancels a claim with a reason; the need goes back on the board."""
    _centre_claim(actor, claim_id)
    reason = _reason(reason)
    with transaction.atomic():
        claim = _locked_claim(claim_id, Claim.OPEN_STATUSES)
        claim.status = Claim.Status.CANCELLED
        claim.ended_at = timezone.now()
        claim.end_reason = reason
        claim.save(update_fields=["status", "ended_at", "end_reason"])
        if republish:
            Need.objects.filter(pk=claim.need_id, status=Need.Status.CLAIMED).update(
                status=Need.Status.PUBLISHED
            )
        audit_record(
            actor=actor, action="claim.cancel", subject=claim, reason=reason, region=claim.need.township
        )
        board_changed_on_commit()
    return claim


def claim_reassign(*, actor: Actor, claim_id: int, organisation_id: int, reason: str) -> Claim:
    """Move an open claim to another vetted organisation (a new claim with fresh deadlines)."""
    _centre_claim(actor, claim_id)
    target = Organisation.objects.filter(pk=organisation_id).first()
    if target is None:
        raise field_error("organisation", "请选择接手的组织。")
    refusal = target.claim_refusal(timezone.localdate())
    if refusal:
        raise field_error("organisation", refusal)
    reason = _reason(reason)
    with transaction.atomic():
        # The target's cap holds for a reassignment as for its own claims (same lock as need_claim).
        locked_target = Organisation.objects.select_for_update().get(pk=target.pk)
        if Claim.objects.filter(pk=claim_id, organisation=locked_target).exists():
            raise field_error("organisation", "该认领已属于这个组织，请选择其他组织。")
        if (
            Claim.objects.filter(organisation=locked_target, status__in=Claim.OPEN_STATUSES).count()
            >= max_open_claims()
        ):
            raise field_error("organisation", f"该组织未完成的认领已达上限（{max_open_claims()}件）。")
        member = target.members.order_by("pk").first()
        if member is None:
            raise field_error("organisation", "该组织没有成员账号。")
        old = claim_cancel(actor=actor, claim_id=claim_id, reason=reason, republish=False)
        need = old.need
        now = timezone.now()
        today = timezone.localdate(now)
        contact_days, delivery_days = deadlines_for(need.category)
        claim = Claim.objects.create(
            need=need,
            organisation=target,
            claimed_by=member,
            claimed_at=now,
            contact_due=add_working_days(today, contact_days),
            delivery_due=add_working_days(today, delivery_days),
        )
        audit_record(
            actor=actor,
            action="claim.reassign",
            subject=claim,
            new={"from": old.organisation.name, "to": target.name},
            reason=reason,
            region=need.township,
        )
    return claim


# --- the sweep: reminders and releases -------------------------------------------------------------


@dataclass
class SweepResult:
    released: int = 0
    reminded: int = 0
    phone_tasks: int = 0


def _org_sms(org: Organisation, template: str, params: dict[str, str], key: str) -> None:
    if not org.contact_phone:
        return
    try:
        sms_queue(to=org.contact_phone, template=template, params=params, idempotency_key=key)
    except (InvalidPhone, ValueError):
        logger.info("charity organisation SMS skipped", extra={"organisation": org.pk, "template": template})


def claim_sweep(*, today: dt.date | None = None) -> SweepResult:
    """Release claims past a deadline (back on the board, at the top, 优先), remind at half-time and
    the day before, open phone tasks for unanswered residents.

    Once-only and safe with two beats: every change is a conditional UPDATE whose row count says
    whether this run made it, and the SMS and audit rows carry unique keys.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    result = SweepResult()
    lapsed = list(
        Claim.objects.filter(status=Claim.Status.ACTIVE, contact_due__lt=today).values_list("pk", "status")
    ) + list(
        Claim.objects.filter(
            status__in=(Claim.Status.ACTIVE, Claim.Status.CONTACTED), delivery_due__lt=today
        ).values_list("pk", "status")
    )
    for pk, old_status in dict(lapsed).items():
        with transaction.atomic():
            if not Claim.objects.filter(pk=pk, status=old_status).update(
                status=Claim.Status.RELEASED, ended_at=now, end_reason="超过期限未完成，已自动释放"
            ):
                continue  # another beat (or the organisation) got there first
            claim = Claim.objects.select_related("need", "organisation").get(pk=pk)
            Need.objects.filter(pk=claim.need_id, status=Need.Status.CLAIMED).update(
                status=Need.Status.PUBLISHED, priority=True
            )
            audit_record(
                actor=None,
                action="claim.release",
                subject=claim,
                reason="deadline passed",
                region=claim.need.township,
                idempotency_key=f"claim-release:{pk}",
            )
            _org_sms(
                claim.organisation,
                "charity_claim_released",
                {"need": claim.need.public_id},
                f"charity-released:{pk}",
            )
            board_changed_on_commit()
            result.released += 1
    for claim in Claim.objects.filter(
        status__in=(Claim.Status.ACTIVE, Claim.Status.CONTACTED)
    ).select_related("need", "organisation"):
        start = timezone.localdate(claim.claimed_at)
        total = working_days_between(start, claim.delivery_due)
        half = add_working_days(start, total // 2)
        if (
            claim.reminded_half_at is None
            and today >= half
            and total >= 2
            and Claim.objects.filter(pk=claim.pk, reminded_half_at__isnull=True).update(reminded_half_at=now)
        ):
            _org_sms(
                claim.organisation,
                "charity_claim_reminder",
                {"need": claim.need.public_id, "date": claim.delivery_due.isoformat()},
                f"charity-remind-half:{claim.pk}",
            )
            result.reminded += 1
        if (
            claim.reminded_last_at is None
            and working_days_between(today, claim.delivery_due) <= 1
            and Claim.objects.filter(pk=claim.pk, reminded_last_at__isnull=True).update(reminded_last_at=now)
        ):
            _org_sms(
                claim.organisation,
                "charity_claim_reminder",
                {"need": claim.need.public_id, "date": claim.delivery_due.isoformat()},
                f"charity-remind-last:{claim.pk}",
            )
            result.reminded += 1
    result.phone_tasks = Claim.objects.filter(
        status=Claim.Status.REPORTED,
        resident_answer="",
        resident_answer_due__lt=today,
        phone_task_open=False,
    ).update(phone_task_open=True)
    return result
