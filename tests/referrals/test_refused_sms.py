"""Every applicant hears the outcome: refused on every item, the household is texted and its need kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from applications.models import Application, ApplicationMember
from assist_center.models import AuditEvent, SmsMessage
from assist_center.sms.services import sms_deliver
from eligibility.services.decisions import decided_application
from happiness_list.models import HappinessCard
from happiness_list.services.cards import card_url
from referrals.models import Case, OutsidePolicyNeed
from referrals.services.cases import on_application_decided
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


def _refused(county_map: Any, personas: Any, **kw: Any) -> Application:
    app: Application = ApplicationFactory.create(
        decided=True,
        village=county_map.village_a1,
        needs=["dibao", "medical"],
        approve=[],
        need_note="屋顶漏雨，需要修缮",
        consent_publish=True,
        assistant=personas.assistant_a,
        decided_by=personas.assistant_a,
        reject_reason="家庭收入超过低保标准",
        **kw,
    )
    return app


def test_a_decision_refusing_every_item_texts_the_applicant_once_and_keeps_the_need(
    county_map: Any, personas: Any, sms_file: Path
) -> None:
    app = _refused(county_map, personas)
    assert app.status == Application.Status.DECIDED
    assert not Case.objects.filter(application=app).exists()
    # Earlier SMS of the intake (signature invitations) are not the outcome's.
    (sms,) = SmsMessage.objects.filter(template="application_refused")
    applicant = ApplicationMember.objects.get(application=app, role=ApplicationMember.Role.APPLICANT)
    assert (sms.template, sms.to, sms.idempotency_key) == (
        "application_refused",
        applicant.phone,
        f"application-refused:{app.pk}",
    )
    household_id = Application.objects.get(pk=app.pk).household_id
    assert household_id is not None
    assert sms.params == {
        "receipt": app.receipt_code,
        "url": card_url(
            HappinessCard.objects.get(household_id=Application.objects.get(pk=app.pk).household_id).token
        ),
    }
    need = OutsidePolicyNeed.objects.get(application=app)
    assert (need.case, need.township, need.text, need.publish_consent, need.share_consent) == (
        None,
        county_map.town_a,
        "屋顶漏雨，需要修缮",
        True,
        False,
    )
    event = AuditEvent.objects.get(action="application.refused_heard", subject_id=str(app.pk))
    assert event.new_values == {"sms": sms.pk, "outside_need": need.pk}
    # The text as the provider sends it: the receipt and the link, nothing of the refusal or family.
    sms_deliver(sms_id=sms.pk)
    (line,) = [json.loads(x) for x in sms_file.read_text().splitlines()]
    assert line["template"] == "application_refused"
    text = line["text"]
    assert app.receipt_code in text and sms.params["url"] in text and app.family_token not in text
    others = ApplicationMember.objects.filter(application=app).exclude(pk=applicant.pk)
    for m in [applicant, *others]:
        assert m.name not in text and m.id_number not in text
    assert "收入" not in text and "最低生活保障" not in text and "医疗救助" not in text


def test_the_hook_run_again_sends_and_keeps_nothing_more(county_map: Any, personas: Any) -> None:
    app = _refused(county_map, personas)
    on_application_decided(decided=decided_application(app), actor=personas.assistant_a)
    assert SmsMessage.objects.filter(template="application_refused").count() == 1
    assert OutsidePolicyNeed.objects.filter(application=app).count() == 1


def test_an_approved_application_gets_no_refusal_sms_and_its_need_stays_on_the_case(
    county_map: Any, personas: Any
) -> None:
    app = ApplicationFactory.create(
        decided=True,
        village=county_map.village_a1,
        needs=["dibao"],
        approve=["dibao"],
        need_note="屋顶漏雨",
        assistant=personas.assistant_a,
        decided_by=personas.assistant_a,
    )
    assert not SmsMessage.objects.filter(template="application_refused").exists()
    case = Case.objects.get(application=app)
    need = OutsidePolicyNeed.objects.get(case=case)
    assert need.application_id == app.pk


def test_a_refused_application_without_a_need_note_is_still_texted(county_map: Any, personas: Any) -> None:
    app = _refused(county_map, personas)
    OutsidePolicyNeed.objects.all().delete()
    SmsMessage.objects.all().delete()
    Application.objects.filter(pk=app.pk).update(need_note="")
    app.refresh_from_db()
    on_application_decided(decided=decided_application(app), actor=personas.assistant_a)
    assert SmsMessage.objects.filter(template="application_refused").count() == 1
    assert not OutsidePolicyNeed.objects.exists()
