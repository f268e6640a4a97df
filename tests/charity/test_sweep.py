"""The claim sweep with controlled time: reminders at half-time and the day before never move the
deadlines; past a deadline the claim goes back to the board at the top, marked 优先, with a notice to
the organisation; two beats sweeping at once release each claim once and send one notice."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client

from assist_center.models import AuditEvent, SmsMessage
from charity.models import Claim, Need
from charity.selectors import release_counts
from charity.services.claims import claim_mark_contacted, claim_sweep, need_claim

from .helpers import org_with_member, visible_need

# Monday 2 November 2026, 10:00 in the county (an ordinary working week).
MONDAY = dt.datetime(2026, 11, 2, 2, tzinfo=dt.UTC)


def at(day: int, hour: int = 10) -> Any:
    """Travel to 2 Nov 2026 + `day` days, `hour` o'clock county time, with the clock standing."""
    return time_machine.travel(MONDAY + dt.timedelta(days=day, hours=hour - 10), tick=False)


def _org(phone: str = "13900139001") -> tuple[Any, Any]:
    org, member = org_with_member()
    org.contact_phone = phone
    org.save(update_fields=["contact_phone"])
    return org, member


def _sms(template: str) -> list[SmsMessage]:
    return list(SmsMessage.objects.filter(template=template).order_by("id"))


@pytest.mark.django_db
def test_an_uncontacted_claim_is_released_after_its_contact_deadline_to_the_top_of_the_board(
    personas: Any, county_map: Any
) -> None:
    org, member = _org()
    with at(0):
        older = visible_need(personas.coordinator, county_map.village_a1)
        claim = need_claim(actor=member, public_id=older.public_id)
        newer = visible_need(personas.coordinator, county_map.village_a1)
    # 物资捐赠: contact within 3 working days, delivery within 10.
    assert (claim.contact_due, claim.delivery_due) == (dt.date(2026, 11, 5), dt.date(2026, 11, 16))
    with at(3, hour=23):
        assert claim_sweep().released == 0
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.ACTIVE
    with at(4, hour=0):
        assert claim_sweep().released == 1
    claim.refresh_from_db()
    assert claim.status == Claim.Status.RELEASED and claim.ended_at is not None
    need = Need.objects.get(pk=older.pk)
    assert (need.status, need.priority) == (Need.Status.PUBLISHED, True)

    board = Client().get("/charity/").content.decode()
    # Back at the top, ahead of a newer need, and marked 优先.
    assert board.index(older.public_id) < board.index(newer.public_id)
    first_card = board[board.index("need-card") : board.index(older.public_id)]
    assert "优先" in first_card
    feed = Client().get("/api/v1/public/charity/needs/").json()["results"]
    assert (feed[0]["id"], feed[0]["priority"]) == (older.public_id, True)

    (notice,) = _sms("charity_claim_released")
    assert notice.to == "+8613900139001" and notice.params == {"need": older.public_id}
    assert AuditEvent.objects.filter(action="claim.release", subject_id=str(claim.pk)).count() == 1
    # The centre sees how many claims each organisation let lapse.
    assert release_counts() == {org.pk: 1}
    with at(4, hour=1):
        changelist = Client()
        changelist.force_login(personas.coordinator)
        html = changelist.get("/admin/charity/organisation/").content.decode()
    row = html[html.index(org.name) :]
    row = row[: row.index("</tr>")]
    assert '<td class="field-released_claims">1</td>' in row
    assert '<td class="field-open_claims">0</td>' in row
    # Claimed again, the need loses its 优先 mark.
    _other, other_member = _org("13900139002")
    with at(4, hour=9):
        need_claim(actor=other_member, public_id=older.public_id)
    assert Need.objects.get(pk=older.pk).priority is False


@pytest.mark.django_db
def test_reminders_at_half_time_and_the_day_before_do_not_move_the_deadline(
    personas: Any, county_map: Any
) -> None:
    _unused, member = _org()
    with at(0):
        need = visible_need(personas.coordinator, county_map.village_a1)
        claim = need_claim(actor=member, public_id=need.public_id)
        claim_mark_contacted(actor=member, claim_id=claim.pk)
    due = (claim.contact_due, claim.delivery_due)
    with at(4):  # Fri 6 Nov: contacted, so the contact deadline no longer releases it
        assert claim_sweep().released == 0
        assert not _sms("charity_claim_reminder")
    with at(7):  # Mon 9 Nov: five of ten working days gone
        result = claim_sweep()
        assert (result.released, result.reminded) == (0, 1)
    with at(7, hour=16):
        assert claim_sweep().reminded == 0, "one half-time reminder, however often the beat runs"
    with at(11):  # Fri 13 Nov: one working day left (Mon 16 Nov)
        assert claim_sweep().reminded == 1
    with at(14):  # Mon 16 Nov: the last day itself still belongs to the organisation
        result = claim_sweep()
        assert (result.released, result.reminded) == (0, 0)
    claim.refresh_from_db()
    assert (claim.contact_due, claim.delivery_due) == due
    assert claim.status == Claim.Status.CONTACTED
    assert [m.idempotency_key for m in _sms("charity_claim_reminder")] == [
        f"charity-remind-half:{claim.pk}",
        f"charity-remind-last:{claim.pk}",
    ]
    reminders = _sms("charity_claim_reminder")
    assert all(m.params == {"need": need.public_id, "date": "2026-11-16"} for m in reminders)
    with at(15):  # Tue 17 Nov: past the delivery deadline
        assert claim_sweep().released == 1
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.RELEASED


@pytest.mark.django_db
def test_a_reported_completion_is_never_released_and_an_unanswered_one_becomes_a_phone_task(
    personas: Any, county_map: Any
) -> None:
    from charity.services.claims import claim_report_completion

    _o, member = _org()
    with at(0):
        need = visible_need(personas.coordinator, county_map.village_a1, phone="13800138009")
        claim = need_claim(actor=member, public_id=need.public_id)
        claim_report_completion(actor=member, claim_id=claim.pk, text="轮椅已送到", in_kind="轮椅一台")
    claim.refresh_from_db()
    # Five working days for the resident's answer: Mon 9 Nov.
    assert claim.resident_answer_due == dt.date(2026, 11, 9)
    with at(7):
        assert claim_sweep().phone_tasks == 0
    with at(8):
        result = claim_sweep()
        assert (result.released, result.phone_tasks) == (0, 1)
        assert claim_sweep().phone_tasks == 0
    claim.refresh_from_db()
    assert claim.status == Claim.Status.REPORTED and claim.phone_task_open
    with at(8, hour=11):
        page = Client()
        page.force_login(personas.assistant_a)
        html = page.get(f"/charity/staff/claims/{claim.pk}/").content.decode()
        assert "请电话回访" in html
        r = page.post(f"/charity/staff/claims/{claim.pk}/", {"action": "phone_answer", "answer": "partly"})
        assert r.status_code == 302
    claim.refresh_from_db()
    assert (claim.resident_answer, claim.phone_task_open) == ("partly", False)
    event = AuditEvent.objects.get(action="claim.resident_answer", subject_id=str(claim.pk))
    assert event.actor == personas.assistant_a
    assert event.new_values == {"answer": "partly", "channel": "phone_call"}


@pytest.mark.django_db(transaction=True)
def test_two_beats_sweeping_at_once_release_each_claim_once_with_one_notice(
    personas: Any, county_map: Any
) -> None:
    claims = []
    with at(0):
        for i in range(6):
            _unused, member = _org(f"1390013910{i}")
            need = visible_need(personas.coordinator, county_map.village_a1)
            claims.append(need_claim(actor=member, public_id=need.public_id))
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    with at(5):
        barrier = threading.Barrier(2)

        def beat() -> None:
            try:
                barrier.wait(timeout=30)
                released = claim_sweep().released
                with lock:
                    results.append(released)
            except BaseException as exc:  # a crash in one beat must fail the test, not vanish
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=beat) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors
    assert sum(results) == len(claims) and len(results) == 2
    ids = [c.pk for c in claims]
    assert Claim.objects.filter(pk__in=ids, status=Claim.Status.RELEASED).count() == len(claims)
    for pk in ids:
        assert AuditEvent.objects.filter(action="claim.release", subject_id=str(pk)).count() == 1
        assert SmsMessage.objects.filter(idempotency_key=f"charity-released:{pk}").count() == 1
    assert len(_sms("charity_claim_released")) == len(claims)
    assert Need.objects.filter(claims__pk__in=ids, status=Need.Status.PUBLISHED, priority=True).count() == 6
    # A third beat later finds nothing to do.
    with at(5, hour=11):
        assert claim_sweep().released == 0
    assert len(_sms("charity_claim_released")) == len(claims)
