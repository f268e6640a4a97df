"""POST /api/v1/public/applications/: one application per request, stored encrypted, audited, never twice."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client, override_settings

from applications.intake import CONSENT_VERSION, parse_application_input
from applications.models import Application, IdempotencyRecord, OtpChallenge
from applications.services import otp as otp_service
from applications.services.submission import RECEIPT_ALPHABET, application_submit
from assist_center.errors import ApplicationError
from assist_center.models import AuditEvent, SmsMessage
from assist_center.pii import id_number_index, phone_index

from .test_intake_input import (
    APPLICANT_PHONE,
    URL,
    child_birth,
    id_for,
    post_json,
    request_code,
    valid_body,
)

pytestmark = pytest.mark.django_db


def submit(client: Client, body: dict[str, Any], *, code: str | None = None, **headers: Any) -> Any:
    payload = dict(body)
    payload["otp"] = code if code is not None else request_code(client, body["applicant"]["phone"])
    return post_json(client, URL, payload, **headers)


def test_a_resident_submits_and_gets_a_receipt(county_map: Any) -> None:
    client = Client()
    body = valid_body(county_map)
    body["members"].append({"name": "张小小", "id_number": id_for(child_birth()), "relation": "grandchild"})
    body["guardian_confirmed"] = True
    response = submit(client, body)

    assert response.status_code == 201, response.content
    out = response.json()
    assert set(out) == {"receipt_code", "status", "family_url"}
    assert len(out["receipt_code"]) == 10 and set(out["receipt_code"]) <= set(RECEIPT_ALPHABET)
    assert out["status"] == "awaiting_authorisation"
    application = Application.objects.get()
    assert out["receipt_code"] == application.receipt_code
    assert out["family_url"] == f"{settings.SITE_URL}/family/{application.family_token}/"
    assert len(application.family_token) >= 43

    assert application.channel == "self" and application.submitted_by is None
    assert application.code_region == county_map.town_a
    assert application.village == county_map.village_a1
    assert application.township == county_map.town_a
    assert application.needs == ["dibao", "medical"]
    assert (
        application.consent_data_check and not application.consent_share and not application.consent_publish
    )
    assert application.guardian_confirmed
    assert application.consent_version == CONSENT_VERSION
    assert application.possible_duplicate is False

    rows = list(application.members.order_by("position"))
    assert [(m.position, m.role, m.relation, m.must_authorise) for m in rows] == [
        (0, "applicant", "self", True),
        (1, "member", "spouse", True),
        (2, "member", "grandchild", False),  # a child does not sign
        (3, "supporter", "child", True),
    ]
    assert rows[0].id_number == body["applicant"]["id_number"]
    assert rows[0].id_number_hash == id_number_index(body["applicant"]["id_number"])
    assert rows[0].phone == "+8613800138000" and rows[0].phone_hash == phone_index("+8613800138000")
    assert rows[3].phone == "+8613900139000"
    assert rows[1].phone == "" and rows[1].birth_date == dt.date(1962, 5, 5) and rows[1].sex in ("M", "F")

    events = list(AuditEvent.objects.filter(subject_id=str(application.pk)).order_by("pk"))
    assert [e.action for e in events] == ["application.submitted", "application.status"]
    assert events[0].actor_label == "resident"
    assert events[0].region == county_map.village_a1
    assert events[0].new_values["channel"] == "self"
    assert events[1].old_values == {"status": "submitted"}
    assert events[1].new_values == {"status": "awaiting_authorisation"}

    # The applicant gets the receipt code, the family link and the status page by SMS (issue 16);
    # the text carries no personal data.
    invite = SmsMessage.objects.get(template="application_received")
    assert invite.to == "+8613800138000"
    assert invite.params == {
        "receipt": out["receipt_code"],
        "url": out["family_url"],
        "status_url": out["family_url"].split("/family/")[0] + "/status/",
    }
    assert OtpChallenge.objects.get().consumed_at is not None


def test_the_database_holds_no_plaintext_id_number_or_phone(county_map: Any) -> None:
    body = valid_body(county_map)
    assert submit(Client(), body).status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM applications_applicationmember")
        rows = cursor.fetchall()
    assert len(rows) == 3
    for id_number, phone in rows:
        assert id_number.startswith("fernet:")
        assert phone == "" or phone.startswith("fernet:")
    dump = json.dumps(rows)
    for person in (body["applicant"], *body["members"], *body["supporters"]):
        assert person["id_number"] not in dump
    assert APPLICANT_PHONE not in dump


def test_markup_sql_and_rare_characters_are_stored_as_typed(county_map: Any) -> None:
    body = valid_body(county_map, address="<script>alert(1)</script>", need_note="'; DROP TABLE--")
    body["applicant"]["name"] = "𠈌明"
    body["members"][0]["name"] = "买买提·艾力"
    assert submit(Client(), body).status_code == 201
    application = Application.objects.get()
    assert application.address == "<script>alert(1)</script>"
    assert application.need_note == "'; DROP TABLE--"
    names = list(application.members.order_by("position").values_list("name", flat=True))
    assert names[:2] == ["𠈌明", "买买提·艾力"]


def test_the_self_channel_needs_a_phone_and_a_code(county_map: Any) -> None:
    body = valid_body(county_map)
    response = post_json(Client(), URL, body)
    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {"otp": "请填写发送到您手机的短信验证码。"}
    del body["applicant"]["phone"]
    response = post_json(Client(), URL, {**body, "otp": "123456"})
    assert response.json()["extra"]["fields"] == {"applicant.phone": "请填写手机号码。"}
    response = post_json(Client(), URL, {**valid_body(county_map), "otp": 123456})
    assert response.json()["extra"]["fields"] == {"otp": "必须是文本。"}
    assert not Application.objects.exists()


def test_a_wrong_code_stores_nothing_and_counts_as_an_attempt(county_map: Any) -> None:
    client = Client()
    body = valid_body(county_map)
    code = request_code(client)
    wrong = "000000" if code != "000000" else "111111"
    response = post_json(client, URL, {**body, "otp": wrong})
    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {"otp": "短信验证码不正确或已过期，如有需要请重新获取。"}
    assert not Application.objects.exists()
    assert OtpChallenge.objects.get().attempts == 1
    assert submit(client, body, code=code).status_code == 201


def test_an_idempotency_key_replays_the_first_answer(county_map: Any) -> None:
    client = Client()
    body = valid_body(county_map)
    code = request_code(client)
    first = submit(client, body, code=code, HTTP_IDEMPOTENCY_KEY="a1b2c3-retry")
    again = submit(client, body, code=code, HTTP_IDEMPOTENCY_KEY="a1b2c3-retry")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Application.objects.count() == 1
    assert IdempotencyRecord.objects.filter(scope="application_submit", key="a1b2c3-retry").count() == 1

    other = valid_body(county_map, address="另一个地址")
    reused = submit(client, other, code=code, HTTP_IDEMPOTENCY_KEY="a1b2c3-retry")
    assert reused.status_code == 422
    assert reused.json() == {"message": "该 Idempotency-Key 已用于另一个不同的请求。", "extra": {}}
    assert Application.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 129, "键", "has space", "tab\tkey"])
def test_a_bad_idempotency_key_is_a_400(county_map: Any, key: str) -> None:
    response = post_json(Client(), URL, {**valid_body(county_map), "otp": "123456"}, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["extra"]["fields"]


def test_a_double_tap_makes_one_application(county_map: Any) -> None:
    client = Client()
    body = valid_body(county_map)
    code = request_code(client)
    first = submit(client, body, code=code)
    second = submit(client, body, code=code)  # the code is used up, yet the tap is recognised
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Application.objects.count() == 1
    assert SmsMessage.objects.filter(template="application_received").count() == 1


def test_a_person_with_an_open_application_is_flagged_but_the_public_learns_nothing(county_map: Any) -> None:
    client = Client()
    first_body = valid_body(county_map)
    first = submit(client, first_body)
    spouse = first_body["members"][0]
    second_body = valid_body(county_map)
    second_body["applicant"] = {
        "name": "王五",
        "id_number": id_for(dt.date(1955, 1, 1)),
        "phone": "13700137000",
    }
    second_body["members"] = [spouse]
    second = submit(client, second_body)

    assert first.status_code == second.status_code == 201
    assert set(second.json()) == set(first.json()) == {"receipt_code", "status", "family_url"}
    assert second.json()["status"] == first.json()["status"]
    flagged = Application.objects.get(receipt_code=second.json()["receipt_code"])
    assert flagged.possible_duplicate is True
    assert Application.objects.get(receipt_code=first.json()["receipt_code"]).possible_duplicate is False


def test_a_closed_application_does_not_flag_a_new_one(county_map: Any) -> None:
    client = Client()
    body = valid_body(county_map)
    assert submit(client, body).status_code == 201
    Application.objects.update(status=Application.Status.WITHDRAWN)
    body2 = valid_body(county_map)
    body2["applicant"] = body["applicant"]
    body2["members"] = body["members"]
    assert submit(Client(), body2, code=_next_code(client)).status_code == 201
    assert Application.objects.filter(possible_duplicate=True).count() == 0


def _next_code(client: Client) -> str:
    import time_machine

    with time_machine.travel(dt.timedelta(seconds=61)):
        return request_code(client)


def test_submissions_are_limited_per_ip(county_map: Any) -> None:
    for _ in range(30):
        otp_service.limit_hit("submit-ip", "10.7.7.7", limit=10**6, period=3600)
    client = Client(REMOTE_ADDR="10.7.7.7")
    body = valid_body(county_map)
    code = request_code(client)
    response = submit(client, body, code=code)
    assert response.status_code == 429
    assert response.json()["message"] == "该网络提交的申请过多，请稍后再试。"
    assert not Application.objects.exists()
    assert submit(Client(REMOTE_ADDR="10.7.7.8"), body, code=code).status_code == 201


def test_a_submission_succeeds_while_redis_is_down(county_map: Any) -> None:
    client = Client()
    body = valid_body(county_map)
    code = request_code(client)
    dead = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                        "LOCATION": "redis://127.0.0.1:1/0",
                        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}  # fmt: skip
    with override_settings(CACHES=dead):
        response = submit(client, body, code=code)
    assert response.status_code == 201


# --- on behalf (代办) ---------------------------------------------------------------------------


def test_a_township_assistant_submits_on_behalf_without_a_code(county_map: Any, personas: Any) -> None:
    body = valid_body(county_map)
    del body["applicant"]["phone"]
    application = application_submit(
        data=parse_application_input(body), channel="on_behalf", actor=personas.assistant_a, otp=None, ip=None
    )
    assert application.channel == "on_behalf"
    assert application.submitted_by == personas.assistant_a
    assert application.status == "awaiting_authorisation"
    event = AuditEvent.objects.get(action="application.submitted")
    assert event.actor == personas.assistant_a and event.new_values["channel"] == "on_behalf"
    # No applicant phone, so no family invite by SMS (the assistant hands over the link).
    assert not SmsMessage.objects.filter(template="application_received").exists()


def test_on_behalf_only_within_the_assistants_township(county_map: Any, personas: Any) -> None:
    data = parse_application_input(valid_body(county_map))
    with pytest.raises(ApplicationError) as exc:
        application_submit(data=data, channel="on_behalf", actor=personas.assistant_b, otp=None, ip=None)
    assert exc.value.extra["fields"] == {"village_code": "该村（社区）不在您的辖区。"}
    for actor in (personas.cadre_a1, personas.coordinator, personas.dept_civil, None):
        with pytest.raises(PermissionDenied):
            application_submit(data=data, channel="on_behalf", actor=actor, otp=None, ip=None)
    assert not Application.objects.exists()


def test_on_behalf_double_submission_with_one_key_makes_one_application(
    county_map: Any, personas: Any
) -> None:
    data = parse_application_input(valid_body(county_map))
    kwargs: dict[str, Any] = {
        "data": data,
        "channel": "on_behalf",
        "actor": personas.assistant_a,
        "otp": None,
        "ip": None,
        "idempotency_key": f"on-behalf:{personas.assistant_a.pk}:abc",
    }
    assert application_submit(**kwargs).pk == application_submit(**kwargs).pk
    assert Application.objects.count() == 1


def test_the_schema_documents_the_public_endpoints(db: Any) -> None:
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/v1/public/otp/", "/api/v1/public/applications/",
                 "/api/v1/public/applications/{receipt_code}/status/"):  # fmt: skip
        assert path in text
    assert "Idempotency-Key" in text
    assert "receipt_code" in text and "family_url" in text


@pytest.mark.django_db(transaction=True)
def test_two_taps_arriving_together_make_one_application(county_map: Any) -> None:
    import threading

    client = Client()
    body = valid_body(county_map)
    code = request_code(client)
    barrier = threading.Barrier(2)
    answers: list[tuple[int, Any]] = []

    def tap() -> None:
        try:
            barrier.wait(timeout=10)
            response = submit(Client(), body, code=code)
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert [status for status, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert Application.objects.count() == 1
