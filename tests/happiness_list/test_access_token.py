"""The way into a household's list: token, a phone of the household, the SMS code, lockout, session."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.test import Client

from applications.models import OtpChallenge
from assist_center.models import AuditEvent
from assist_center.sms import backends
from happiness_list.models import Guardian
from happiness_list.services.cards import card_url, cards_print
from happiness_list.sessions import SESSION_SECONDS

from .list_builders import (
    HEAD_PHONE,
    OTHER_PHONE,
    SPOUSE_PHONE,
    TODAY,
    UNKNOWN_PHONE,
    YEAR_TOTAL,
    Seeded,
    deliver_sms,
    last_code,
    open_list,
    page,
)

pytestmark = pytest.mark.django_db


def _send(client: Client, token: str, phone: str) -> Any:
    return client.post(page(token), {"action": "send", "phone": phone})


def test_a_household_phone_gets_a_code_and_opens_the_list(seeded: Seeded) -> None:
    client = Client()
    with time_machine.travel(TODAY, tick=False):
        r = open_list(client, seeded.card.token)
        assert r.status_code == 302 and r["Location"] == page(seeded.card.token)
        shown = client.get(page(seeded.card.token))
    assert shown.status_code == 200
    assert f"data-total>{YEAR_TOTAL}<" in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    assert AuditEvent.objects.filter(action="happiness.open", subject_id=str(seeded.household.pk)).exists()


def test_another_households_phone_gets_the_same_answer_as_an_unknown_one_and_no_sms(seeded: Seeded) -> None:
    answers = []
    for phone in (OTHER_PHONE, UNKNOWN_PHONE, SPOUSE_PHONE):
        client = Client()
        r = _send(client, seeded.card.token, phone)
        answers.append((r.status_code, r.content.decode().replace(phone[-4:], "####")))
    deliver_sms()
    # The spouse's phone is the household's: it alone receives a code...
    sent_to = [m.to for m in backends.outbox if m.template == "otp"]
    assert sent_to == ["+86" + SPOUSE_PHONE]
    # ...and the three pages are the same, byte for byte but the masked number and the CSRF token.
    import re

    def strip(html: str) -> str:
        # The page echoes the number the person typed, masked: only that and the CSRF token may differ.
        html = re.sub(r"\d{3}\*{4}(\d{4}|####)", "MASKED", html)
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert answers[0][0] == answers[1][0] == answers[2][0] == 200
    assert strip(answers[0][1]) == strip(answers[1][1]) == strip(answers[2][1])


def test_the_public_otp_endpoint_answers_the_same_for_every_phone(seeded: Seeded) -> None:
    """POST /api/v1/public/otp/ with purpose `happiness`: a code only to the household's phone."""
    bodies = []
    for phone in (OTHER_PHONE, UNKNOWN_PHONE, HEAD_PHONE):
        r = Client().post(
            "/api/v1/public/otp/",
            {"phone": phone, "purpose": "happiness", "token": seeded.card.token},
            content_type="application/json",
        )
        bodies.append((r.status_code, r.json()))
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0][0] == 202
    assert last_code(HEAD_PHONE) is not None
    assert last_code(OTHER_PHONE) is None and last_code(UNKNOWN_PHONE) is None
    # The code opens the JSON list.
    r = Client().post(
        f"/api/v1/public/happiness/{seeded.card.token}/",
        {"phone": HEAD_PHONE, "otp": last_code(HEAD_PHONE)},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["total"] == YEAR_TOTAL


def test_the_public_otp_endpoint_needs_the_lists_token_for_happiness(seeded: Seeded) -> None:
    r = Client().post(
        "/api/v1/public/otp/", {"phone": HEAD_PHONE, "purpose": "happiness"}, content_type="application/json"
    )
    assert r.status_code == 400 and "token" in r.json()["extra"]["fields"]
    r = Client().post(
        "/api/v1/public/otp/",
        {"phone": HEAD_PHONE, "purpose": "happiness", "token": "x" * 43},
        content_type="application/json",
    )
    assert r.status_code == 404
    assert last_code(HEAD_PHONE) is None


def test_another_households_valid_code_does_not_open_this_list(seeded: Seeded) -> None:
    # B's head gets a real code on B's own card...
    other = Client()
    _send(other, seeded.other_card.token, OTHER_PHONE)
    code = last_code(OTHER_PHONE)
    assert code is not None
    # ...and tries it on A's card: refused like a wrong code.
    attacker = Client()
    _send(attacker, seeded.card.token, OTHER_PHONE)
    r = attacker.post(page(seeded.card.token), {"action": "verify", "otp": code})
    assert r.status_code == 400
    assert "data-total" not in r.content.decode()
    # B's code is still good on B's own card.
    r = other.post(page(seeded.other_card.token), {"action": "verify", "otp": code})
    assert r.status_code == 302


def test_five_wrong_codes_lock_the_token_for_a_while(seeded: Seeded) -> None:
    client = Client()
    with time_machine.travel(TODAY, tick=False) as traveller:
        _send(client, seeded.card.token, HEAD_PHONE)
        good = last_code(HEAD_PHONE)
        assert good is not None
        wrong = "000000" if good != "000000" else "111111"
        statuses = [
            client.post(page(seeded.card.token), {"action": "verify", "otp": wrong}).status_code
            for _ in range(5)
        ]
        assert statuses == [400] * 5
        # Locked: even a fresh code for the household's other phone is refused, on any browser.
        fresh = Client()
        r = _send(fresh, seeded.card.token, SPOUSE_PHONE)
        assert r.status_code == 429
        r = client.post(page(seeded.card.token), {"action": "verify", "otp": good})
        assert r.status_code == 429
        assert "data-total" not in r.content.decode()
        # The JSON endpoint is locked as well.
        r = Client().post(
            f"/api/v1/public/happiness/{seeded.card.token}/",
            {"phone": HEAD_PHONE, "otp": good},
            content_type="application/json",
        )
        assert r.status_code == 429
        # Half an hour later the lock is gone: a new code opens the list.
        traveller.shift(31 * 60)
        later = Client()
        assert open_list(later, seeded.card.token, SPOUSE_PHONE).status_code == 302


def test_the_lock_counts_codes_tried_from_other_households_phones(seeded: Seeded) -> None:
    with time_machine.travel(TODAY, tick=False) as traveller:
        for _ in range(5):
            client = Client()
            assert _send(client, seeded.card.token, OTHER_PHONE).status_code == 200
            assert (
                client.post(page(seeded.card.token), {"action": "verify", "otp": "123456"}).status_code == 400
            )
            traveller.shift(61)  # past the minute between two codes for one phone
        r = _send(Client(), seeded.card.token, HEAD_PHONE)
    assert r.status_code == 429
    # The message says when to try again, in Chinese.
    assert re.search(r"(29|30) ?(分钟|minutes)", r.content.decode())


def test_reprinting_a_card_rotates_its_token_and_the_old_one_is_404(seeded: Seeded, personas: Any) -> None:
    old = seeded.card.token
    [card] = cards_print(actor=personas.assistant_a, household_ids=[seeded.household.pk])
    assert card.token != old and card.version == 2
    assert Client().get(page(old)).status_code == 404
    assert Client().get(page(card.token)).status_code == 200
    # A browser with a session opened under the old card loses it too.
    client = Client()
    with time_machine.travel(TODAY, tick=False):
        assert open_list(client, card.token).status_code == 302
    assert client.get(page(old)).status_code == 404


@pytest.mark.parametrize("token", ["nope", "x" * 43, "../../admin", "a" * 65, "abc\x00def" * 4])
def test_an_unknown_or_malformed_token_is_404(seeded: Seeded, token: str) -> None:
    assert Client().get(page(token)).status_code in (404,)


def test_a_session_is_for_its_household_alone(seeded: Seeded) -> None:
    client = Client()
    with time_machine.travel(TODAY, tick=False):
        assert open_list(client, seeded.card.token).status_code == 302
        # The same browser on the other household's card sees the phone step, not B's list.
        r = client.get(page(seeded.other_card.token))
    assert r.status_code == 200
    body = r.content.decode()
    assert "data-total" not in body and "777.77" not in body


def test_the_session_expires_after_fifteen_minutes(seeded: Seeded) -> None:
    client = Client()
    with time_machine.travel(TODAY, tick=False) as traveller:
        assert open_list(client, seeded.card.token).status_code == 302
        traveller.shift(SESSION_SECONDS - 5)
        assert "data-total" in client.get(page(seeded.card.token)).content.decode()
        traveller.shift(10)
        r = client.get(page(seeded.card.token))
    assert r.status_code == 200 and "data-total" not in r.content.decode()
    assert 'name="phone"' in r.content.decode()


def test_a_code_is_used_once(seeded: Seeded) -> None:
    client = Client()
    with time_machine.travel(TODAY, tick=False):
        assert open_list(client, seeded.card.token).status_code == 302
        code = last_code(HEAD_PHONE)
        r = Client().post(
            f"/api/v1/public/happiness/{seeded.card.token}/",
            {"phone": HEAD_PHONE, "otp": code},
            content_type="application/json",
        )
    assert r.status_code == 400
    assert OtpChallenge.objects.filter(purpose="happiness", consumed_at__isnull=False).count() == 1


def test_a_registered_guardians_phone_opens_the_list(seeded: Seeded) -> None:
    from assist_center.pii import phone_index

    Guardian.objects.create(
        household=seeded.household,
        name="王小军",
        relation=Guardian.Relation.CHILD,
        phone="+8613600136006",
        phone_hash=phone_index("+8613600136006"),
    )
    client = Client()
    with time_machine.travel(TODAY, tick=False):
        assert open_list(client, seeded.card.token, "13600136006").status_code == 302
    event = AuditEvent.objects.get(action="happiness.open")
    assert event.new_values["method"] == "guardian"


def test_the_closure_sms_link_opens_the_household_list_with_the_case_to_rate(
    seeded: Seeded, county_map: Any
) -> None:
    """The closure SMS carries the household's card token; the family token opens no list."""
    from applications.models import Application
    from referrals.services.actions import happiness_url

    from .. import factories as f

    app = f.ApplicationFactory(village=county_map.village_a1)
    Application.objects.filter(pk=app.pk).update(household=seeded.household)
    app.refresh_from_db()
    assert happiness_url(app) == card_url(seeded.card.token)
    assert Client().get(page(app.family_token)).status_code == 404
    client = Client()
    with time_machine.travel(TODAY, tick=False):
        assert open_list(client, seeded.card.token).status_code == 302
        r = client.get(page(seeded.card.token))
    assert f"data-total>{YEAR_TOTAL}<" in r.content.decode()
