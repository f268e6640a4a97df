"""seed_demo's cases stage makes its cases through the real services; one run makes every stage."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from applications.models import Application, Authorisation, Household
from assist_center.models import AuditEvent, Region
from benefits.models import BenefitEntry, Enrolment
from eligibility.models import PoolRecord, Standard, VerificationReport
from referrals.models import Case, Notification, Referral, ReferralOutcome

S = Application.Status


@pytest.fixture
def demo_county(db: Any, tmp_path: Path) -> Any:
    with override_settings(VAR_DIR=tmp_path, DEMO_PASSWORD="", DEBUG=True):
        # Given out of order on purpose: the stages still run county first, then the pool.
        call_command("seed_demo", stage=["pool", "county"], households=60, seed=7, stdout=io.StringIO())
        yield


def test_the_cases_stage_makes_every_stage_of_a_case_through_the_services(demo_county: Any) -> None:
    assert PoolRecord.objects.exists()
    out = io.StringIO()
    call_command("seed_demo", stage=["cases"], count=8, stdout=out)
    assert "演示案件已生成" in out.getvalue()

    apps = Application.objects.all()
    assert apps.count() == 8
    assert not apps.exclude(channel="on_behalf").exists()
    statuses = set(apps.values_list("status", flat=True))
    assert S.AWAITING_AUTHORISATION in statuses
    assert S.UNDER_REVIEW in statuses
    assert S.DECIDED in statuses
    assert len(statuses) >= 3
    assert apps.filter(township__name="海游街道", submitted_by__username="assistant_1").exists()

    # Authorised ones have their paper authorisations, archived PDF form and report.
    authorised = apps.exclude(status__in=[S.SUBMITTED, S.AWAITING_AUTHORISATION])
    assert authorised.exists()
    for app in authorised:
        assert app.form_pdf is not None and bytes(app.form_pdf).startswith(b"%PDF-")
        assert app.form_sha256
        assert VerificationReport.objects.filter(application=app).exists()
    assert Authorisation.objects.filter(method=Authorisation.Method.PAPER).exists()

    open_referrals = Referral.objects.filter(status__in=Referral.OPEN_STATUSES)
    assert open_referrals.exists()
    assert Case.objects.filter(status=Case.Status.OPEN).exists()
    closed = Case.objects.filter(status=Case.Status.CLOSED)
    assert closed.exists()
    for case in closed:
        assert case.working_days_to_close is not None and case.working_days_to_close >= 1
    assert ReferralOutcome.objects.exists()
    # The sweep, not the seeder, gave the colours: each coloured referral was notified.
    for referral in open_referrals.exclude(colour="none"):
        assert Notification.objects.filter(referral=referral, colour=referral.colour).exists()
    # Moved into the past, so that some are late: the first open case is made red.
    assert open_referrals.filter(start_date__lt=timezone.localdate(), colour="red").exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "application.submitted",
        "authorisation.signed",
        "application.form_generated",
        "verification.run",
        "item.decide",
        "case.open",
        "referral.complete",
        "case.close",
    } <= actions

    # --if-empty: the second run adds nothing.
    before = (Application.objects.count(), Case.objects.count(), AuditEvent.objects.count())
    out = io.StringIO()
    call_command("seed_demo", "--if-empty", stage=["cases"], count=8, stdout=out)
    assert (Application.objects.count(), Case.objects.count(), AuditEvent.objects.count()) == before
    assert out.getvalue().strip()


def test_refuses_to_run_without_debug(db: Any) -> None:
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stage=["cases"], count=1, stdout=io.StringIO())
    assert not Application.objects.exists()


def test_needs_a_seeded_county(db: Any) -> None:
    with override_settings(DEBUG=True), pytest.raises(CommandError, match="seed_demo --stage county"):
        call_command("seed_demo", stage=["cases"], count=1, stdout=io.StringIO())


def _counts() -> tuple[int, ...]:
    return (
        Region.objects.count(),
        Household.objects.count(),
        PoolRecord.objects.count(),
        Standard.objects.count(),
        Application.objects.count(),
        Case.objects.count(),
        Referral.objects.count(),
        Enrolment.objects.count(),
        BenefitEntry.objects.count(),
        AuditEvent.objects.count(),
    )


def test_one_run_makes_every_stage_and_a_second_with_if_empty_adds_nothing(db: Any, tmp_path: Path) -> None:
    with override_settings(VAR_DIR=tmp_path, DEMO_PASSWORD="", DEBUG=True):
        out = io.StringIO()
        call_command("seed_demo", "--if-empty", households=60, seed=7, count=8, stdout=out)
        text = out.getvalue()
        assert "演示县数据已就绪" in text or "Demo county ready" in text
        assert "演示数据池已就绪" in text or "Demo pool ready" in text
        assert "演示案件已生成" in text
        assert Household.objects.count() == 60
        assert PoolRecord.objects.exists() and Standard.objects.exists()
        assert Application.objects.count() == 8 and Case.objects.exists()
        assert "演示在册名单已生成" in text
        assert Enrolment.objects.exists() and BenefitEntry.objects.exists()

        before = _counts()
        again = io.StringIO()
        call_command("seed_demo", "--if-empty", households=60, seed=7, count=8, stdout=again)
        assert _counts() == before
        assert "演示案件未生成" in again.getvalue()
        assert "演示在册名单未生成" in again.getvalue()
