"""A household with a year of ledger, its card, and the resident's way in (phone + SMS code)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.test import Client

from applications.models import Household, Person
from assist_center.models import Region, SmsMessage
from assist_center.sms import backends
from assist_center.sms.services import sms_deliver
from benefits.models import BenefitEntry, Enrolment
from benefits.services.enrolments import enrolment_start
from benefits.services.ledger import benefit_record, ledger_write_month
from eligibility.models import Standard
from happiness_list.models import HappinessCard
from happiness_list.services.cards import card_ensure

from .. import factories as f

HEAD_PHONE = "13800138001"
SPOUSE_PHONE = "13800138002"
OTHER_PHONE = "13900139009"  # the other household's head
UNKNOWN_PHONE = "13700137007"
YEAR = 2026
TODAY = dt.date(YEAR, 11, 18)


@dataclass
class Seeded:
    household: Household
    head: Person
    other: Household
    card: HappinessCard
    other_card: HappinessCard
    enrolment: Enrolment


def deliver_sms() -> None:
    for sms_id in SmsMessage.objects.filter(status=SmsMessage.Status.PENDING).values_list("pk", flat=True):
        sms_deliver(sms_id=sms_id)


def last_code(phone: str) -> str | None:
    deliver_sms()
    e164 = "+86" + phone
    codes = [m.params["code"] for m in backends.outbox if m.template == "otp" and m.to == e164]
    return codes[-1] if codes else None


def seed(village: Region, other_village: Region, *, civil: Any, assistant: Any) -> Seeded:
    """Household A: head + spouse; 低保 1150/month Jan-Oct (ledger), a one-off temporary relief of
    2000, an organisation's rice in kind and its 300-yuan school kit; last year's December too.
    Household B (another village): its own dibao entry."""
    county = village.township.parent
    Standard.objects.get_or_create(
        item="dibao",
        region=county,
        version=1,
        defaults={
            "effective_from": dt.date(2025, 1, 1),
            "params": {
                "amount_per_person_month": "1150.00",
                "asset_limit_per_person": "34500.00",
                "vehicle_limit": 0,
                "house_limit": 1,
                "business_limit": 0,
            },
        },
    )
    h = Household.objects.create(village=village, township=village.township, address="幸福路8号")
    head = f.person(
        h, name="王大明", phone="+86" + HEAD_PHONE, relation=Person.Relation.HEAD, birth=dt.date(1960, 1, 2)
    )
    f.person(
        h,
        name="李小花",
        phone="+86" + SPOUSE_PHONE,
        relation=Person.Relation.SPOUSE,
        birth=dt.date(1962, 3, 4),
    )
    other = Household.objects.create(
        village=other_village, township=other_village.township, address="沙柳路3号"
    )
    f.person(other, name="赵其他", phone="+86" + OTHER_PHONE, relation=Person.Relation.HEAD)
    enrolment = enrolment_start(
        actor=assistant,
        household_id=h.pk,
        item="dibao",
        since=dt.date(2025, 12, 1),
        source=Enrolment.Source.EXISTING_RECIPIENT,
        department_id=civil.pk,
        monthly_amount=Decimal("1150.00"),
        standard_version=1,
        source_ref="test",
    )
    ledger_write_month(month=dt.date(2025, 12, 1))
    for month in range(1, 11):
        ledger_write_month(month=dt.date(YEAR, month, 1))
    benefit_record(
        actor=None,
        household_id=h.pk,
        source=BenefitEntry.Source.REFERRAL_OUTCOME,
        source_key="outcome:test-temp",
        period=dt.date(YEAR, 3, 10),
        item="temporary",
        provider_code="civil_affairs",
        provider_name="民政局",
        amount=Decimal("2000.00"),
        paid_on=dt.date(YEAR, 3, 12),
    )
    benefit_record(
        actor=None,
        household_id=h.pk,
        source=BenefitEntry.Source.CHARITY_COMPLETION,
        source_key="charity:test-rice",
        period=dt.date(YEAR, 5, 1),
        provider_name="三门县爱心公益协会",
        in_kind="大米 50 斤",
    )
    benefit_record(
        actor=None,
        household_id=h.pk,
        source=BenefitEntry.Source.CHARITY_COMPLETION,
        source_key="charity:test-kit",
        period=dt.date(YEAR, 9, 1),
        provider_name="海游商会",
        in_kind="学习用品一套",
        amount=Decimal("300.00"),
    )
    benefit_record(
        actor=None,
        household_id=other.pk,
        source=BenefitEntry.Source.REFERRAL_OUTCOME,
        source_key="outcome:test-other",
        period=dt.date(YEAR, 4, 1),
        item="dibao",
        provider_name="民政局",
        amount=Decimal("777.77"),
    )
    return Seeded(
        household=h,
        head=head,
        other=other,
        card=card_ensure(household_id=h.pk),
        other_card=card_ensure(household_id=other.pk),
        enrolment=enrolment,
    )


# 10 months of 1150 + 2000 + 300 (the kit's value) this year.
YEAR_TOTAL = "13800.00"
DIBAO_TOTAL = "11500.00"


def page(token: str) -> str:
    return f"/happiness/{token}/"


def open_list(client: Client, token: str, phone: str = HEAD_PHONE) -> Any:
    """Step 1 and step 2 through the page's forms; returns the response of the verify POST."""
    r = client.post(page(token), {"action": "send", "phone": phone})
    assert r.status_code == 200, r.content
    code = last_code(phone) or "000000"
    return client.post(page(token), {"action": "verify", "otp": code})
