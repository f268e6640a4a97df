"""浙政钉 / DingTalk robot notices: signed, once each, within the robot's rate limit, no personal data.

The robot is a real HTTP server on loopback that checks the signature the way the platform does
(HMAC-SHA256 of "<timestamp>\\n<secret>", base64, in the query) and answers like it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from assist_center.models import AuditEvent
from referrals.models import WorkChannel, WorkNotice
from referrals.services import work_notices
from referrals.services.sweep import colour_sweep
from referrals.services.work_notices import work_notice_queue, work_notice_retry_due, work_notice_send

from .test_sweep import D, _open

pytestmark = pytest.mark.django_db

SECRET = "SEC" + "0123456789abcdef" * 4
TOKEN = "a1b2c3d4e5f6"
SUMMARY = {"red": 1, "yellow": 2, "blue": 3}


@dataclass
class Robot:
    """What the fake platform received, and what it answers next."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    status: int = 200
    delay: float = 0.0


@pytest.fixture
def robot() -> Iterator[Robot]:
    state: Robot

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            time.sleep(state.delay)
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            ts = query["timestamp"][0]
            expected = base64.b64encode(
                hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
            ).decode()
            fresh = abs(int(ts) / 1000 - time.time()) < 3600
            signed = query.get("sign", [""])[0] == expected and query["access_token"] == [TOKEN]
            state.received.append({"body": body, "signed": signed, "fresh": fresh})
            answer = state.answer if signed else {"errcode": 310000, "errmsg": "sign not match"}
            payload = json.dumps(answer).encode()
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except BrokenPipeError:
                pass  # the client timed out first (the timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Robot(url=f"http://127.0.0.1:{server.server_address[1]}/robot/send?access_token={TOKEN}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def channel(county_map: Any, robot: Robot) -> WorkChannel:
    return WorkChannel.objects.create(
        department=county_map.dept_civil, label="民政局工作群", webhook_url=robot.url, secret=SECRET
    )


def queue(channel: WorkChannel, key: str = "k1") -> WorkNotice:
    return work_notice_queue(
        channel=channel, template="deadline_summary", params=SUMMARY, idempotency_key=key
    )


def test_a_notice_is_signed_sent_once_and_says_only_the_counts(channel: WorkChannel, robot: Robot) -> None:
    notice = queue(channel)
    assert work_notice_send(notice_id=notice.pk) == "sent"
    assert work_notice_send(notice_id=notice.pk) == "done"  # a redelivered task sends nothing
    assert queue(channel).pk == notice.pk  # the same key queues nothing new
    assert len(robot.received) == 1
    got = robot.received[0]
    assert got["signed"] and got["fresh"]
    assert got["body"] == {
        "msgtype": "text",
        "text": {"content": "您单位有新的帮扶事项预警：红色1件、黄色2件、蓝色3件，请登录工作台及时办理。"},
    }
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == ("sent", 1) and notice.sent_at is not None


def test_personal_data_cannot_be_put_in_a_notice(channel: WorkChannel) -> None:
    with pytest.raises(ValueError, match="ID number or a phone"):
        work_notice_queue(
            channel=channel,
            template="deadline_summary",
            params={"red": "13800138000", "yellow": 0, "blue": 0},
            idempotency_key="k-pii",
        )
    assert not WorkNotice.objects.exists()


def test_the_robots_twenty_a_minute_limit_defers_the_rest_to_the_retry_sweep(
    channel: WorkChannel, robot: Robot
) -> None:
    notices = [queue(channel, f"k{n}") for n in range(22)]
    results = [work_notice_send(notice_id=n.pk) for n in notices]
    assert results == ["sent"] * 20 + ["deferred"] * 2
    assert len(robot.received) == 20
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
        assert work_notice_retry_due() == 2
        assert [work_notice_send(notice_id=n.pk) for n in notices[20:]] == ["sent", "sent"]
    assert WorkNotice.objects.filter(status="sent").count() == 22


def test_a_rate_limit_answer_is_tried_again_and_a_wrong_secret_is_not(
    channel: WorkChannel, robot: Robot
) -> None:
    robot.answer = {"errcode": 130101, "errmsg": "send too fast"}
    notice = queue(channel)
    assert work_notice_send(notice_id=notice.pk) == "deferred"
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.last_error) == ("pending", 1, "errcode 130101")
    assert notice.next_attempt_at is not None

    WorkChannel.objects.filter(pk=channel.pk).update(secret="SECwrong")
    other = queue(WorkChannel.objects.get(pk=channel.pk), "k2")
    assert work_notice_send(notice_id=other.pk) == "failed"
    other.refresh_from_db()
    assert (other.status, other.last_error) == ("failed", "errcode 310000")


def test_a_server_error_and_a_timeout_are_temporary_and_give_up_after_the_last_attempt(
    channel: WorkChannel, robot: Robot, monkeypatch: Any
) -> None:
    robot.status = 503
    notice = queue(channel)
    assert work_notice_send(notice_id=notice.pk) == "deferred"
    robot.status, robot.delay = 200, 0.6
    monkeypatch.setattr(work_notices, "TIMEOUT_SECONDS", 0.2)
    for _ in range(work_notices.MAX_ATTEMPTS - 2):
        assert work_notice_send(notice_id=notice.pk) == "deferred"
    assert work_notice_send(notice_id=notice.pk) == "failed"
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == ("failed", work_notices.MAX_ATTEMPTS)


def test_the_colour_sweep_tells_the_departments_group_once_per_change(
    county_map: Any, personas: Any, channel: WorkChannel, robot: Robot
) -> None:
    _open(county_map, personas, n=2)
    for day in (D(2026, 10, 8), D(2026, 10, 8), D(2026, 10, 9)):
        colour_sweep(today=day)
    notices = list(WorkNotice.objects.order_by("pk").values_list("channel_id", "template", "params"))
    assert notices == [
        (channel.pk, "deadline_summary", {"red": "0", "yellow": "0", "blue": "2"}),
        (channel.pk, "deadline_summary", {"red": "0", "yellow": "2", "blue": "0"}),
    ]
    for pk in WorkNotice.objects.values_list("pk", flat=True):
        work_notice_send(notice_id=pk)
    assert [r["body"]["text"]["content"].split("：", 1)[1] for r in robot.received] == [
        "红色0件、黄色0件、蓝色2件，请登录工作台及时办理。",
        "红色0件、黄色2件、蓝色0件，请登录工作台及时办理。",
    ]


def test_the_coordinator_sets_up_a_channel_whose_secrets_are_never_shown_or_audited(
    county_map: Any, personas: Any, login: Any
) -> None:
    client = login(personas.coordinator)
    add = "/admin/referrals/workchannel/add/"
    form = {
        "department": county_map.dept_civil.pk,
        "kind": "dingtalk_robot",
        "label": "民政局工作群",
        "webhook_url": f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}",
        "secret": SECRET,
        "active": "on",
    }
    both = client.post(add, {**form, "township": county_map.town_a.pk})
    assert both.status_code == 200 and not WorkChannel.objects.exists()
    assert client.post(add, form).status_code == 302
    saved = WorkChannel.objects.get()
    assert (saved.secret, saved.webhook_url) == (SECRET, form["webhook_url"])
    page = client.get(f"/admin/referrals/workchannel/{saved.pk}/change/").content.decode()
    assert SECRET not in page and TOKEN not in page
    # A blank secret keeps the stored one.
    kept = {**form, "webhook_url": "", "secret": "", "label": "民政局值班群"}
    assert client.post(f"/admin/referrals/workchannel/{saved.pk}/change/", kept).status_code == 302
    saved.refresh_from_db()
    assert (saved.secret, saved.label) == (SECRET, "民政局值班群")
    audits = json.dumps(
        list(AuditEvent.objects.filter(action__startswith="admin.workchannel").values()), default=str
    )
    assert SECRET not in audits and TOKEN not in audits
    for persona in (personas.assistant_a, personas.dept_civil):
        assert login(persona).get("/admin/referrals/workchannel/").status_code == 403


def test_a_townships_robot_hears_of_the_exits_ending_soon_once(county_map: Any, robot: Robot) -> None:
    from benefits.services.sweeps import grace_reminder_sweep
    from tests.benefits.test_sweeps import at, exiting

    group = WorkChannel.objects.create(
        township=county_map.town_a, label="海游街道社会事务办", webhook_url=robot.url, secret=SECRET
    )
    exiting(county_map, dt.date(2026, 10, 12))
    exiting(county_map, dt.date(2026, 10, 12), county_map.village_b1)  # another township: not told
    with time_machine.travel(at(dt.date(2026, 9, 30)), tick=False):
        assert grace_reminder_sweep() == 2
        assert grace_reminder_sweep() == 0
    notice = WorkNotice.objects.get()
    assert (notice.channel, notice.template, notice.params) == (
        group,
        "grace_ending",
        {"count": "1", "date": "2026-10-12"},
    )
    assert work_notice_send(notice_id=notice.pk) == "sent"
    assert robot.received[0]["signed"]
