"""POST /api/v1/pool/<category>/records/: a department's system pushes pool records with its key.

The same pipeline as an uploaded file (validation, upsert, error report by line), so what is tested
here is what the push adds: who may push what, replays refused, JSON lines, and polling the job.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from applications.models import Person
from assist_center.errors import ApplicationError
from assist_center.models import AuditEvent
from eligibility.models import ImportJob, PoolRecord, PushKey
from eligibility.services.imports import pool_import_run
from eligibility.services.push import push_key_issue
from tests import factories as f
from tests.eligibility.test_monitoring import days_ago, home, members

pytestmark = pytest.mark.django_db

URL = "/api/v1/pool/vehicle/records/"


@pytest.fixture
def police(county_map: Any) -> Any:
    return f.DepartmentFactory(code="traffic_police", name="县公安局交警大队", short_name="交警")


@pytest.fixture
def key(police: Any) -> str:
    return push_key_issue(actor="test", department_code="traffic_police", categories=["vehicle"]).plain


@pytest.fixture
def people(county_map: Any) -> list[Person]:
    return members(home(county_map.village_a1, enrolled=False, members=3))


def headers(key: str, *, nonce: str | None = None, ts: int | None = None) -> dict[str, str]:
    return {
        "HTTP_AUTHORIZATION": f"Bearer {key}",
        "HTTP_X_TIMESTAMP": str(int(time.time()) if ts is None else ts),
        "HTTP_X_NONCE": nonce or secrets.token_urlsafe(16),
    }


def car_row(person: Person, record_id: str, vehicle_type: str = "小型轿车") -> dict[str, Any]:
    return {
        "id_number": person.id_number,
        "record_id": record_id,
        "effective_date": days_ago(3),
        "plate_kind": "小型汽车",
        "vehicle_type": vehicle_type,
        "status": "正常",
    }


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def as_csv(rows: list[dict[str, Any]]) -> bytes:
    cols = list(rows[0])
    lines = [",".join(cols), *(",".join(str(r[c]) for c in cols) for r in rows)]
    return ("\n".join(lines) + "\n").encode()


def push(
    body: bytes, key: str, *, content_type: str = "application/x-ndjson", url: str = URL, **kw: Any
) -> Any:
    return Client().post(url, data=body, content_type=content_type, **headers(key, **kw))


def run(response: Any) -> ImportJob:
    """The worker's part: run the queued job (the test's transaction never commits for a real one)."""
    assert response.status_code == 202, response.content
    return pool_import_run(job_id=response.json()["job_id"])


def test_json_lines_are_imported_and_the_job_reports_by_the_lines_sent(
    key: str, people: list[Person]
) -> None:
    rows = [car_row(people[0], "V1"), car_row(people[1], "V2"), car_row(people[2], "V3")]
    rows[1]["effective_date"] = "2026-13-45"  # line 2 of the body
    response = push(jsonl(rows), key)
    assert response.json()["status"] == "queued"
    job = run(response)
    assert (job.status, job.rows_inserted, job.rows_rejected) == ("done", 2, 1)
    assert set(PoolRecord.objects.filter(category="vehicle").values_list("source_record_id", flat=True)) == {
        "V1",
        "V3",
    }
    polled = Client().get(f"/api/v1/pool/jobs/{job.pk}/", **headers(key)).json()
    assert (polled["status"], polled["rows_inserted"], polled["rows_rejected"]) == ("done", 2, 1)
    assert [e["line"] for e in polled["errors"]] == [2]
    assert AuditEvent.objects.filter(action="pool.import.start", subject_id=str(job.pk)).exists()


def test_csv_with_the_import_header_is_accepted(key: str, people: list[Person]) -> None:
    job = run(push(as_csv([car_row(people[0], "C1")]), key, content_type="text/csv"))
    assert (job.status, job.rows_inserted) == ("done", 1)


def test_the_same_batch_twice_changes_nothing_the_second_time(key: str, people: list[Person]) -> None:
    body = jsonl([car_row(p, f"V{n}") for n, p in enumerate(people)])
    first = run(push(body, key))
    before = list(PoolRecord.objects.order_by("pk").values_list("pk", "content_hash", "job_id"))
    second = run(push(body, key))
    assert (first.rows_inserted, second.rows_inserted, second.rows_updated, second.rows_unchanged) == (
        3,
        0,
        0,
        3,
    )
    assert list(PoolRecord.objects.order_by("pk").values_list("pk", "content_hash", "job_id")) == before


def test_a_replayed_request_is_refused_and_imports_nothing_more(key: str, people: list[Person]) -> None:
    body = jsonl([car_row(people[0], "V1")])
    nonce = secrets.token_urlsafe(16)
    assert push(body, key, nonce=nonce).status_code == 202
    replay = push(body, key, nonce=nonce)
    assert replay.status_code == 409
    assert "X-Nonce" in replay.json()["message"]
    assert ImportJob.objects.count() == 1


@pytest.mark.parametrize("ts_offset", [-301, 301])
def test_a_stale_or_future_timestamp_is_refused(key: str, people: list[Person], ts_offset: int) -> None:
    response = push(jsonl([car_row(people[0], "V1")]), key, ts=int(time.time()) + ts_offset)
    assert response.status_code == 401 and ImportJob.objects.count() == 0


def test_wrong_revoked_and_missing_keys_get_the_same_401(key: str, people: list[Person]) -> None:
    body = jsonl([car_row(people[0], "V1")])
    prefix = key.split(".")[0]
    forged = push(body, prefix + ".not-the-secret")
    unknown = push(body, "pkdeadbeef00.whatever")
    missing = Client().post(URL, data=body, content_type="application/x-ndjson")
    call_command("pool_push_key", "revoke", prefix)
    revoked = push(body, key)
    answers = {(r.status_code, r.json()["message"]) for r in (forged, unknown, missing, revoked)}
    assert len(answers) == 1 and next(iter(answers))[0] == 401
    assert ImportJob.objects.count() == 0


def test_a_key_pushes_only_its_own_categories(key: str, people: list[Person], police: Any) -> None:
    row = {"id_number": people[0].id_number, "record_id": "H1", "effective_date": days_ago(1)}
    response = push(jsonl([row]), key, url="/api/v1/pool/hukou/records/")
    assert response.status_code == 403 and ImportJob.objects.count() == 0
    with pytest.raises(ApplicationError) as refused:
        push_key_issue(actor="test", department_code="traffic_police", categories=["hukou"])
    assert refused.value.extra == {"fields": {"categories": "hukou"}}


def test_malformed_lines_refuse_the_batch_naming_each_line(key: str, people: list[Person]) -> None:
    body = jsonl([car_row(people[0], "V1")]) + b"{not json\n" + json.dumps({"colour": "red"}).encode() + b"\n"
    response = push(body, key)
    assert response.status_code == 400
    assert [line["line"] for line in response.json()["extra"]["lines"]] == [2, 3]
    assert ImportJob.objects.count() == 0


def test_another_departments_job_is_404_like_a_missing_one(key: str, people: list[Person]) -> None:
    job = run(push(jsonl([car_row(people[0], "V1")]), key))
    f.DepartmentFactory(code="public_security", name="县公安局", short_name="公安")
    other = push_key_issue(actor="test", department_code="public_security", categories=[]).plain
    theirs = Client().get(f"/api/v1/pool/jobs/{job.pk}/", **headers(other))
    missing = Client().get(f"/api/v1/pool/jobs/{job.pk + 999}/", **headers(other))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_rotation_prints_a_new_key_once_and_stops_the_old(
    key: str, people: list[Person], capsys: Any
) -> None:
    call_command("pool_push_key", "rotate", key.split(".")[0])
    out = capsys.readouterr().out
    new = out.rsplit(" ", 1)[-1].strip()
    assert new.startswith("pk") and new != key
    assert push(jsonl([car_row(people[0], "V1")]), key).status_code == 401
    assert push(jsonl([car_row(people[0], "V1")]), new).status_code == 202
    stored = PushKey.objects.values_list("key_hash", flat=True)
    assert all(new not in h and key not in h for h in stored)
    assert PushKey.objects.filter(revoked_at__isnull=True).count() == 1


def test_the_key_admin_is_the_coordinators_alone(key: str, personas: Any, login: Any) -> None:
    listing = "/admin/eligibility/pushkey/"
    page = login(personas.coordinator).get(listing)
    assert page.status_code == 200
    html = page.content.decode()
    assert key.split(".")[0] in html and key.split(".")[1] not in html  # the prefix, never the secret
    for persona in (personas.assistant_a, personas.dept_civil, personas.auditor):
        assert login(persona).get(listing).status_code == 403
    assert login(personas.org_member_1).get(listing).status_code == 302  # not staff: the admin's login
    pk = PushKey.objects.get().pk
    assert login(personas.assistant_a).get(f"{listing}{pk}/change/").status_code in (403, 404)
    response = login(personas.coordinator).post(
        listing, {"action": "revoke", "_selected_action": [pk]}, follow=True
    )
    assert response.status_code == 200
    assert PushKey.objects.get().revoked_at is not None
    assert AuditEvent.objects.filter(action="pool.push_key.revoke", actor=personas.coordinator).exists()


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"\xff\xfe\x00bad\n", "application/x-ndjson", 400),  # not UTF-8
        (b"[1, 2]\n", "application/x-ndjson", 400),  # not an object
        (b'{"id_number": {"nested": 1}}\n', "application/x-ndjson", 400),  # not plain values
        (b"id_number,record_id\n", "application/xml", 415),
    ],
)
def test_bad_bodies_get_a_clear_4xx_and_import_nothing(
    key: str, body: bytes, content_type: str, status: int
) -> None:
    response = push(body, key, content_type=content_type)
    assert response.status_code == status
    assert response.json()["message"]
    assert ImportJob.objects.count() == 0
