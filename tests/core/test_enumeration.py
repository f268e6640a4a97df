"""Enumeration: another scope's object answers exactly like a missing one; look-ups are rate-limited.

For every staff API POST endpoint (tests/core/test_hostile_input.py's targets), the API detail
views and the main admin change pages, the sibling persona's request for an object of the other
township or department is compared with the same request for an id that does not exist: same
status, same body (with the per-request CSRF token and CSP nonce taken out). The public status
look-up answers an unknown receipt code as it answers a known one with the wrong phone, and is
limited per address and per receipt code.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve, reverse

from applications.models import Application, ApplicationMember
from tests.applications.test_application_admin import Cases
from tests.applications.test_application_admin import cases as cases  # the fixture
from tests.conftest import client_for
from tests.core.test_hostile_input import Target
from tests.core.test_hostile_input import targets as targets  # the fixture

pytestmark = pytest.mark.django_db

SIBLING = {"assistant_a": "assistant_b", "dept_civil": "dept_medical"}
MISSING = 10**8


def missing_twin(url: str) -> str:
    """The same route with every integer id replaced by one that does not exist."""
    match = resolve(url)
    kwargs = {k: (MISSING + i if isinstance(v, int) else v) for i, (k, v) in enumerate(match.kwargs.items())}
    return reverse(match.view_name, kwargs=kwargs)


_VOLATILE = [
    re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"'),
    re.compile(rb'nonce="[^"]+"'),
    re.compile(rb'"request_id": ?"[^"]*"'),
]


def normalised(response: Any) -> bytes:
    body = bytes(response.content)
    for pattern in _VOLATILE:
        body = pattern.sub(b"~", body)
    return body


def assert_same(out_of_scope: Any, missing: Any, where: str) -> None:
    assert out_of_scope.status_code == missing.status_code == 404, (where, out_of_scope.status_code)
    assert normalised(out_of_scope) == normalised(missing), where
    assert out_of_scope.get("Content-Type") == missing.get("Content-Type"), where


def test_every_staff_api_action_answers_another_scopes_object_like_a_missing_one(
    personas: Any, targets: list[Target]
) -> None:
    compared = 0
    for target in targets:
        outsider = SIBLING.get(target.persona)
        if outsider is None or not resolve(target.url).kwargs:
            continue  # county-wide personas have no other scope; a URL without an id names nothing
        client = client_for(getattr(personas, outsider))
        body = json.dumps(target.body)
        theirs = client.post(target.url, data=body, content_type="application/json")
        nothing = client.post(missing_twin(target.url), data=body, content_type="application/json")
        assert_same(theirs, nothing, target.name)
        compared += 1
    assert compared >= 9  # every action of a township or department persona


def test_api_detail_views_answer_another_scopes_object_like_a_missing_one(
    personas: Any, cases: Cases, targets: list[Target]
) -> None:
    referral_url = next(t.url for t in targets if t.name == "accept")
    referral_id = resolve(referral_url).kwargs["referral_id"]
    pairs = [
        ("assistant_b", reverse("api-application-detail", args=[cases.a1.pk])),
        ("dept_medical", reverse("api-referral-detail", args=[referral_id])),
    ]
    for persona, url in pairs:
        client = client_for(getattr(personas, persona))
        assert_same(client.get(url), client.get(missing_twin(url)), url)


def test_admin_pages_answer_another_townships_object_like_a_missing_one(personas: Any, cases: Cases) -> None:
    a1 = cases.a1
    person = a1.members.get(role=ApplicationMember.Role.APPLICANT).person
    assert person is not None
    client = client_for(personas.assistant_b)
    for name, pk in [
        ("applications_application_change", a1.pk),
        ("applications_application_history", a1.pk),
        ("applications_application_delete", a1.pk),
        ("applications_household_change", a1.household_id),
        ("applications_person_change", person.pk),
        ("applications_person_history", person.pk),
    ]:
        theirs = client.get(reverse(f"admin:{name}", args=[pk]))
        nothing = client.get(reverse(f"admin:{name}", args=[MISSING]))
        # The admin redirects a missing object to the index with a message; whatever it does, an
        # object of another township must get the very same answer.
        assert theirs.status_code == nothing.status_code, name
        assert theirs.get("Location", "").replace(f"/{pk}/", "/~/") == nothing.get("Location", "").replace(
            f"/{MISSING}/", "/~/"
        ), name
        # The requested id itself may appear as a path segment (a form action, a breadcrumb).
        assert normalised(theirs).replace(f"/{pk}/".encode(), b"/~/") == normalised(nothing).replace(
            f"/{MISSING}/".encode(), b"/~/"
        ), name


# --- the public status look-up ----------------------------------------------------------------


def _status(client: Client, code: str, ip: str, phone: str = "13800009999") -> Any:
    return client.post(
        reverse("api-public-application-status", args=[code]),
        data=json.dumps({"phone": phone, "otp": "123456"}),
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


def test_an_unknown_receipt_code_answers_like_a_known_one_with_the_wrong_phone(cases: Cases) -> None:
    known = Application.objects.get(pk=cases.a1.pk).receipt_code
    client = Client()
    wrong_phone = _status(client, known, "198.51.100.1")
    unknown = _status(client, "ZZZZZZZZZZ" if known != "ZZZZZZZZZZ" else "YYYYYYYYYY", "198.51.100.2")
    assert wrong_phone.status_code == unknown.status_code == 404
    assert wrong_phone.json() == unknown.json()


def test_look_ups_are_limited_per_receipt_code_across_addresses_and_per_address(db: Any) -> None:
    from applications.services.submission import STATUS_PER_CODE_PER_HOUR, STATUS_PER_IP_PER_HOUR

    client = Client()
    target = "ABCDEFGHJK"
    answers = [
        _status(client, target, f"203.0.113.{i}").status_code for i in range(STATUS_PER_CODE_PER_HOUR + 1)
    ]
    assert answers[:-1] == [404] * STATUS_PER_CODE_PER_HOUR and answers[-1] == 429
    assert _status(client, "BCDEFGHJKM", "203.0.113.200").status_code == 404  # other codes unaffected
    codes = [f"C{i:09d}" for i in range(STATUS_PER_IP_PER_HOUR + 1)]
    from_one = [_status(client, code, "192.0.2.7").status_code for code in codes]
    assert from_one[:-1] == [404] * STATUS_PER_IP_PER_HOUR and from_one[-1] == 429
