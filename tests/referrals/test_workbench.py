"""The department workbench through HTTP: scope, filters, order, every action, races, notifications."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assist_center.models import AuditEvent, Region
from referrals.colours import colour_for
from referrals.models import Case, Colour, Notification, Referral, ReferralOutcome
from tests.factories import ApplicationFactory, applicant

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Friday 13 November 2026, an ordinary working week: a 2-day referral started on Wednesday the
# 11th is due today (yellow).
TODAY = dt.date(2026, 11, 13)
NOW = dt.datetime(2026, 11, 13, 10, 0, tzinfo=SHANGHAI)
CONFLICT = "该转办已被他人处理，请刷新"


def make_referral(
    *,
    village: Region,
    department: Any,
    items: list[str],
    due: dt.date = TODAY,
    today: dt.date = TODAY,
    allotted: int = 2,
    status: str = Referral.Status.PENDING,
    case: Case | None = None,
    colour: str | None = None,
) -> Referral:
    """A referral written straight to the database, its colour computed by the real rule."""
    if case is None:
        # Decided with every item refused, so that the decision opened no case of its own.
        application = ApplicationFactory.create(
            village=village,
            people=[applicant(name="王秀英", birth=dt.date(1980, 3, 1))],
            needs=items,
            approve=[],
            decided=True,
        )
        assert village.township is not None
        case = Case.objects.create(application=application, township=village.township, village=village)
    running = status in Referral.CLOCK_STATUSES
    referral = Referral.objects.create(
        case=case,
        department=department,
        township=case.township,
        items=items,
        brief={"applicant_name": "王秀英", "village": village.name, "items": [], "contact": False},
        status=status,
        allotted_days=allotted,
        start_date=due - dt.timedelta(days=2),
        due_date=due,
        colour=colour
        or (colour_for(allotted=allotted, due_date=due, today=today) if running else Colour.NONE),
        paused_since=today if status == Referral.Status.INFO_REQUESTED else None,
    )
    return referral


def events(referral: Referral, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            subject_type="referrals.referral", subject_id=str(referral.pk), action=action
        )
    )


def rows_in(html: str) -> list[int]:
    """Referral ids in the order the list shows them."""
    return [int(m) for m in re.findall(r'data-referral="(\d+)"', html)]


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def two_departments(county_map: Any, personas: Any, clock: Any) -> dict[str, Referral]:
    c = county_map
    return {
        "civil": make_referral(village=c.village_a1, department=c.dept_civil, items=["dibao"]),
        "medical": make_referral(village=c.village_a1, department=c.dept_medical, items=["medical"]),
        "medical_b": make_referral(village=c.village_b1, department=c.dept_medical, items=["medical"]),
    }


# --- who sees what -----------------------------------------------------------------------------


def test_department_staff_see_only_their_departments_referrals(
    login: Any, personas: Any, two_departments: dict[str, Referral]
) -> None:
    r = two_departments
    page = login(personas.dept_medical).get(reverse("workbench"))
    assert page.status_code == 200
    assert sorted(rows_in(page.content.decode())) == sorted([r["medical"].pk, r["medical_b"].pk])
    assert "no-store" in page["Cache-Control"]
    page = login(personas.dept_civil).get(reverse("workbench"))
    assert rows_in(page.content.decode()) == [r["civil"].pk]


def test_another_departments_referral_is_404_on_every_page_and_action(
    login: Any, personas: Any, two_departments: dict[str, Referral]
) -> None:
    civil = two_departments["civil"]
    client = login(personas.dept_medical)
    assert client.get(reverse("workbench-referral", args=[civil.pk])).status_code == 404
    assert client.get(reverse("workbench-referral", args=[999999])).status_code == 404
    for name in ("accept", "request-info", "return", "complete"):
        response = client.post(reverse(f"workbench-referral-{name}", args=[civil.pk]), {"question": "x"})
        assert response.status_code == 404, name
    civil.refresh_from_db()
    assert civil.status == Referral.Status.PENDING
    # A township assistant of the other township: 404 as well, on the page and the centre's actions.
    other = login(personas.assistant_b)
    assert other.get(reverse("workbench-referral", args=[civil.pk])).status_code == 404
    for name in ("answer-info", "reassign", "extend"):
        assert other.post(reverse(f"workbench-referral-{name}", args=[civil.pk]), {}).status_code == 404, name


def test_township_assistant_sees_own_township_and_coordinator_sees_all(
    login: Any, personas: Any, two_departments: dict[str, Referral]
) -> None:
    r = two_departments
    page = login(personas.assistant_a).get(reverse("workbench") + "?status=all")
    assert sorted(rows_in(page.content.decode())) == sorted([r["civil"].pk, r["medical"].pk])
    page = login(personas.coordinator).get(reverse("workbench") + "?status=all")
    assert sorted(rows_in(page.content.decode())) == sorted(x.pk for x in r.values())


def test_roles_without_referrals_get_403_and_anonymous_goes_to_login(
    login: Any, personas: Any, two_departments: dict[str, Referral]
) -> None:
    civil = two_departments["civil"]
    for persona in (personas.auditor, personas.cadre_a1, personas.org_member_1):
        client = login(persona)
        assert client.get(reverse("workbench")).status_code == 403
        assert client.get(reverse("workbench-referral", args=[civil.pk])).status_code == 403
    response = Client().get(reverse("workbench"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_read_only_centre_roles_get_403_on_department_actions(
    login: Any, personas: Any, two_departments: dict[str, Referral]
) -> None:
    civil = two_departments["civil"]
    # The coordinator sees the referral but does not act for the department.
    response = login(personas.coordinator).post(reverse("workbench-referral-accept", args=[civil.pk]))
    assert response.status_code == 403
    # Department staff do not reassign or extend (the centre's actions).
    client = login(personas.dept_civil)
    for name in ("reassign", "extend", "answer-info", "cancel"):
        assert client.post(reverse(f"workbench-referral-{name}", args=[civil.pk]), {}).status_code == 403, (
            name
        )
    # The cancel is the coordinator's alone: an assistant in scope gets 403 too.
    response = login(personas.assistant_a).post(
        reverse("workbench-referral-cancel", args=[civil.pk]), {"reason": "不需要"}
    )
    assert response.status_code == 403
    civil.refresh_from_db()
    assert civil.status == Referral.Status.PENDING


# --- the list ----------------------------------------------------------------------------------


def test_list_puts_red_first_then_yellow_blue_none_then_the_earliest_due(
    login: Any, personas: Any, county_map: Any, clock: Any
) -> None:
    c = county_map
    v, d = c.village_a1, c.dept_civil
    none_late = make_referral(village=v, department=d, items=["dibao"], due=dt.date(2026, 11, 27), allotted=8)
    none_early = make_referral(
        village=v, department=d, items=["dibao"], due=dt.date(2026, 11, 25), allotted=8
    )
    blue = make_referral(village=v, department=d, items=["dibao"], due=dt.date(2026, 11, 16))
    yellow = make_referral(village=v, department=d, items=["dibao"], due=TODAY)
    red_late = make_referral(village=v, department=d, items=["dibao"], due=dt.date(2026, 11, 12))
    red_early = make_referral(village=v, department=d, items=["dibao"], due=dt.date(2026, 11, 10))
    assert [x.colour for x in (none_late, blue, yellow, red_late)] == ["none", "blue", "yellow", "red"]
    html = login(personas.dept_civil).get(reverse("workbench")).content.decode()
    assert rows_in(html) == [red_early.pk, red_late.pk, yellow.pk, blue.pk, none_early.pk, none_late.pk]
    # The colour is written, not only painted; the due date is there with the working days left.
    assert "今日到期" in html
    assert "2026-11-16" in html


def test_filters_by_status_and_colour_and_hides_finished_by_default(
    login: Any, personas: Any, county_map: Any, clock: Any
) -> None:
    c = county_map
    v, d = c.village_a1, c.dept_civil
    yellow = make_referral(village=v, department=d, items=["dibao"], due=TODAY)
    red = make_referral(village=v, department=d, items=["dibao"], due=dt.date(2026, 11, 10))
    accepted = make_referral(
        village=v, department=d, items=["dibao"], due=dt.date(2026, 11, 10), status=Referral.Status.ACCEPTED
    )
    done = make_referral(village=v, department=d, items=["dibao"], status=Referral.Status.COMPLETED)
    client = login(personas.dept_civil)
    url = reverse("workbench")
    assert sorted(rows_in(client.get(url).content.decode())) == sorted([yellow.pk, red.pk, accepted.pk])
    assert rows_in(client.get(url, {"colour": "yellow"}).content.decode()) == [yellow.pk]
    assert sorted(rows_in(client.get(url, {"colour": "red"}).content.decode())) == sorted(
        [red.pk, accepted.pk]
    )
    assert rows_in(client.get(url, {"status": "accepted"}).content.decode()) == [accepted.pk]
    assert rows_in(client.get(url, {"status": "completed"}).content.decode()) == [done.pk]
    assert len(rows_in(client.get(url, {"status": "all"}).content.decode())) == 4
    # A value that is not a choice: an error note, and the default list rather than a 500.
    bad = client.get(url, {"colour": "<script>"})
    assert bad.status_code == 200
    assert "<script>" not in bad.content.decode()


def test_provisional_due_date_is_marked(login: Any, personas: Any, county_map: Any, clock: Any) -> None:
    r = make_referral(village=county_map.village_a1, department=county_map.dept_civil, items=["dibao"])
    Referral.objects.filter(pk=r.pk).update(provisional=True)
    html = login(personas.dept_civil).get(reverse("workbench")).content.decode()
    assert "暂定" in html


def test_list_query_count_does_not_grow_with_the_rows(
    login: Any, personas: Any, county_map: Any, clock: Any
) -> None:
    c = county_map
    client = login(personas.dept_civil)
    make_referral(village=c.village_a1, department=c.dept_civil, items=["dibao"])
    client.get(reverse("workbench"))  # warm the calendar and the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("workbench")).status_code == 200
    for n in range(8):
        make_referral(
            village=c.village_a2 if n % 2 else c.village_a1,
            department=c.dept_civil,
            items=["dibao", "temporary"],
            due=TODAY + dt.timedelta(days=n),
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("workbench"))
    assert len(rows_in(response.content.decode())) == 9
    assert len(many) == len(few)
    assert len(many) <= 10


def test_notifications_are_shown_once_to_the_department_then_marked_read(
    login: Any, personas: Any, two_departments: dict[str, Referral]
) -> None:
    civil = two_departments["civil"]
    medical = two_departments["medical"]
    mine = Notification.objects.create(
        referral=civil, audience="department", department=civil.department, colour=Colour.YELLOW
    )
    theirs = Notification.objects.create(
        referral=medical, audience="department", department=medical.department, colour=Colour.YELLOW
    )
    client = login(personas.dept_civil)
    first = client.get(reverse("workbench")).content.decode()
    assert "rw-notices" in first and civil.case.application.receipt_code in first
    assert medical.case.application.receipt_code not in first
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None
    assert "rw-notices" not in client.get(reverse("workbench")).content.decode()
    assert (
        AuditEvent.objects.filter(action="referral_notifications_read", actor=personas.dept_civil).count()
        == 1
    )


# --- one referral and its actions ----------------------------------------------------------------


def test_detail_shows_the_brief_items_deadline_and_history(
    login: Any, personas: Any, two_departments: dict[str, Referral]
) -> None:
    civil = two_departments["civil"]
    html = login(personas.dept_civil).get(reverse("workbench-referral", args=[civil.pk])).content.decode()
    assert "王秀英" in html  # the brief
    assert "最低生活保障" in html  # the item, in Chinese
    assert "2026-11-13" in html and "今日到期" in html
    assert f'action="{reverse("workbench-referral-accept", args=[civil.pk])}"' in html
    # No inline script or style: the CSP forbids both.
    assert "<script>" not in html and "style=" not in html.split("</head>", 1)[1]


def test_accept_through_http_changes_the_status_and_writes_the_audit_event(
    login: Any, personas: Any, two_departments: dict[str, Referral]
) -> None:
    civil = two_departments["civil"]
    client = login(personas.dept_civil)
    response = client.post(reverse("workbench-referral-accept", args=[civil.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("workbench-referral", args=[civil.pk])
    civil.refresh_from_db()
    assert civil.status == Referral.Status.ACCEPTED
    assert [e.actor for e in events(civil, "referral.accept")] == [personas.dept_civil]
    page = client.get(response["Location"]).content.decode()
    assert "已接收" in page or "接收" in page


def test_a_second_accept_gets_the_409_message_not_a_500(
    login: Any, personas: Any, two_departments: dict[str, Referral]
) -> None:
    civil = two_departments["civil"]
    url = reverse("workbench-referral-accept", args=[civil.pk])
    first, second = login(personas.dept_civil), login(personas.dept_civil)
    assert first.post(url).status_code == 302
    response = second.post(url)
    assert response.status_code == 409
    assert CONFLICT in response.content.decode()
    assert len(events(civil, "referral.accept")) == 1


def test_action_urls_take_only_post_with_a_csrf_token(
    personas: Any, two_departments: dict[str, Referral]
) -> None:
    civil = two_departments["civil"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.dept_civil)
    url = reverse("workbench-referral-accept", args=[civil.pk])
    # A GET (a reload after a refused form) goes back to the referral page (issue 16).
    assert client.get(url)["Location"] == reverse("workbench-referral", args=[civil.pk])
    assert client.post(url).status_code == 403
    civil.refresh_from_db()
    assert civil.status == Referral.Status.PENDING


def test_question_pauses_the_clock_and_the_assistants_answer_moves_the_due_date(
    login: Any, personas: Any, two_departments: dict[str, Referral], clock: Any
) -> None:
    civil = two_departments["civil"]
    dept = login(personas.dept_civil)
    assert (
        dept.post(reverse("workbench-referral-request-info", args=[civil.pk]), {"question": ""}).status_code
        == 400
    )
    response = dept.post(
        reverse("workbench-referral-request-info", args=[civil.pk]), {"question": "请补充低保户口本复印件"}
    )
    assert response.status_code == 302
    civil.refresh_from_db()
    assert civil.status == Referral.Status.INFO_REQUESTED
    assert len(events(civil, "referral.request_info")) == 1
    page = login(personas.assistant_a).get(reverse("workbench-referral", args=[civil.pk])).content.decode()
    assert "请补充低保户口本复印件" in page
    assert reverse("workbench-referral-answer-info", args=[civil.pk]) in page

    clock.move_to(dt.datetime(2026, 11, 17, 9, 0, tzinfo=SHANGHAI))  # Tuesday: 2 working days paused
    response = login(personas.assistant_a).post(
        reverse("workbench-referral-answer-info", args=[civil.pk]), {"answer": "已上传"}
    )
    assert response.status_code == 302
    civil.refresh_from_db()
    assert civil.status == Referral.Status.PENDING  # answered, but still not accepted by anyone
    assert civil.due_date == dt.date(2026, 11, 17)
    assert len(events(civil, "referral.answer_info")) == 1


def test_return_needs_a_reason_code_and_goes_to_the_centre(
    login: Any, personas: Any, two_departments: dict[str, Referral]
) -> None:
    civil = two_departments["civil"]
    client = login(personas.dept_civil)
    url = reverse("workbench-referral-return", args=[civil.pk])
    bad = client.post(url, {"reason_code": "other", "note": ""})
    assert bad.status_code == 400
    assert "其他" in bad.content.decode() or "原因" in bad.content.decode()
    assert client.post(url, {"reason_code": "bogus", "note": "x"}).status_code == 400
    response = client.post(url, {"reason_code": "not_ours", "note": "应由医保局办理"})
    assert response.status_code == 302
    civil.refresh_from_db()
    assert (civil.status, civil.return_reason) == (Referral.Status.RETURNED, "not_ours")
    assert len(events(civil, "referral.return")) == 1


def _outcome_post(items: list[dict[str, str]]) -> dict[str, str]:
    data = {"outcome-TOTAL_FORMS": str(len(items)), "outcome-INITIAL_FORMS": str(len(items))}
    for n, row in enumerate(items):
        for key, value in row.items():
            data[f"outcome-{n}-{key}"] = value
    return data


def test_complete_with_an_outcome_per_item_closes_the_case(
    login: Any, personas: Any, county_map: Any, clock: Any
) -> None:
    c = county_map
    r = make_referral(
        village=c.village_a1, department=c.dept_civil, items=["dibao", "temporary"], status="accepted"
    )
    client = login(personas.dept_civil)
    url = reverse("workbench-referral-complete", args=[r.pk])
    # Granted without a benefit, refused without a reason: 400, errors in Chinese, nothing saved.
    bad = client.post(url, _outcome_post([{"granted": "yes"}, {"granted": "no"}]))
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "请说明给予的救助" in html and "请填写不予救助的原因" in html
    assert not ReferralOutcome.objects.exists()
    good = client.post(
        url,
        _outcome_post(
            [
                {
                    "granted": "yes",
                    "benefit_kind": "低保金",
                    "amount": "850.00",
                    "period": "monthly",
                    "start_date": "2026-12-01",
                },
                {"granted": "no", "reason": "已享受低保，不再重复给予临时救助"},
            ]
        ),
    )
    assert good.status_code == 302
    r.refresh_from_db()
    assert r.status == Referral.Status.COMPLETED
    outcomes = {o.item: o for o in r.outcomes.all()}
    assert outcomes["dibao"].granted and outcomes["dibao"].amount == 850
    assert outcomes["dibao"].start_date == dt.date(2026, 12, 1)
    assert not outcomes["temporary"].granted
    assert r.case.status == Case.Status.CLOSED
    r.case.refresh_from_db()
    assert r.case.status == Case.Status.CLOSED
    assert len(events(r, "referral.complete")) == 1
    page = client.get(good["Location"]).content.decode()
    assert "低保金" in page and "已结案" in page


def test_a_tampered_form_count_cannot_drop_an_item(
    login: Any, personas: Any, county_map: Any, clock: Any
) -> None:
    c = county_map
    r = make_referral(
        village=c.village_a1, department=c.dept_civil, items=["dibao", "temporary"], status="accepted"
    )
    data = _outcome_post([{"granted": "no", "reason": "不符合"}])
    data["outcome-TOTAL_FORMS"] = "1"
    response = login(personas.dept_civil).post(reverse("workbench-referral-complete", args=[r.pk]), data)
    assert response.status_code == 400
    r.refresh_from_db()
    assert r.status == Referral.Status.ACCEPTED


def test_coordinator_reassigns_and_extends_with_a_reason(
    login: Any, personas: Any, two_departments: dict[str, Referral], county_map: Any
) -> None:
    civil = two_departments["civil"]
    client = login(personas.coordinator)
    page = client.get(reverse("workbench-referral", args=[civil.pk])).content.decode()
    assert reverse("workbench-referral-extend", args=[civil.pk]) in page
    url = reverse("workbench-referral-extend", args=[civil.pk])
    assert client.post(url, {"days": "2", "reason": ""}).status_code == 400
    assert client.post(url, {"days": "2", "reason": "需入户调查"}).status_code == 302
    civil.refresh_from_db()
    assert civil.due_date == dt.date(2026, 11, 17)
    assert len(events(civil, "referral.extend")) == 1

    response = client.post(
        reverse("workbench-referral-reassign", args=[civil.pk]),
        {"department": str(county_map.dept_medical.pk), "reason": "属医保范围"},
    )
    assert response.status_code == 302
    civil.refresh_from_db()
    assert civil.status == Referral.Status.CANCELLED
    new = Referral.objects.exclude(pk=civil.pk).get(case=civil.case, department=county_map.dept_medical)
    assert response["Location"] == reverse("workbench-referral", args=[new.pk])
    assert len(events(civil, "referral.reassign")) == 1


def test_coordinator_cancels_a_returned_referral_and_the_last_one_closes_the_case(
    login: Any, personas: Any, county_map: Any, clock: Any
) -> None:
    r = make_referral(
        village=county_map.village_a1, department=county_map.dept_civil, items=["dibao"], status="returned"
    )
    client = login(personas.coordinator)
    queue = client.get(reverse("centre-queue")).content.decode()
    assert reverse("workbench-referral", args=[r.pk]) in queue
    url = reverse("workbench-referral-cancel", args=[r.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "申请人已另行获得救助"}).status_code == 302
    r.refresh_from_db()
    assert r.status == Referral.Status.CANCELLED
    assert Case.objects.get(pk=r.case_id).status == Case.Status.CLOSED
    assert len(events(r, "referral.cancel")) == 1
    # A second cancel (another tab): the 409 message, and the page shows the current state.
    again = client.post(url, {"reason": "重复提交"})
    assert again.status_code == 409
    assert CONFLICT in again.content.decode() and "中心已撤销" in again.content.decode()


def test_the_applicants_phone_is_shown_to_the_department_on_request_and_audited(
    login: Any, personas: Any, two_departments: dict[str, Referral]
) -> None:
    from applications.models import ApplicationMember

    civil = two_departments["civil"]
    Referral.objects.filter(pk=civil.pk).update(brief={**civil.brief, "contact": True})
    ApplicationMember.objects.filter(application=civil.case.application, role="applicant").update(
        phone="13900001234"
    )
    url = reverse("workbench-referral", args=[civil.pk])
    client = login(personas.dept_civil)
    page = client.get(url).content.decode()
    assert "13900001234" not in page and "?contact=1" in page
    assert not events(civil, "referral.contact_read")
    page = client.get(url, {"contact": "1"}).content.decode()
    assert "13900001234" in page
    assert len(events(civil, "referral.contact_read")) == 1
    # The township assistant sees the referral but gets no phone through this page.
    page = login(personas.assistant_a).get(url, {"contact": "1"}).content.decode()
    assert "13900001234" not in page
