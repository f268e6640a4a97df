"""The centre's pages through HTTP: the coordinator's queue and the statistics, on crafted data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from referrals.models import Case, Colour, Referral
from tests.referrals.builders import open_case
from tests.referrals.test_workbench import NOW, SHANGHAI, TODAY, make_referral, rows_in

S = Referral.Status


@pytest.fixture
def queue_data(county_map: Any, personas: Any, clock: Any) -> dict[str, Referral]:
    c = county_map
    return {
        "red": make_referral(
            village=c.village_a1, department=c.dept_civil, items=["dibao"], due=dt.date(2026, 11, 11)
        ),
        "yellow": make_referral(village=c.village_a1, department=c.dept_civil, items=["dibao"], due=TODAY),
        "returned": make_referral(
            village=c.village_a2, department=c.dept_medical, items=["medical"], status=S.RETURNED
        ),
        "waiting": make_referral(
            village=c.village_a1, department=c.dept_medical, items=["medical"], status=S.INFO_REQUESTED
        ),
        "red_b": make_referral(
            village=c.village_b1, department=c.dept_civil, items=["dibao"], due=dt.date(2026, 11, 10)
        ),
        "done": make_referral(
            village=c.village_a1, department=c.dept_civil, items=["dibao"], status=S.COMPLETED
        ),
    }


@pytest.fixture
def clock() -> Any:
    import time_machine

    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _section(html: str, key: str) -> list[int]:
    start = html.index(f'id="rw-queue-{key}"')
    end = html.find("</section>", start)
    return rows_in(html[start:end])


def test_the_queue_shows_red_returned_and_waiting_referrals(
    login: Any, personas: Any, queue_data: dict[str, Referral]
) -> None:
    q = queue_data
    response = login(personas.coordinator).get(reverse("centre-queue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert _section(html, "red") == [q["red_b"].pk, q["red"].pk]  # the longest overdue first
    assert _section(html, "returned") == [q["returned"].pk]
    assert _section(html, "waiting") == [q["waiting"].pk]
    assert q["yellow"].pk not in rows_in(html) and q["done"].pk not in rows_in(html)
    assert "红色：已超期" in html and "退回中心" in html and "等待中心答复" in html
    # Each row links to the referral's page, where the reassign/extend/answer forms are.
    assert reverse("workbench-referral", args=[q["returned"].pk]) in html


def test_a_township_assistant_sees_only_their_townships_part_of_the_queue(
    login: Any, personas: Any, queue_data: dict[str, Referral]
) -> None:
    q = queue_data
    html = login(personas.assistant_b).get(reverse("centre-queue")).content.decode()
    assert rows_in(html) == [q["red_b"].pk]
    html = login(personas.assistant_a).get(reverse("centre-queue")).content.decode()
    assert q["red_b"].pk not in rows_in(html)
    assert sorted(rows_in(html)) == sorted([q["red"].pk, q["returned"].pk, q["waiting"].pk])


def test_the_centre_pages_are_403_for_departments_and_others_and_login_for_anonymous(
    login: Any, personas: Any, queue_data: dict[str, Referral]
) -> None:
    for name in ("centre-queue", "centre-stats"):
        for persona in (personas.dept_civil, personas.cadre_a1, personas.auditor, personas.org_member_1):
            assert login(persona).get(reverse(name)).status_code == 403, (name, persona)
        response = login(personas.anonymous).get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_queue_query_count_does_not_grow_with_the_rows(
    login: Any, personas: Any, county_map: Any, queue_data: dict[str, Referral]
) -> None:
    client = login(personas.coordinator)
    client.get(reverse("centre-queue"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("centre-queue"))
    c = county_map
    for n in range(6):
        make_referral(
            village=c.village_a2, department=c.dept_medical, items=["medical"], due=dt.date(2026, 11, 2 + n)
        )
        make_referral(village=c.village_b1, department=c.dept_civil, items=["dibao"], status=S.RETURNED)
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("centre-queue")).content.decode()
    assert len(rows_in(html)) == 4 + 12
    assert len(many) == len(few)


# --- statistics ------------------------------------------------------------------------------------


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(16, 0), tzinfo=SHANGHAI)


def _completed(
    county_map: Any, department: Any, *, start: dt.date, due: dt.date, finished: dt.date
) -> Referral:
    r = make_referral(
        village=county_map.village_a1, department=department, items=["dibao"], status=S.COMPLETED
    )
    Referral.objects.filter(pk=r.pk).update(start_date=start, due_date=due, finished_at=_at(finished))
    return r


def _closed_case(county_map: Any, village: Any, *, days: int, closed: dt.date) -> Case:
    r = make_referral(village=village, department=county_map.dept_civil, items=["dibao"], status=S.COMPLETED)
    Case.objects.filter(pk=r.case_id).update(
        status=Case.Status.CLOSED, closed_at=_at(closed), working_days_to_close=days
    )
    return r.case


@pytest.fixture
def stats_data(county_map: Any, personas: Any, clock: Any) -> None:
    c = county_map
    # Civil affairs: two open (one overdue); in November one on time (2 working days) and one late
    # (4 working days: 2 Nov to 6 Nov); in March one more on time (1 working day).
    make_referral(village=c.village_a1, department=c.dept_civil, items=["dibao"], due=dt.date(2026, 11, 10))
    make_referral(village=c.village_a1, department=c.dept_civil, items=["dibao"], due=dt.date(2026, 11, 16))
    _completed(
        c, c.dept_civil, start=dt.date(2026, 11, 9), due=dt.date(2026, 11, 11), finished=dt.date(2026, 11, 11)
    )
    _completed(
        c, c.dept_civil, start=dt.date(2026, 11, 2), due=dt.date(2026, 11, 4), finished=dt.date(2026, 11, 6)
    )
    _completed(
        c, c.dept_civil, start=dt.date(2026, 3, 2), due=dt.date(2026, 3, 4), finished=dt.date(2026, 3, 3)
    )
    # Medical security: one open, paused, not overdue; nothing completed.
    make_referral(village=c.village_a1, department=c.dept_medical, items=["medical"], status=S.INFO_REQUESTED)
    # Cases closed: in November after 1, 2 and 5 working days; in February after 3.
    _closed_case(c, c.village_a1, days=1, closed=dt.date(2026, 11, 3))
    _closed_case(c, c.village_a2, days=2, closed=dt.date(2026, 11, 5))
    _closed_case(c, c.village_a1, days=5, closed=dt.date(2026, 11, 12))
    _closed_case(c, c.village_a1, days=3, closed=dt.date(2026, 2, 10))
    # Another township's case: outside an assistant of town A's figures.
    _closed_case(c, c.village_b1, days=9, closed=dt.date(2026, 11, 4))


def test_statistics_per_department_this_month_and_this_year(
    login: Any, personas: Any, county_map: Any, stats_data: None
) -> None:
    response = login(personas.coordinator).get(reverse("centre-stats"))
    assert response.status_code == 200
    lines = {line.department: line for line in response.context["lines"]}
    civil = lines[county_map.dept_civil.name]
    assert (civil.open, civil.overdue, civil.on_time_open) == (2, 1, 1)
    assert civil.month is not None and civil.year is not None
    assert (civil.month.completed, civil.month.completed_on_time, civil.month.average_working_days) == (
        2,
        1,
        3.0,
    )
    # The closed cases' referrals (completed, no finished_at) do not count; the three above do.
    assert (civil.year.completed, civil.year.completed_on_time) == (3, 2)
    assert civil.year.average_working_days == pytest.approx(7 / 3, abs=0.01)
    medical = lines[county_map.dept_medical.name]
    assert (medical.open, medical.overdue) == (1, 0)
    html = response.content.decode()
    assert "按部门" in html and county_map.dept_civil.name in html


def test_statistics_per_case_against_the_two_day_figure(
    login: Any, personas: Any, county_map: Any, stats_data: None
) -> None:
    response = login(personas.coordinator).get(reverse("centre-stats"))
    month, year = response.context["cases_month"], response.context["cases_year"]
    # November: 1, 2, 5 and the other township's 9.
    assert (month["closed"], month["within"], month["median"]) == (4, 2, 3.5)
    assert month["share"] == 0.5
    # The year adds February's 3.
    assert (year["closed"], year["within"], year["median"]) == (5, 2, 3.0)
    html = response.content.decode()
    assert "<meter" in html and "2 个工作日" in html
    # A township assistant: only their township's cases.
    response = login(personas.assistant_a).get(reverse("centre-stats"))
    month = response.context["cases_month"]
    assert (month["closed"], month["within"], month["median"]) == (3, 2, 2.0)
    assert month["share"] == pytest.approx(0.6667, abs=0.001)


def test_statistics_of_another_period_and_a_bad_period(login: Any, personas: Any, stats_data: None) -> None:
    client = login(personas.coordinator)
    response = client.get(reverse("centre-stats"), {"year": "2026", "month": "2"})
    assert response.context["cases_month"]["closed"] == 1
    assert response.context["cases_month"]["median"] == 3.0
    bad = client.get(reverse("centre-stats"), {"year": "abc", "month": "13"})
    assert bad.status_code == 200
    assert bad.context["month"] == timezone.localdate().month


def test_statistics_query_count_does_not_grow_with_the_data(
    login: Any, personas: Any, county_map: Any, clock: Any
) -> None:
    c = county_map
    client = login(personas.coordinator)
    _completed(
        c, c.dept_civil, start=dt.date(2026, 11, 9), due=dt.date(2026, 11, 11), finished=dt.date(2026, 11, 11)
    )
    _closed_case(c, c.village_a1, days=1, closed=dt.date(2026, 11, 3))
    client.get(reverse("centre-stats"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("centre-stats"))
    for n in range(5):
        _completed(
            c,
            c.dept_medical,
            start=dt.date(2026, 11, 2),
            due=dt.date(2026, 11, 4),
            finished=dt.date(2026, 11, 5 + n),
        )
        _closed_case(c, c.village_a2, days=n, closed=dt.date(2026, 11, 2 + n))
        make_referral(village=c.village_b1, department=c.dept_medical, items=["medical"])
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("centre-stats"))
    assert len(response.context["lines"]) == 2
    assert len(many) == len(few)
    # Session, user, profile; 2 + 2 per department_stats call, 2 + 1 per period for the cases; the
    # latest closed; the session's idle-timeout stamp (3 statements).
    assert len(many) <= 18


@pytest.mark.django_db
def test_a_referral_waiting_for_information_is_not_counted_overdue(county_map: Any, personas: Any) -> None:
    import datetime as dt

    import time_machine

    from referrals.selectors import department_stats
    from referrals.services.actions import referral_request_info

    from .builders import open_case

    with time_machine.travel(
        dt.datetime(2026, 11, 2, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False
    ):
        case = open_case(county_map.village_a1, actor=personas.assistant_a, items=["dibao"])
        referral = case.referrals.get()
        referral_request_info(
            actor=personas.dept_civil, referral_id=referral.pk, question="请补充户口簿复印件"
        )
    with time_machine.travel(
        dt.datetime(2026, 11, 20, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False
    ):
        stats = {s.department_id: s for s in department_stats(user=personas.coordinator, year=2026)}
    civil = stats[referral.department_id]
    assert civil.open == 1 and civil.overdue == 0


def test_the_queue_shows_each_lists_most_urgent_at_most_and_says_there_are_more(
    county_map: Any, personas: Any, login: Any, monkeypatch: Any
) -> None:
    from referrals import selectors
    from referrals.views import centre

    monkeypatch.setattr(selectors, "QUEUE_SHOWN", 1)
    monkeypatch.setattr(centre, "QUEUE_SHOWN", 1)
    cases = [open_case(county_map.village_a1, actor=personas.assistant_a, items=["dibao"]) for _ in range(2)]
    Referral.objects.filter(case__in=cases).update(colour=Colour.RED)
    html = login(personas.coordinator).get(reverse("centre-queue")).content.decode()
    assert html.count('data-referral="') == 1
    assert "1+" in html  # a lower bound: no count query for the lists' full length
    assert reverse("admin:referrals_referral_changelist") in html
