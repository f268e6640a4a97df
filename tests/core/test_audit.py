"""The audit log service: same transaction, append-only, idempotent, request-tagged, PII-free."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
import structlog
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, transaction

from assist_center.audit import audit_record, diff
from assist_center.models import AuditEvent

from .. import factories as f


class _Boom(Exception):
    pass


def test_an_event_written_in_a_transaction_that_rolls_back_is_gone(personas: Any) -> None:
    with pytest.raises(_Boom), transaction.atomic():
        audit_record(actor=personas.coordinator, action="case.approve", subject=("case", "1"))
        raise _Boom
    assert not AuditEvent.objects.filter(action="case.approve").exists()


def test_an_event_cannot_be_updated_in_the_database(personas: Any) -> None:
    event = audit_record(actor=personas.coordinator, action="case.approve", subject=("case", "1"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    event.refresh_from_db()
    assert event.action == "case.approve"


def test_an_event_cannot_be_deleted_in_the_database(personas: Any) -> None:
    event = audit_record(actor=personas.coordinator, action="case.approve", subject=("case", "1"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_saving_an_existing_event_again_is_refused_before_the_database(personas: Any) -> None:
    event = audit_record(actor=personas.coordinator, action="case.approve", subject=("case", "1"))
    event.action = "x"
    with pytest.raises(RuntimeError):
        event.save()


def test_an_idempotency_key_writes_the_event_once(personas: Any) -> None:
    first = audit_record(
        actor=None, action="warning.raise", subject=("warning", "7"), idempotency_key="warn:7:red"
    )
    again = audit_record(
        actor=None, action="warning.raise", subject=("warning", "7"), idempotency_key="warn:7:red"
    )
    assert again.pk == first.pk
    assert AuditEvent.objects.filter(idempotency_key="warn:7:red").count() == 1
    other = audit_record(
        actor=None, action="warning.raise", subject=("warning", "7"), idempotency_key="warn:7:blue"
    )
    assert other.pk != first.pk


def test_the_request_id_bound_by_structlog_is_stored(personas: Any) -> None:
    with structlog.contextvars.bound_contextvars(request_id="req-42"):
        event = audit_record(actor=personas.coordinator, action="x.y", subject=("x", "1"))
    assert event.request_id == "req-42"
    assert audit_record(actor=None, action="x.y", subject=("x", "2")).request_id == ""


def test_a_request_through_the_middleware_tags_its_event_with_the_request_id(
    personas: Any, county_map: Any, login: Any
) -> None:
    household = f.household(county_map.village_a1)
    client = login(personas.assistant_a)
    response = client.post(
        f"/admin/applications/household/{household.pk}/change/",
        {
            "village": county_map.village_a2.pk,
            "address": "新地址2号",
            "members-TOTAL_FORMS": "1",
            "members-INITIAL_FORMS": "1",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000",
            "members-0-id": household.members.get().pk,
            "members-0-household": household.pk,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    event = AuditEvent.objects.get(action="admin.household.change")
    # django-structlog makes a fresh UUID per request (a client-sent X-Request-ID is not trusted).
    assert uuid.UUID(event.request_id)
    assert "request_id" not in structlog.contextvars.get_contextvars()
    assert event.actor == personas.assistant_a and event.actor_label == "assistant_a"
    assert event.region == county_map.village_a2
    assert event.old_values == {"village": county_map.village_a1.pk, "address": "幸福路1号"}
    assert event.new_values == {"village": county_map.village_a2.pk, "address": "新地址2号"}


def test_pii_shaped_values_are_redacted_and_identifier_keys_masked(personas: Any) -> None:
    event = audit_record(
        actor=personas.coordinator,
        action="x.y",
        subject=("x", "1"),
        old={"phone": "+8613800138000", "id_number": "110105199001010010", "id_number_hash": "ab" * 32},
        new={
            "note": "打电话 138 0013 8000，身份证 110105199001010010",
            "nested": {"contact_phone": "13912345678", "items": [{"id_number": "11010519900101007X"}]},
            "when": dt.date(2026, 3, 1),
            "at": dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC),
            "amount": Decimal("1234.50"),
            "count": 3,
        },
        reason="核对 110105199001010010 的材料",
    )
    event.refresh_from_db()
    assert event.old_values == {
        "phone": "138****8000",
        "id_number": "110***********0010",
        "id_number_hash": "[hash]",
    }
    assert event.new_values == {
        "note": "打电话 [PHONE]，身份证 [ID]",
        "nested": {"contact_phone": "139****5678", "items": [{"id_number": "110***********007X"}]},
        "when": "2026-03-01",
        "at": "2026-03-01T08:30:00Z",
        "amount": "1234.50",
        "count": 3,
    }
    assert event.reason == "核对 [ID] 的材料"
    stored = str(event.old_values) + str(event.new_values) + event.reason
    assert "13800138000" not in stored and "110105199001010010" not in stored


def test_actor_labels_and_subjects(personas: Any, county_map: Any) -> None:
    by_user = audit_record(actor=personas.dept_civil, action="a", subject=county_map.village_a1)
    assert (by_user.actor, by_user.actor_label) == (personas.dept_civil, "dept_civil")
    assert (by_user.subject_type, by_user.subject_id) == (
        "assist_center.region",
        str(county_map.village_a1.pk),
    )
    assert audit_record(actor=None, action="a", subject=("x", "1")).actor_label == "system"
    assert audit_record(actor="resident", action="a", subject=("x", "1")).actor_label == "resident"
    anon = audit_record(actor=AnonymousUser(), action="a", subject=("x", "1"))
    assert (anon.actor, anon.actor_label) == (None, "resident")


def test_diff_returns_only_the_changed_fields(county_map: Any) -> None:
    household = f.household(county_map.village_a1)
    old, new = diff(
        household,
        ["address", "village", "is_enrolled"],
        {"address": "幸福路1号", "village": county_map.village_a2, "is_enrolled": True, "ignored": 1},
    )
    assert old == {"village": county_map.village_a1, "is_enrolled": False}
    assert new == {"village": county_map.village_a2, "is_enrolled": True}
    same_old, same_new = diff(household, ["village"], {"village": county_map.village_a1.pk})
    assert same_old == same_new == {}
