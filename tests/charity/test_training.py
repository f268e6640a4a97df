"""Training: rotating attendance code, distinct people vs person-hours, certificates, scoping."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from charity.models import Attendance, Organisation, Trainee, TrainingSession
from charity.stats_selectors import public_stats
from charity.training_codes import WINDOW_SECONDS, code_at, code_is_valid
from charity.training_services import attendance_by_code, attendance_record, training_session_create

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 12, 9, 0, tzinfo=dt.UTC)


def _session(
    personas: Any, *, start: dt.datetime = START, hours: str = "3", org: bool = True
) -> TrainingSession:
    organisation = Organisation.objects.get(members=personas.org_member_1) if org else None
    return training_session_create(
        actor=personas.coordinator,
        title="社会工作实务培训",
        trainer="陈老师",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        hours=hours,
        organisation=organisation,
    )


def test_the_code_rotates_and_the_previous_window_still_counts() -> None:
    secret = "ab" * 20
    now = START + dt.timedelta(seconds=30)
    code = code_at(secret, now)
    assert len(code) == 6 and code.isdigit()
    assert code_is_valid(secret, code, now + dt.timedelta(seconds=WINDOW_SECONDS))
    assert not code_is_valid(secret, code, now + dt.timedelta(seconds=2 * WINDOW_SECONDS + 1))
    assert code_at(secret, now + dt.timedelta(seconds=WINDOW_SECONDS)) != code


def test_an_attendee_signs_in_with_the_trainers_code_and_gets_a_certificate(personas: Any) -> None:
    session = _session(personas)
    client = Client()
    with time_machine.travel(START + dt.timedelta(minutes=5), tick=False):
        code = code_at(session.code_secret, timezone.now())
        wrong = client.post(
            f"/charity/training/{session.public_id}/attend/",
            {"name": "刘芳", "phone": "13800138000", "code": "000000" if code != "000000" else "111111"},
        )
        assert wrong.status_code == 400 and "签到码不正确" in wrong.content.decode()
        ok = client.post(
            f"/charity/training/{session.public_id}/attend/",
            {"name": "刘芳", "phone": "13800138000", "code": code},
        )
        assert ok.status_code == 200 and "签到成功" in ok.content.decode()
        attendance = Attendance.objects.get()
        # The session's idle timeout runs on the travelled clock: download while still there.
        pdf = client.get(f"/charity/training/certificates/{attendance.certificate_number}/")
    assert attendance.hours == Decimal("3.0") and attendance.method == "code"
    # The page masks the name and never echoes the phone.
    assert "13800138000" not in ok.content.decode() and "刘*" in ok.content.decode()
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # Another browser cannot fetch it by number.
    assert Client().get(f"/charity/training/certificates/{attendance.certificate_number}/").status_code == 404


def test_signing_in_twice_is_refused_and_outside_the_session_time_too(personas: Any) -> None:
    session = _session(personas)
    when = START + dt.timedelta(minutes=10)
    code = code_at(session.code_secret, when)
    attendance_by_code(session=session, name="刘芳", phone="13800138000", code=code, ip="1.2.3.4", now=when)
    from assist_center.errors import ApplicationError, ConflictError

    with pytest.raises(ConflictError):
        attendance_by_code(
            session=session, name="刘芳", phone="138 0013 8000", code=code, ip="1.2.3.4", now=when
        )
    late = START + dt.timedelta(hours=5)
    with pytest.raises(ApplicationError, match="签到时间"):
        attendance_by_code(
            session=session,
            name="王五",
            phone="13900139000",
            code=code_at(session.code_secret, late),
            ip="1.2.3.4",
            now=late,
        )


def test_social_workers_trained_counts_people_and_person_hours_count_attendances(personas: Any) -> None:
    first = _session(personas, hours="3")
    second = _session(personas, start=START + dt.timedelta(days=7), hours="2.5")
    third = _session(personas, start=START.replace(year=2025), hours="4")
    for s in (first, second):
        attendance_record(actor=personas.coordinator, session=s, name="刘芳", phone="13800138000")
    attendance_record(actor=personas.coordinator, session=first, name="赵强", phone="13900139000")
    attendance_record(actor=personas.coordinator, session=third, name="刘芳", phone="13800138000")
    assert Trainee.objects.count() == 2
    stats = public_stats()
    by_year = {r.year: r for r in stats.years}
    assert by_year[2026].trained == 2 and by_year[2026].person_hours == Decimal("8.5")
    assert by_year[2025].trained == 1 and by_year[2025].person_hours == Decimal("4.0")
    # Distinct over all years: 2 people, not 2 + 1.
    assert stats.total.trained == 2
    assert stats.total.person_hours == Decimal("12.5")


def test_the_code_screen_is_the_organisers_and_the_coordinators_only(personas: Any, login: Any) -> None:
    session = _session(personas)
    url = f"/charity/training/{session.public_id}/code/"
    assert login(personas.coordinator).get(url).status_code == 200
    page = login(personas.org_member_1).get(url)
    assert page.status_code == 200 and page["Refresh"]
    assert login(personas.org_member_2).get(url).status_code == 404
    assert login(personas.assistant_a).get(url).status_code == 404
    assert Client().get(url).status_code == 302
    attendance = attendance_record(
        actor=personas.org_member_1, session=session, name="刘芳", phone="13800138000"
    )
    cert = f"/charity/training/certificates/{attendance.certificate_number}/"
    assert login(personas.org_member_1).get(cert).status_code == 200
    assert login(personas.org_member_2).get(cert).status_code == 404
    assert login(personas.assistant_a).get(cert).status_code == 404


def test_another_organisation_cannot_record_attendance(personas: Any) -> None:
    from django.core.exceptions import PermissionDenied

    session = _session(personas)
    with pytest.raises(PermissionDenied):
        attendance_record(actor=personas.org_member_2, session=session, name="刘芳", phone="13800138000")
    centre = _session(personas, org=False)
    with pytest.raises(PermissionDenied):
        attendance_record(actor=personas.org_member_1, session=centre, name="刘芳", phone="13800138000")
