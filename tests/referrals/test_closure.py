"""Closing a case: one transaction, one SMS to the applicant (read from the file backend)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import time_machine

from applications.models import Application, Household
from assist_center.models import SmsMessage
from assist_center.sms.services import sms_deliver
from happiness_list.models import HappinessCard
from happiness_list.services.cards import card_url
from referrals.models import Case
from referrals.services.actions import OutcomeInput, referral_accept, referral_complete

from .builders import APPLICANT_PHONE, decided_application, other_member_id_number
from .test_colours import at

pytestmark = pytest.mark.django_db


def _with_household(app: Application) -> Application:
    """The application's registry household, as every submission links one."""
    household = Household.objects.create(village=app.village, township=app.township, address=app.address)
    Application.objects.filter(pk=app.pk).update(household=household)
    app.refresh_from_db()
    return app


def _list_link(app: Application) -> str:
    """The closure SMS's link: the household's 幸福签 card token (issued by the closure)."""
    return card_url(HappinessCard.objects.get(household_id=app.household_id).token)


def _deliver_all() -> None:
    for sms_id in SmsMessage.objects.filter(status="pending").values_list("pk", flat=True):
        sms_deliver(sms_id=sms_id)


def test_the_last_completion_closes_the_case_and_texts_the_applicant_once(
    county_map: Any, personas: Any, sms_file: Path
) -> None:
    from referrals.services.cases import case_open_from_decisions

    with time_machine.travel(at(dt.date(2026, 9, 29), 10), tick=False):
        app = _with_household(
            decided_application(
                county_map.village_a1, decided_by=personas.assistant_a, items=["dibao", "medical"]
            )
        )
        case = case_open_from_decisions(actor=personas.assistant_a, application_id=app.pk)
    civil = case.referrals.get(department__code="civil_affairs")
    medical = case.referrals.get(department__code="medical_security")
    with time_machine.travel(at(dt.date(2026, 10, 8), 10), tick=False):
        referral_accept(actor=personas.dept_civil, referral_id=civil.pk)
        referral_complete(
            actor=personas.dept_civil,
            referral_id=civil.pk,
            outcomes=[
                OutcomeInput(
                    item="dibao", granted=True, benefit_kind="低保金", amount="650.00", period="monthly"
                )
            ],
        )
        case.refresh_from_db()
        assert case.status == Case.Status.OPEN and not SmsMessage.objects.exists()
        referral_complete(
            actor=personas.dept_medical,
            referral_id=medical.pk,
            outcomes=[OutcomeInput(item="medical", granted=False, reason="已由基本医保全额报销")],
        )
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.closed_at is not None
    # Submitted Tue 29 Sep, closed Thu 8 Oct: 30 Sep and 8 Oct are the working days between.
    assert case.working_days_to_close == 2
    assert Application.objects.get(pk=app.pk).status == Application.Status.DECIDED
    _deliver_all()
    _deliver_all()
    lines = [json.loads(line) for line in sms_file.read_text().splitlines()]
    assert len(lines) == 1
    (sms,) = lines
    assert sms["to"] == APPLICANT_PHONE and sms["template"] == "case_closed_summary"
    final_link = _list_link(app)
    assert final_link in sms["text"] and app.receipt_code in sms["text"]
    assert "最低生活保障" in sms["text"] and "医疗救助" not in sms["text"]
    assert other_member_id_number(app) not in sms["text"] and "650" not in sms["text"]


def test_nothing_granted_uses_the_plain_closure_template(
    county_map: Any, personas: Any, sms_file: Path
) -> None:
    from referrals.services.cases import case_open_from_decisions

    app = _with_household(
        decided_application(county_map.village_a1, decided_by=personas.assistant_a, items=["dibao"])
    )
    case = case_open_from_decisions(actor=personas.assistant_a, application_id=app.pk)
    referral_complete(
        actor=personas.dept_civil,
        referral_id=case.referrals.get().pk,
        outcomes=[OutcomeInput(item="dibao", granted=False, reason="家庭收入超过标准")],
    )
    _deliver_all()
    (sms,) = [json.loads(line) for line in sms_file.read_text().splitlines()]
    assert sms["template"] == "case_closed" and _list_link(app) in sms["text"]


def test_an_applicant_without_a_phone_still_gets_the_case_closed(county_map: Any, personas: Any) -> None:
    from referrals.services.cases import case_open_from_decisions

    app = decided_application(
        county_map.village_a1, decided_by=personas.assistant_a, items=["dibao"], phone=""
    )
    case = case_open_from_decisions(actor=personas.assistant_a, application_id=app.pk)
    referral_complete(
        actor=personas.dept_civil,
        referral_id=case.referrals.get().pk,
        outcomes=[OutcomeInput(item="dibao", granted=True, benefit_kind="低保金")],
    )
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and not SmsMessage.objects.exists()
