"""POST /api/v1/public/applications/<receipt_code>/status/: the applicant's own status after an SMS code."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from applications.models import Application, ApplicationMember, Authorisation, OtpChallenge
from assist_center.models import SmsMessage

from .test_intake_input import (
    APPLICANT_PHONE,
    URL,
    post_json,
    request_code,
    valid_body,
)

pytestmark = pytest.mark.django_db
NOT_FOUND = {"message": "回执码、手机号码或短信验证码不正确，未找到对应的申请。", "extra": {}}


def status_url(receipt_code: str) -> str:
    return f"/api/v1/public/applications/{receipt_code}/status/"


@pytest.fixture
def receipt(county_map: Any) -> str:
    client = Client()
    body = valid_body(county_map)
    body["otp"] = request_code(client)
    response = post_json(client, URL, body)
    assert response.status_code == 201
    return str(response.json()["receipt_code"])


def lookup(receipt_code: str, phone: str = APPLICANT_PHONE, code: str | None = None, **extra: Any) -> Any:
    client = Client(raise_request_exception=False)
    if code is None:
        code = request_code(client, phone, purpose="status")
    return post_json(client, status_url(receipt_code), {"phone": phone, "otp": code, **extra})


def test_the_applicant_sees_the_status_and_the_signatures(receipt: str) -> None:
    application = Application.objects.get(receipt_code=receipt)
    spouse = application.members.get(position=1)
    Authorisation.objects.create(
        member=spouse, method="screen", image=b"png", content_type="image/png", sha256="0" * 64,
        signed_at=application.created_at, consent_version="2026-11-v1",
    )  # fmt: skip
    response = lookup(receipt)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "receipt_code": receipt,
        "status": "awaiting_authorisation",
        "status_display": "待家庭授权",
        "submitted_at": response.json()["submitted_at"],
        "authorisations": {"signed": 1, "required": 3},
    }
    assert response.json()["submitted_at"].startswith(
        application.created_at.astimezone().date().isoformat()[:4]
    )
    assert OtpChallenge.objects.filter(purpose="status", consumed_at__isnull=False).count() == 1


def test_the_receipt_code_is_read_case_insensitively(receipt: str) -> None:
    assert lookup(receipt.lower()).status_code == 200


def test_wrong_code_phone_or_receipt_all_answer_the_same(receipt: str, county_map: Any) -> None:
    code = request_code(Client(), purpose="status")
    wrong = "000000" if code != "000000" else "111111"
    answers = [
        lookup(receipt, code=wrong),
        lookup("ZZZZZZZZZZ", code=code),
        lookup("not-a-code", code=code),
    ]
    # Another person's phone, with a valid status code of their own (their phone never applied).
    answers.append(lookup(receipt, phone="13700137000", code="123456"))
    for response in answers:
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    # The code survived the look-ups that failed on the receipt code: it is used up only on success.
    ok = lookup(receipt, code=code)
    assert ok.status_code == 200
    assert lookup(receipt, code=code).json() == NOT_FOUND


def test_no_status_code_is_texted_to_a_phone_that_never_applied(receipt: str) -> None:
    before = SmsMessage.objects.count()
    response = post_json(Client(), "/api/v1/public/otp/", {"phone": "13700137000", "purpose": "status"})
    assert response.status_code == 202
    assert SmsMessage.objects.count() == before


def test_a_member_who_is_not_the_applicant_cannot_look_up(receipt: str) -> None:
    supporter = ApplicationMember.objects.get(role="supporter")
    assert supporter.phone == "+8613900139000"
    response = post_json(Client(), "/api/v1/public/otp/", {"phone": "13900139000", "purpose": "status"})
    assert response.status_code == 202
    assert lookup(receipt, phone="13900139000", code="123456").json() == NOT_FOUND


def test_bad_bodies_are_4xx(receipt: str) -> None:
    client = Client(raise_request_exception=False)
    for body in ([], "x", {"phone": APPLICANT_PHONE, "otp": "123456", "name": "x"}, {"phone": 1, "otp": 2}):
        response = post_json(client, status_url(receipt), body)
        assert 400 <= response.status_code < 500
    response = client.post(status_url(receipt), data="{", content_type="application/json")
    assert response.status_code == 400
