"""纠错/举报: anyone reports on a public need or project page; it reaches the centre with a deadline of
5 working days; the coordinator closes it with an answer; nobody else sees the list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client

from assist_center.models import AuditEvent
from charity.models import Organisation, Project, PublicReport

from . import funds_builders as b
from .helpers import draft_need, visible_need

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/charity/publicreport/"
CST = dt.timezone(dt.timedelta(hours=8))


def _report(client: Client, subject: str, ref: str, **data: Any) -> Any:
    return client.post(
        f"/charity/report/{subject}/{ref}/", {"kind": "error", "text": "金额写错了，应为300元。", **data}
    )


@pytest.mark.parametrize(
    "submitted, due",
    [
        # Friday: the next week's Friday.
        (dt.datetime(2026, 11, 6, 9), dt.date(2026, 11, 13)),
        # Before the National Day week: 8, 9, Sat 10 Oct (a make-up working day), 12 and 13 Oct.
        (dt.datetime(2026, 9, 30, 9), dt.date(2026, 10, 13)),
    ],
)
def test_a_report_on_a_public_need_reaches_the_centre_with_a_five_working_day_deadline(
    personas: Any, county_map: Any, login: Any, submitted: dt.datetime, due: dt.date
) -> None:
    with time_machine.travel(submitted.replace(tzinfo=CST), tick=False):
        need = visible_need(personas.coordinator, county_map.village_a1)
        page = Client().get(f"/charity/needs/{need.public_id}/").content.decode()
        assert f"/charity/report/need/{need.public_id}/" in page
        r = _report(Client(), "need", need.public_id, contact="13800138000")
        assert r.status_code == 200 and "5个工作日内处理" in r.content.decode()
        (report,) = PublicReport.objects.all()
        assert (report.subject_kind, report.subject_ref, report.kind, report.status) == (
            "need",
            need.public_id,
            "error",
            "open",
        )
        assert report.due_on == due and report.text == "金额写错了，应为300元。"
        assert AuditEvent.objects.filter(action="charity.report", subject_id=str(report.pk)).count() == 1
        listing = login(personas.coordinator).get(CHANGELIST).content.decode()
        assert need.public_id in listing and due.isoformat() in listing and "已超期" not in listing
    with time_machine.travel(dt.datetime.combine(due + dt.timedelta(days=1), dt.time(9), CST), tick=False):
        assert "已超期" in login(personas.coordinator).get(CHANGELIST).content.decode()


def test_the_coordinator_closes_a_report_with_an_answer(personas: Any, county_map: Any, login: Any) -> None:
    need = visible_need(personas.coordinator, county_map.village_a1)
    _report(Client(), "need", need.public_id, kind="abuse", text="该组织收了家属的钱。")
    report = PublicReport.objects.get()
    url = f"{CHANGELIST}{report.pk}/change/"
    client = login(personas.coordinator)
    page = client.get(url).content.decode()
    assert "该组织收了家属的钱。" in page

    r = client.post(url, {"answer": "  "})
    assert r.status_code == 200 and "请填写处理结果" in r.content.decode()
    assert PublicReport.objects.get().status == PublicReport.Status.OPEN

    r = client.post(url, {"answer": "已约谈该组织并暂停其认领，款项已退还。"})
    assert r.status_code == 302
    report.refresh_from_db()
    assert report.status == PublicReport.Status.CLOSED and report.handled_by == personas.coordinator
    assert report.answer == "已约谈该组织并暂停其认领，款项已退还。" and report.closed_at is not None
    event = AuditEvent.objects.get(action="charity.report_close", subject_id=str(report.pk))
    assert event.actor == personas.coordinator
    # Closed is closed: the answer is read-only now.
    assert client.get(url).status_code == 200
    assert client.post(url, {"answer": "改写"}).status_code == 403
    assert PublicReport.objects.get().answer == "已约谈该组织并暂停其认领，款项已退还。"


def test_the_report_list_is_the_coordinators_alone(personas: Any, county_map: Any, login: Any) -> None:
    need = visible_need(personas.coordinator, county_map.village_a1)
    _report(Client(), "need", need.public_id)
    report = PublicReport.objects.get()
    change = f"{CHANGELIST}{report.pk}/change/"
    assert login(personas.coordinator).get(CHANGELIST).status_code == 200
    for persona in ("assistant_a", "assistant_b", "cadre_a1", "dept_civil", "auditor"):
        client = login(getattr(personas, persona))
        assert client.get(CHANGELIST).status_code == 403, persona
        assert client.get(change).status_code == 404, persona
        assert client.post(change, {"answer": "x"}).status_code == 404, persona
    for persona in ("org_member_1", "anonymous"):
        r = login(getattr(personas, persona)).get(change)
        assert r.status_code == 302 and r["Location"].startswith("/admin/login/"), persona
    assert PublicReport.objects.get().status == PublicReport.Status.OPEN
    # No adding or deleting reports by hand.
    assert login(personas.coordinator).get(f"{CHANGELIST}add/").status_code == 403
    assert login(personas.coordinator).post(f"{CHANGELIST}{report.pk}/delete/").status_code == 403


def test_a_project_report_needs_a_public_project_and_anything_else_is_a_404(
    personas: Any, county_map: Any
) -> None:
    org = Organisation.objects.get(members=personas.org_member_1)
    shown = b.project(coordinator=personas.coordinator, member=personas.org_member_1, organisation=org)
    draft = b.project(
        coordinator=personas.coordinator,
        member=personas.org_member_1,
        organisation=org,
        status=Project.Status.DRAFT,
        title="草稿项目",
    )
    hidden = draft_need(personas.coordinator, county_map.village_a1)
    assert _report(Client(), "project", shown.public_id).status_code == 200
    for subject, ref in (
        ("project", draft.public_id),
        ("project", "no-such-project"),
        ("need", hidden.public_id),
        ("need", str(hidden.pk)),
        ("household", "1"),
    ):
        assert Client().get(f"/charity/report/{subject}/{ref}/").status_code == 404, (subject, ref)
        assert _report(Client(), subject, ref).status_code == 404, (subject, ref)
    assert list(PublicReport.objects.values_list("subject_kind", "subject_ref")) == [
        ("project", shown.public_id)
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"kind": ""}, "请选择：信息有误或举报违规"),
        ({"kind": "praise"}, "请选择：信息有误或举报违规"),
        ({"text": ""}, "请写明情况"),
        ({"text": "   "}, "请写明情况"),
        ({"text": "x" * 1001}, "情况说明最多1000字"),
        ({"text": "有误\x00"}, "纯文本"),
        ({"contact": "1" * 65}, "联系方式最多64个字符"),
    ],
)
def test_bad_input_is_refused_in_chinese(
    personas: Any, county_map: Any, data: dict[str, str], message: str
) -> None:
    need = visible_need(personas.coordinator, county_map.village_a1)
    r = _report(Client(), "need", need.public_id, **data)
    assert r.status_code == 400 and message in r.content.decode()
    assert not PublicReport.objects.exists()


def test_one_address_is_limited_to_ten_reports_an_hour(personas: Any, county_map: Any) -> None:
    need = visible_need(personas.coordinator, county_map.village_a1)
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(10):
        assert _report(client, "need", need.public_id).status_code == 200
    r = _report(client, "need", need.public_id)
    assert r.status_code == 429 and "提交太频繁" in r.content.decode()
    assert PublicReport.objects.count() == 10
    assert _report(Client(REMOTE_ADDR="203.0.113.8"), "need", need.public_id).status_code == 200
