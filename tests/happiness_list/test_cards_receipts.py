"""The 幸福签 card (one household's, a village's batch; reprinting rotates the token) and the monthly
receipt checks (the sample's SMS, a "no" raising the township's task and flag) (issue 12)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from applications.models import HouseholdAccess, Person
from assist_center.models import AuditEvent, SmsMessage
from assist_center.sms.templates import TEMPLATES
from benefits.models import BenefitEntry
from benefits.services.ledger import benefit_record
from happiness_list.models import EntryProblem, HappinessCard, ListFlag, ReceiptCheck
from happiness_list.services.receipts import receipt_answer, receipt_sample_month

from .. import factories as f

pytestmark = pytest.mark.django_db


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_printing_a_households_card_rotates_its_token_and_is_scoped(
    county_map: Any, personas: Any, login: Any
) -> None:
    h = f.household(county_map.village_a1)
    Person.objects.filter(household=h).update(name="王大明")
    other = f.household(county_map.village_b1)
    a = login(personas.assistant_a)
    url = reverse("happiness-card", args=[h.pk])

    first = a.post(url)
    assert first.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    assert first.content.startswith(b"%PDF")
    card = HappinessCard.objects.get(household=h)
    old_token, old_version = card.token, card.version

    second = a.post(url)
    assert second.status_code == 200
    card.refresh_from_db()
    assert card.version == old_version + 1 and card.token != old_token
    assert not HappinessCard.objects.filter(token=old_token).exists()
    assert AuditEvent.objects.filter(action="happiness.card_print").count() == 2
    assert HouseholdAccess.objects.filter(household_id=h.pk, purpose="download").count() == 2

    # Another township's household, a village cadre, a department: no card.
    assert a.post(reverse("happiness-card", args=[other.pk])).status_code == 404
    assert login(personas.cadre_a1).post(url).status_code == 403
    assert login(personas.dept_civil).post(url).status_code in (403, 404)
    assert a.get(url).status_code == 405
    card.refresh_from_db()
    assert card.version == old_version + 1


def test_the_card_shows_the_masked_head_township_and_a_qr_code(county_map: Any) -> None:
    from happiness_list.services.cards import card_url, cards_pdf, cards_print

    h = f.household(county_map.village_a1)
    Person.objects.filter(household=h).update(name="王大明")
    (card,) = cards_print(actor=f.township_assistant(county_map.village_a1), household_ids=[h.pk])
    pdf = cards_pdf([card])
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "王**" in text
    assert "大明" not in text
    assert county_map.town_a.name in text and county_map.village_a1.name in text
    assert card.token not in text  # the token is in the QR code only
    assert card_url(card.token).endswith(f"/happiness/{card.token}/")


def test_a_villages_batch_prints_every_household_and_another_village_is_404(
    county_map: Any, personas: Any, login: Any
) -> None:
    households = [f.household(county_map.village_a1) for _ in range(3)]
    f.household(county_map.village_a2)
    a = login(personas.assistant_a)
    batch = a.post(reverse("happiness-village-cards", args=[county_map.village_a1.pk]))
    assert batch.status_code == 200 and batch.content.startswith(b"%PDF")
    assert HappinessCard.objects.filter(household__in=households).count() == 3
    assert HappinessCard.objects.count() == 3
    logged = HouseholdAccess.objects.filter(purpose="download").values_list("household_id", flat=True)
    assert sorted(logged) == sorted(h.pk for h in households)
    assert a.post(reverse("happiness-village-cards", args=[county_map.village_b1.pk])).status_code == 404
    assert (
        login(personas.cadre_a1)
        .post(reverse("happiness-village-cards", args=[county_map.village_a1.pk]))
        .status_code
        == 403
    )

    page = a.get(reverse("happiness-card-batches")).content.decode()
    assert f'data-village="{county_map.village_a1.pk}"' in page
    assert f'data-village="{county_map.village_b1.pk}"' not in page
    assert login(personas.org_member_1).get(reverse("happiness-card-batches")).status_code in (302, 403)


def test_assisted_opening_at_the_window_is_logged_and_scoped(
    county_map: Any, personas: Any, login: Any
) -> None:
    h = f.household(county_map.village_a1)
    other = f.household(county_map.village_b1)
    a = login(personas.assistant_a)
    r = a.post(reverse("happiness-assisted-open", args=[h.pk]), {"reason": "老人无手机，窗口代查"})
    card = HappinessCard.objects.get(household=h)
    assert r.status_code == 302 and r["Location"] == f"/happiness/{card.token}/"
    assert AuditEvent.objects.filter(action="happiness.assisted_open", reason="老人无手机，窗口代查").exists()
    assert a.post(reverse("happiness-assisted-open", args=[other.pk])).status_code == 404
    assert login(personas.cadre_a1).post(reverse("happiness-assisted-open", args=[h.pk])).status_code == 403
    assert not HouseholdAccess.objects.filter(household_id=other.pk).exists()


def _paid(
    h: Any, key: str, *, amount: str = "850.00", period: dt.date = dt.date(2026, 10, 1)
) -> BenefitEntry:
    entry, _ = benefit_record(
        actor=None,
        household_id=h.pk,
        source=BenefitEntry.Source.PAYMENT_FILE,
        source_key=key,
        period=period,
        item="dibao",
        provider_code="civil_affairs",
        provider_name="民政局",
        amount=Decimal(amount),
        paid_on=period,
    )
    return entry


def test_the_monthly_sample_texts_each_sampled_household_once(county_map: Any) -> None:
    sampled = [f.household(county_map.village_a1) for _ in range(4)]
    for i, h in enumerate(sampled):
        Person.objects.filter(household=h).update(phone=f"+861380013800{i}", phone_hash=f"hash{i}")
        _paid(h, f"file:dibao:{h.pk}")
    _paid(sampled[0], "file:dibao:sep", period=dt.date(2026, 9, 1))  # another month: not a candidate

    sent = receipt_sample_month(today=dt.date(2026, 11, 3), share=Decimal("0.5"))
    assert sent == 2
    assert ReceiptCheck.objects.count() == 2
    assert set(ReceiptCheck.objects.values_list("sample_month", flat=True)) == {dt.date(2026, 10, 1)}
    messages = list(SmsMessage.objects.filter(template="receipt_check"))
    assert len(messages) == 2
    for m in messages:
        text = TEMPLATES["receipt_check"].render(m.params)
        assert m.params["amount"] == "850.00" and m.params["month"] == "2026年10月"
        assert m.params["item"] == "最低生活保障"
        assert re.fullmatch(r"https?://[^ ]+/happiness/[A-Za-z0-9_-]{16,}/receipt/", m.params["url"])
        assert "不会要求验证码、银行卡或密码" in text
    # A second beat the same month, a retry, the next day: no second sample.
    assert receipt_sample_month(today=dt.date(2026, 11, 3), share=Decimal("0.5")) == 0
    assert receipt_sample_month(today=dt.date(2026, 11, 20)) == 0
    assert SmsMessage.objects.filter(template="receipt_check").count() == 2


def test_a_no_answer_opens_the_townships_task_and_a_flag(county_map: Any, personas: Any, login: Any) -> None:
    h = f.household(county_map.village_a1)
    Person.objects.filter(household=h).update(phone="+8613800138009", phone_hash="hash9")
    entry = _paid(h, "file:dibao:one")
    assert receipt_sample_month(today=dt.date(2026, 11, 3), share=Decimal("1")) == 1
    check = ReceiptCheck.objects.get()
    receipt_answer(check_id=check.pk, answer="no")
    problem = EntryProblem.objects.get()
    assert problem.entry_id == entry.pk and problem.source == "receipt_check"
    flag = ListFlag.objects.get()
    assert (flag.kind, flag.reason, flag.township_id) == ("receipt", "receipt_no", county_map.town_a.pk)
    assert {"type": "entry", "id": entry.pk} in [{"type": e["type"], "id": e["id"]} for e in flag.evidence]
    page = login(personas.assistant_a).get(reverse("happiness-flags")).content.decode()
    assert f'data-flag="{flag.pk}"' in page
    assert (
        f'data-flag="{flag.pk}"'
        not in login(personas.assistant_b).get(reverse("happiness-flags")).content.decode()
    )
