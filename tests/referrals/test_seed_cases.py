"""seed_cases fills a seeded demo county with applications and cases made by the real services."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from applications.models import Application, Authorisation
from assist_center.models import AuditEvent
from eligibility.models import VerificationReport
from referrals.models import Case, Notification, Referral, ReferralOutcome

S = Application.Status


@pytest.fixture
def demo_county(db: Any, tmp_path: Path) -> Any:
    with override_settings(VAR_DIR=tmp_path, DEMO_PASSWORD="", DEBUG=True):
        call_command("seed_demo", households=60, seed=7, stdout=io.StringIO())
        call_command("seed_pool", stdout=io.StringIO())
        yield


def test_seed_cases_makes_every_stage_through_the_services(demo_county: Any) -> None:
    out = io.StringIO()
    call_command("seed_cases", count=8, stdout=out)
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
    call_command("seed_cases", "--if-empty", count=8, stdout=out)
    assert (Application.objects.count(), Case.objects.count(), AuditEvent.objects.count()) == before
    assert out.getvalue().strip()


def test_refuses_to_run_without_debug(db: Any) -> None:
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_cases", count=1, stdout=io.StringIO())
    assert not Application.objects.exists()


def test_needs_a_seeded_county(db: Any) -> None:
    with override_settings(DEBUG=True), pytest.raises(CommandError, match="seed_demo"):
        call_command("seed_cases", count=1, stdout=io.StringIO())
