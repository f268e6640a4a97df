"""Writes of social-worker training: sessions, attendance (by code or by staff), certificates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from applications.services.otp import LimitUnavailable, RateLimited, limit_hit
from assist_center.actors import Actor, AuditActor, account_of
from assist_center.audit import RESIDENT, audit_record
from assist_center.errors import ApplicationError, ConflictError, field_error
from assist_center.inputs import clean_text
from assist_center.models import Region
from assist_center.pdf import local_time, render_pdf
from assist_center.phones import normalise_mobile
from assist_center.pii import mask_name, phone_index
from assist_center.scopes import is_county_wide

from .funds_services import is_member_of
from .models import Attendance, Organisation, Trainee, TrainingSession
from .training_codes import code_is_valid

# Attendees sign in from half an hour before the start to half an hour after the end.
SIGN_IN_MARGIN = dt.timedelta(minutes=30)
# Wrong codes per IP and per session in 10 minutes: a 6-digit code must not be guessed by trying.
CODE_TRIES_PER_IP = 20
CODE_TRIES_PER_SESSION = 300
TEN_MINUTES = 600


def may_run_session(user: Any, session: TrainingSession) -> bool:
    """The coordinator runs every session; an organisation's members run their own organisation's."""
    if is_county_wide(user):
        return True
    return session.organisation is not None and is_member_of(user, session.organisation)


def _clean_hours(value: Any) -> Decimal:
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise field_error("hours", "请输入学时，例如 2 或 3.5。") from None
    if not hours.is_finite() or hours <= 0 or hours > 24 or hours != hours.quantize(Decimal("0.1")):
        raise field_error("hours", "学时须在 0.1 到 24 之间，最多一位小数。")
    return hours


def training_session_create(
    *,
    actor: Actor,
    title: str,
    trainer: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    hours: Any,
    organisation: Organisation | None = None,
    township: Region | None = None,
    location: str = "",
) -> TrainingSession:
    """A session run by the centre (no organisation) or by an organisation's members."""
    if not (is_county_wide(actor) or (organisation is not None and is_member_of(actor, organisation))):
        raise PermissionDenied
    if ends_at <= starts_at:
        raise field_error("ends_at", "结束时间须晚于开始时间。")
    if township is not None and township.level != Region.Level.TOWNSHIP:
        raise field_error("township", "请选择乡镇（街道）。")
    with transaction.atomic():
        session = TrainingSession.objects.create(
            title=clean_text("title", title, required=True, max_length=120),
            trainer=clean_text("trainer", trainer, required=True, max_length=60),
            location=clean_text("location", location, required=False, max_length=120),
            organisation=organisation,
            township=township,
            starts_at=starts_at,
            ends_at=ends_at,
            hours=_clean_hours(hours),
            created_by=account_of(actor),
        )
        audit_record(
            actor=actor,
            action="charity.training.create",
            subject=session,
            new={"title": session.title, "hours": session.hours, "organisation": session.organisation_id},
            region=township,
        )
    return session


def _trainee(*, name: str, phone: str, organisation: Organisation | None) -> Trainee:
    """The one Trainee of this mobile number: a person is counted once, however many sessions."""
    try:
        e164 = normalise_mobile(phone)
    except ValidationError:
        raise field_error("phone", "请输入正确的手机号码。") from None
    index = phone_index(e164)
    trainee, _created = Trainee.objects.get_or_create(
        phone_hash=index, defaults={"name": name, "phone": e164, "organisation": organisation}
    )
    return trainee


def _certificate_number(session: TrainingSession, trainee: Trainee) -> str:
    return f"PX{timezone.localtime(session.starts_at):%Y%m}-{session.pk:04d}-{trainee.pk:05d}"


def _attend(
    *, actor: AuditActor, session: TrainingSession, trainee: Trainee, hours: Decimal, method: str
) -> Attendance:
    try:
        with transaction.atomic():
            attendance = Attendance.objects.create(
                session=session,
                trainee=trainee,
                hours=hours,
                method=method,
                certificate_number=_certificate_number(session, trainee),
            )
    except IntegrityError:
        raise ConflictError("您已签到过本次培训，无需重复签到。") from None
    audit_record(
        actor=actor,
        action=f"charity.training.attend_{method}",
        subject=attendance,
        new={"session": session.pk, "trainee": trainee.pk, "hours": hours},
        region=session.township,
    )
    return attendance


def _limit(name: str, ident: str, limit: int) -> None:
    try:
        limit_hit(name, ident, limit=limit, period=TEN_MINUTES)
    except RateLimited:
        raise ApplicationError("尝试次数过多，请稍后再试。", status=429) from None
    except LimitUnavailable:
        # Fail closed: without the counter a 6-digit code could be guessed at leisure.
        raise ApplicationError("系统繁忙，请稍后再试。", status=503) from None


def attendance_by_code(
    *,
    session: TrainingSession,
    name: str,
    phone: str,
    code: str,
    ip: str | None,
    now: dt.datetime | None = None,
) -> Attendance:
    """An attendee signs in with the code the trainer shows; the session's hours are credited."""
    now = now or timezone.now()
    person = clean_text("name", name, required=True, max_length=50)
    typed = clean_text("code", code, required=True, max_length=12)
    if not (session.starts_at - SIGN_IN_MARGIN <= now <= session.ends_at + SIGN_IN_MARGIN):
        raise ApplicationError("不在本次培训的签到时间内。")
    _limit("training-code-ip", ip or "unknown", CODE_TRIES_PER_IP)
    _limit("training-code-session", str(session.pk), CODE_TRIES_PER_SESSION)
    if not code_is_valid(session.code_secret, typed, now):
        raise field_error("code", "签到码不正确或已过期，请看讲师屏幕上的最新签到码。")
    with transaction.atomic():
        trainee = _trainee(name=person, phone=phone, organisation=None)
        return _attend(actor=RESIDENT, session=session, trainee=trainee, hours=session.hours, method="code")


def attendance_record(
    *,
    actor: Actor,
    session: TrainingSession,
    name: str,
    phone: str,
    hours: Any = None,
    organisation: Organisation | None = None,
) -> Attendance:
    """Staff or the organiser record an attendance by hand (a trainee without a phone at hand)."""
    if not may_run_session(actor, session):
        raise PermissionDenied
    person = clean_text("name", name, required=True, max_length=50)
    credited = session.hours if hours in (None, "") else _clean_hours(hours)
    if credited > session.hours:
        raise field_error("hours", "学时不能超过本次培训的学时。")
    with transaction.atomic():
        trainee = _trainee(name=person, phone=phone, organisation=organisation)
        return _attend(actor=actor, session=session, trainee=trainee, hours=credited, method="manual")


def certificate_pdf(attendance: Attendance) -> bytes:
    """The attendance certificate (培训证明) as PDF: name, session, date, hours, number."""
    session = attendance.session
    html = render_to_string(
        "charity/training/certificate.html",
        {
            "name": attendance.trainee.name,
            "masked": mask_name(attendance.trainee.name),
            "session": session,
            "organiser": session.organisation.name if session.organisation is not None else "县联合帮扶中心",
            "date": timezone.localtime(session.starts_at).date(),
            "hours": attendance.hours,
            "number": attendance.certificate_number,
            "issued": local_time(attendance.recorded_at),
        },
    )
    return render_pdf(html)
