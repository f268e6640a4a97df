"""Completion → the resident's answer from the SMS link → the assistant's confirmation → one entry in
the household's benefits ledger and exactly one SMS, in one transaction; not received opens a dispute."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from assist_center.models import AuditEvent, SmsMessage
from benefits.models import BenefitEntry
from charity.models import Claim, ClaimUpdate, Need
from charity.services import claims as claim_services
from charity.services.claims import claim_resident_answer, need_claim

from .helpers import org_with_member, visible_need

PHONE = "13800138066"


def _reported(personas: Any, county_map: Any, login: Any, **completion: Any) -> tuple[Claim, Any]:
    org, member = org_with_member()
    need = visible_need(personas.coordinator, county_map.village_a1, phone=PHONE)
    claim = need_claim(actor=member, public_id=need.public_id)
    data = {"action": "complete", "text": "轮椅已送到家中", "in_kind": "轮椅一台", "value": "", **completion}
    r = login(member).post(f"/charity/portal/claims/{claim.pk}/", data)
    assert r.status_code == 302
    claim.refresh_from_db()
    return claim, org


def _sms(template: str) -> list[SmsMessage]:
    return list(SmsMessage.objects.filter(template=template))


@pytest.mark.django_db
def test_completion_answer_and_confirmation_record_one_ledger_entry_and_queue_one_sms(
    personas: Any, county_map: Any, login: Any
) -> None:
    claim, org = _reported(personas, county_map, login, value="860.50")
    assert claim.status == Claim.Status.REPORTED
    # The resident is asked from an SMS link; the text carries no personal data, only the link.
    (ask,) = _sms("charity_receipt_check")
    assert ask.to == f"+86{PHONE}"
    link = f"/charity/r/{claim.resident_token}/"
    assert ask.params == {"url": f"{settings.SITE_URL}{link}"}

    resident = Client()
    page = resident.get(link).content.decode()
    assert "物资捐赠" in page and "已收到" in page and "未收到" in page
    assert PHONE not in page and claim.need.household.address not in page
    r = resident.post(link, {"answer": "bogus"})
    assert "请选择" in r.content.decode()
    assert resident.post(link, {"answer": "received"}).status_code == 200
    claim.refresh_from_db()
    assert claim.resident_answer == Claim.ResidentAnswer.RECEIVED
    assert AuditEvent.objects.get(action="claim.resident_answer", subject_id=str(claim.pk)).actor_label

    sms_before = SmsMessage.objects.count()
    assistant = login(personas.assistant_a)
    r = assistant.post(f"/charity/staff/claims/{claim.pk}/", {"action": "confirm"})
    assert r.status_code == 302
    claim.refresh_from_db()
    assert claim.status == Claim.Status.CONFIRMED and claim.confirmed_by == personas.assistant_a
    assert Need.objects.get(pk=claim.need_id).status == Need.Status.COMPLETED

    (entry,) = BenefitEntry.objects.filter(household_id=claim.need.household_id)
    assert entry.source == BenefitEntry.Source.CHARITY_COMPLETION
    assert entry.source_key == f"charity-claim:{claim.pk}"
    assert (entry.item, entry.provider_name, entry.amount, entry.in_kind) == (
        "donation",
        org.name,
        Decimal("860.50"),
        "轮椅一台",
    )
    assert claim.confirmed_at is not None and entry.paid_on == timezone.localdate(claim.confirmed_at)
    assert SmsMessage.objects.count() == sms_before + 1
    (told,) = _sms("charity_help_recorded")
    assert told.to == f"+86{PHONE}" and told.params == {"org": org.name}
    assert AuditEvent.objects.filter(action="claim.confirm", subject_id=str(claim.pk)).count() == 1

    # Confirming again changes nothing: one entry, one SMS.
    r = assistant.post(f"/charity/staff/claims/{claim.pk}/", {"action": "confirm"})
    assert r.status_code == 400 and "已确认完成" in r.content.decode()
    assert BenefitEntry.objects.filter(household_id=claim.need.household_id).count() == 1
    assert len(_sms("charity_help_recorded")) == 1
    # The resident's link now only thanks.
    assert "已确认或已结束" in resident.post(link, {"answer": "not_received"}).content.decode()
    assert Claim.objects.get(pk=claim.pk).resident_answer == Claim.ResidentAnswer.RECEIVED
    # The need keeps its URL and shows it is done.
    r = Client().get(f"/charity/needs/{claim.need.public_id}/")
    assert r.status_code == 200 and "已完成" in r.content.decode()


@pytest.mark.django_db
def test_no_confirmation_before_the_residents_answer_and_partly_received_is_confirmable(
    personas: Any, county_map: Any, login: Any
) -> None:
    claim, _org = _reported(personas, county_map, login)
    assistant = login(personas.assistant_a)
    r = assistant.post(f"/charity/staff/claims/{claim.pk}/", {"action": "confirm"})
    assert r.status_code == 400 and "居民尚未确认收到" in r.content.decode()
    assert not BenefitEntry.objects.exists() and not _sms("charity_help_recorded")

    claim_resident_answer(actor=None, token=claim.resident_token, answer="partly")
    assert assistant.post(f"/charity/staff/claims/{claim.pk}/", {"action": "confirm"}).status_code == 302
    (entry,) = BenefitEntry.objects.all()
    assert entry.amount is None and entry.in_kind == "轮椅一台"
    assert len(_sms("charity_help_recorded")) == 1


@pytest.mark.django_db
def test_not_received_opens_a_dispute_that_the_assistant_returns_with_a_reason(
    personas: Any, county_map: Any, login: Any
) -> None:
    claim, _org = _reported(personas, county_map, login)
    Client().post(f"/charity/r/{claim.resident_token}/", {"answer": "not_received"})
    claim.refresh_from_db()
    assert claim.status == Claim.Status.DISPUTED
    assistant = login(personas.assistant_a)
    url = f"/charity/staff/claims/{claim.pk}/"
    r = assistant.post(url, {"action": "confirm"})
    assert r.status_code == 400 and "有争议" in r.content.decode()
    r = assistant.post(url, {"action": "return", "reason": ""})
    assert r.status_code == 400 and "请填写原因" in r.content.decode()
    r = assistant.post(url, {"action": "return", "reason": "居民说轮椅尚未送到，请核实"})
    assert r.status_code == 302
    claim.refresh_from_db()
    assert claim.status == Claim.Status.CONTACTED
    returned = ClaimUpdate.objects.get(claim=claim, kind=ClaimUpdate.Kind.RETURNED)
    assert returned.text == "居民说轮椅尚未送到，请核实"
    assert not BenefitEntry.objects.exists() and not _sms("charity_help_recorded")
    # The organisation sees the reason and can report again.
    member = claim.organisation.members.get()
    page = login(member).get(f"/charity/portal/claims/{claim.pk}/").content.decode()
    assert "居民说轮椅尚未送到，请核实" in page and "报告完成" in page


@pytest.mark.django_db
def test_confirmation_is_one_transaction_a_failing_ledger_write_leaves_no_sms_and_no_change(
    personas: Any, county_map: Any, login: Any, monkeypatch: Any
) -> None:
    claim, _org = _reported(personas, county_map, login)
    claim_resident_answer(actor=None, token=claim.resident_token, answer="received")

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(claim_services, "benefit_record", broken)
    with pytest.raises(RuntimeError):
        claim_services.claim_confirm(actor=personas.assistant_a, claim_id=claim.pk)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.REPORTED and claim.confirmed_at is None
    assert Need.objects.get(pk=claim.need_id).status == Need.Status.CLAIMED
    assert not _sms("charity_help_recorded")
    assert not AuditEvent.objects.filter(action="claim.confirm").exists()


@pytest.mark.django_db(transaction=True)
def test_two_assistants_confirming_at_once_record_one_entry_and_one_sms(
    personas: Any, county_map: Any, login: Any
) -> None:
    claim, _org = _reported(personas, county_map, login)
    claim_resident_answer(actor=None, token=claim.resident_token, answer="received")
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    lock = threading.Lock()

    def press(user: Any) -> None:
        try:
            c = Client()
            c.force_login(user)
            barrier.wait(timeout=30)
            status = c.post(f"/charity/staff/claims/{claim.pk}/", {"action": "confirm"}).status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    users = (personas.assistant_a, personas.coordinator)
    threads = [threading.Thread(target=press, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [302, 400], statuses
    assert BenefitEntry.objects.filter(source_key=f"charity-claim:{claim.pk}").count() == 1
    assert len(_sms("charity_help_recorded")) == 1
