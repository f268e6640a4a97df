"""The provincial check adapter against a fake provincial server on loopback that speaks its protocol.

The server checks the HMAC signature as the province would and answers, times out or fails on
command. What matters: the answer becomes another source of the report (department "province"),
attempts and time are bounded, and a province that does not answer never touches the local report.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assist_center.models import AuditEvent, OutboxMessage
from eligibility import tasks
from eligibility.models import PoolRecord, ProvinceCheck
from eligibility.services.province import province_check_run
from tests.eligibility.db import publish_demo_standards
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

SECRET = "province-test-secret"


@dataclass
class FakeProvince:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0


@pytest.fixture
def province(settings: Any) -> Iterator[FakeProvince]:
    state: FakeProvince

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ts = self.headers["X-Timestamp"]
            expected = hmac.new(SECRET.encode(), f"{ts}\n".encode() + body, hashlib.sha256).hexdigest()
            request = json.loads(body)
            state.requests.append({"signed": self.headers["X-Signature"] == expected, "body": request})
            time.sleep(state.delay)
            answer = json.dumps({"request_id": request["request_id"], "records": state.records}).encode()
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except BrokenPipeError:
                pass  # the adapter gave up first (the timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = FakeProvince(url=f"http://127.0.0.1:{server.server_address[1]}/api/checks")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.PROVINCE_BACKEND = "eligibility.province.HttpProvince"
    settings.PROVINCE_CHECK_URL = state.url
    settings.PROVINCE_CHECK_SECRET = SECRET
    settings.PROVINCE_CHECK_TIMEOUT = 0.5
    settings.PROVINCE_CHECK_ATTEMPTS = 3
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def application(county_map: Any) -> Any:
    publish_demo_standards(county_map.county)
    return ApplicationFactory.create(verified=True, village=county_map.village_a1, needs=["dibao"])


def test_the_provinces_answer_is_a_second_source_of_a_new_report(
    application: Any, province: FakeProvince
) -> None:
    local = application.reports.get()
    province.records = [
        {
            "member": "m1",
            "category": "deposit",
            "record_id": "ZJ-DEP-1",
            "effective_date": "2026-11-30",
            "balance": "900000.00",
            "bank": "省农信",
        }
    ]
    check = province_check_run(application_id=application.pk)
    assert check is not None
    assert (check.status, check.records, check.attempts) == ("answered", 1, 1)
    sent = province.requests[0]
    assert sent["signed"]
    assert [m["ref"] for m in sent["body"]["members"]] == [
        f"m{m.position + 1}" for m in application.members.order_by("position")
    ]
    stored = PoolRecord.objects.get(department="province")
    assert stored.category == "deposit" and stored.source_record_id.startswith("PROV:")
    assert stored.data["balance"] == "900000.00"
    report = check.report
    assert report is not None and report.trigger == "province"
    assets = report.facts["financial_assets"]
    assert assets["value"] == "900000.00"
    assert [(s["department"], s["category"]) for s in assets["sources"]] == [("province", "deposit")]
    local.refresh_from_db()
    assert local.facts["financial_assets"]["sources"] == []  # the first report is kept as it was
    assert AuditEvent.objects.filter(action="verification.province", subject_id=str(application.pk)).exists()
    # A redelivered task asks nothing twice.
    assert province_check_run(application_id=application.pk) == check
    assert len(province.requests) == 1


def test_a_silent_province_costs_bounded_attempts_and_leaves_the_local_report(
    application: Any, province: FakeProvince
) -> None:
    province.delay = 2.0
    started = time.monotonic()
    check = province_check_run(application_id=application.pk)
    elapsed = time.monotonic() - started
    assert check is not None
    assert (check.status, check.attempts, check.report) == ("unreachable", 3, None)
    assert elapsed < 3 * 0.5 + 2.0  # three 0.5 s attempts and their pauses, never the 2 s answer
    assert application.reports.count() == 1
    assert not PoolRecord.objects.filter(department="province").exists()


def test_a_server_error_is_retried_and_a_refusal_is_not(application: Any, province: FakeProvince) -> None:
    province.status = 503
    check = province_check_run(application_id=application.pk)
    assert check is not None and (check.status, check.attempts) == ("unreachable", 3)
    assert len(province.requests) == 3
    ProvinceCheck.objects.all().delete()
    province.status, province.requests = 400, []
    check = province_check_run(application_id=application.pk)
    assert check is not None and (check.status, check.attempts, check.error) == ("failed", 1, "HTTP 400")
    assert len(province.requests) == 1


def test_a_record_that_breaks_the_field_rules_refuses_the_whole_answer(
    application: Any, province: FakeProvince
) -> None:
    province.records = [
        {
            "member": "m1",
            "category": "deposit",
            "record_id": "A",
            "effective_date": "2026-11-30",
            "balance": "1",
        },
        {
            "member": "m1",
            "category": "deposit",
            "record_id": "B",
            "effective_date": "2026-11-30",
            "balance": "x",
        },
    ]
    check = province_check_run(application_id=application.pk)
    assert check is not None and check.status == "failed" and "record 2" in check.error
    assert not PoolRecord.objects.filter(department="province").exists()
    assert application.reports.count() == 1


def test_off_by_default_and_queued_after_the_local_report_when_on(
    county_map: Any, settings: Any, province: FakeProvince
) -> None:
    publish_demo_standards(county_map.county)
    settings.PROVINCE_BACKEND = ""
    off = ApplicationFactory.create(authorised=True, village=county_map.village_a1)
    tasks.application_verify(off.pk)
    assert province_check_run(application_id=off.pk) is None
    assert not OutboxMessage.objects.filter(task_name=tasks.PROVINCE_TASK).exists()
    settings.PROVINCE_BACKEND = "eligibility.province.HttpProvince"
    on = ApplicationFactory.create(authorised=True, village=county_map.village_a1)
    tasks.application_verify(on.pk)
    assert on.reports.count() == 1  # the local report first, without waiting for the province
    queued = OutboxMessage.objects.get(task_name=tasks.PROVINCE_TASK)
    assert queued.kwargs == {"application_id": on.pk}
    assert province.requests == []
