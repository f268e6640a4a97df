"""纠错/举报: anyone reports an error or abuse on a public need or project; the centre answers within
5 working days (the deadline is a column the centre's list sorts and flags by)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from applications.services.otp import LimitUnavailable, RateLimited, limit_hit
from assist_center.actors import Actor, account_of
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, ConflictError, field_error
from assist_center.inputs import clean_text
from assist_center.permissions import may_vet_organisations
from assist_center.workdays import add_working_days

from ..models import PublicReport
from ..projects_selectors import public_project
from ..selectors import public_need_or_404

ANSWER_WORKING_DAYS = 5
# Per address: enough for a village meeting sharing one phone's hotspot, not for a flood.
REPORTS_PER_HOUR = 10


def report_due_on(today: dt.date) -> dt.date:
    return add_working_days(today, ANSWER_WORKING_DAYS)


def report_submit(
    *, subject: str, ref: str, kind: str, text: str, contact: str, ip: str | None
) -> PublicReport:
    """Write one report for the centre; the subject must be a public need or project (else 404)."""
    if subject not in PublicReport.Subject.values or len(ref) > 32:
        raise Http404
    if subject == PublicReport.Subject.NEED:
        public_need_or_404(ref)
    elif public_project(ref) is None:
        raise Http404
    if kind not in PublicReport.Kind.values:
        raise field_error("kind", "请选择：信息有误或举报违规。")
    if not isinstance(text, str) or not text.strip():
        raise field_error("text", "请写明情况。")
    text = clean_text("text", text, required=True, max_length=1000)
    contact = clean_text("contact", contact, required=False, max_length=64)
    try:
        limit_hit("charity-report", ip or "unknown", limit=REPORTS_PER_HOUR, period=3600)
    except RateLimited:
        raise ApplicationError("提交太频繁，请一小时后再试，或拨打联合帮扶中心电话。", status=429) from None
    except LimitUnavailable:
        pass  # a report is worth more than the limit: let it through when the cache is down
    with transaction.atomic():
        report = PublicReport.objects.create(
            subject_kind=subject,
            subject_ref=ref,
            kind=kind,
            text=text,
            contact=contact,
            due_on=report_due_on(timezone.localdate()),
        )
        audit_record(
            actor="public", action="charity.report", subject=report, new={"subject": subject, "ref": ref}
        )
    return report


def report_close(*, actor: Actor, report_id: int, answer: str) -> PublicReport:
    """The centre records how it handled a report (the coordinator, who vets the organisations)."""
    if not may_vet_organisations(actor):
        raise PermissionDenied
    if not isinstance(answer, str) or not answer.strip():
        raise field_error("answer", "请填写处理结果。")
    answer = clean_text("answer", answer, required=True, max_length=2000)
    with transaction.atomic():
        report = PublicReport.objects.select_for_update().get(pk=report_id)
        if report.status != PublicReport.Status.OPEN:
            raise ConflictError("该纠错/举报已处理。")
        report.status = PublicReport.Status.CLOSED
        report.answer = answer
        report.handled_by = account_of(actor)
        report.closed_at = timezone.now()
        report.save(update_fields=["status", "answer", "handled_by", "closed_at"])
        audit_record(
            actor=actor,
            action="charity.report_close",
            subject=report,
            old={"status": PublicReport.Status.OPEN},
            new={"status": report.status},
        )
    return report
