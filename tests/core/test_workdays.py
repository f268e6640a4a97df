"""The working-day calendar: 2026 as published, counting rules, provisional years, cache, admin, import."""

from __future__ import annotations

import datetime as dt
import html
import importlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assist_center import workdays
from assist_center.models import AuditEvent, CalendarDay, CalendarYear
from assist_center.workdays import (
    Deadline,
    add_working_days,
    calendar_check_next_year,
    deadline,
    is_working_day,
    is_year_confirmed,
    unconfirmed_next_year_warning,
    working_days_between,
)

pytestmark = pytest.mark.django_db

D = dt.date
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _span(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# State Council notice of 4 November 2025, as quoted in stack.md.
REST_2026 = [
    *_span(D(2026, 1, 1), D(2026, 1, 3)),
    *_span(D(2026, 2, 15), D(2026, 2, 23)),
    *_span(D(2026, 4, 4), D(2026, 4, 6)),
    *_span(D(2026, 5, 1), D(2026, 5, 5)),
    *_span(D(2026, 6, 19), D(2026, 6, 21)),
    *_span(D(2026, 9, 25), D(2026, 9, 27)),
    *_span(D(2026, 10, 1), D(2026, 10, 7)),
]
WORK_2026 = [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)]

# A made-up 2027 arrangement (nothing is published yet): only what the tests below need.
CSV_2027 = (
    "date,kind,name\n2027-01-01,holiday,元旦\n"
    + "".join(f"2027-10-{d:02d},holiday,国庆节\n" for d in range(1, 8))
    + "2027-10-09,makeup,国庆节（补班）\n"
)


class Clock:
    """Stands in for time.monotonic so tests can pass the version-check interval without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    # Each test starts with a cold process cache and leaves none behind: the database is rolled
    # back after every test, the process-level calendar is not.
    c = Clock()
    monkeypatch.setattr(workdays, "_monotonic", c)
    workdays._forget()
    yield c
    workdays._forget()


@pytest.fixture
def csv_2027(tmp_path: Path) -> Path:
    path = tmp_path / "2027.csv"
    path.write_text(CSV_2027, encoding="utf-8")
    return path


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.csv"
    path.write_text(text, encoding="utf-8")
    return path


# --- 2026 as published ---------------------------------------------------------------------------


@pytest.mark.parametrize("day", REST_2026, ids=str)
def test_2026_holiday_is_a_rest_day(day: dt.date) -> None:
    assert is_working_day(day) is False
    assert CalendarDay.objects.get(date=day).kind == CalendarDay.Kind.HOLIDAY


@pytest.mark.parametrize("day", WORK_2026, ids=str)
def test_2026_makeup_day_is_a_working_day(day: dt.date) -> None:
    assert day.weekday() >= 5
    assert is_working_day(day) is True
    assert CalendarDay.objects.get(date=day).kind == CalendarDay.Kind.MAKEUP


def test_2026_stores_exactly_the_published_days_with_chinese_names() -> None:
    stored = {d.date: d for d in CalendarDay.objects.filter(date__year=2026)}
    assert set(stored) == set(REST_2026) | set(WORK_2026)
    assert stored[D(2026, 2, 17)].name.startswith("春节")
    assert stored[D(2026, 10, 1)].name == "国庆节"
    assert stored[D(2026, 10, 10)].name.startswith("国庆节")
    assert CalendarYear.objects.get(year=2026).confirmed is True


def test_every_other_2026_day_follows_the_weekend_rule() -> None:
    special = set(REST_2026) | set(WORK_2026)
    for day in _span(D(2026, 1, 1), D(2026, 12, 31)):
        if day not in special:
            assert is_working_day(day) is (day.weekday() < 5), day


def test_seeded_years_are_2004_to_2026_and_confirmed() -> None:
    assert set(CalendarYear.objects.filter(confirmed=True).values_list("year", flat=True)) == set(
        range(2004, 2027)
    )
    assert CalendarYear.objects.get(year=2004).source == "chinese-calendar 1.11.0"
    assert all(is_year_confirmed(y) for y in range(2004, 2027))
    assert not is_year_confirmed(2027)
    assert not is_year_confirmed(2003)


# --- counting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (D(2026, 9, 30), 2, D(2026, 10, 9)),  # National Day: 1–7 Oct rest
        (D(2026, 10, 1), 2, D(2026, 10, 9)),
        (D(2026, 10, 9), 1, D(2026, 10, 10)),  # Saturday make-up day
        (D(2026, 9, 18), 1, D(2026, 9, 20)),  # Sunday make-up day before Mid-autumn
        (D(2026, 9, 24), 1, D(2026, 9, 28)),  # Mid-autumn 25–27 Sep
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # Spring Festival: Saturday 14 Feb worked
        (D(2026, 2, 14), 1, D(2026, 2, 24)),  # 15–23 Feb rest
        (D(2026, 2, 13), 3, D(2026, 2, 25)),
        (D(2026, 2, 26), 2, D(2026, 2, 28)),  # Saturday 28 Feb worked
        (D(2025, 12, 31), 1, D(2026, 1, 4)),  # across the year: 1–3 Jan rest, Sunday 4 Jan worked
        (D(2026, 3, 6), 1, D(2026, 3, 9)),  # a plain weekend
        (D(2026, 3, 2), 15, D(2026, 3, 23)),
    ],
)
def test_add_working_days(start: dt.date, days: int, due: dt.date) -> None:
    assert add_working_days(start, days) == due
    assert working_days_between(start, due) == days


def test_the_start_day_does_not_count() -> None:
    monday = D(2026, 3, 2)
    assert is_working_day(monday)
    assert add_working_days(monday, 1) == D(2026, 3, 3)
    assert working_days_between(monday, monday) == 0
    assert working_days_between(monday, D(2026, 3, 3)) == 1


def test_zero_days_is_the_start_even_on_a_holiday() -> None:
    assert add_working_days(D(2026, 10, 3), 0) == D(2026, 10, 3)
    assert deadline(D(2026, 10, 3), 0) == Deadline(due=D(2026, 10, 3), provisional=False)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(D(2026, 3, 2), -1)


def test_working_days_between_is_zero_when_b_is_not_after_a() -> None:
    assert working_days_between(D(2026, 3, 9), D(2026, 3, 2)) == 0
    assert working_days_between(D(2026, 10, 1), D(2026, 10, 7)) == 0


def test_working_days_between_counts_a_whole_year_and_long_spans() -> None:
    expected_2026 = sum(is_working_day(d) for d in _span(D(2026, 1, 1), D(2026, 12, 31)))
    assert expected_2026 == 365 - 104 - 19 + 6  # 19 holidays on weekdays, 6 make-up days
    assert working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == expected_2026
    naive = sum(is_working_day(d) for d in _span(D(2004, 1, 1), D(2026, 12, 31)))
    assert working_days_between(D(2003, 12, 31), D(2026, 12, 31)) == naive
    assert add_working_days(D(2003, 12, 31), naive) == D(2026, 12, 31)


def _naive_add(start: dt.date, n: int) -> dt.date:
    day = start
    while n:
        day += dt.timedelta(days=1)
        n -= is_working_day(day)
    return day


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    a=st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 12, 31)), n=st.integers(min_value=0, max_value=60)
)
def test_between_inverts_add(a: dt.date, n: int) -> None:
    due = add_working_days(a, n)
    assert working_days_between(a, due) == n
    assert due == _naive_add(a, n)
    # The due day is the first day reaching n: it is a working day (or the start).
    assert n == 0 or is_working_day(due)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    a=st.dates(min_value=D(2003, 6, 1), max_value=D(2027, 6, 30)),
    span=st.integers(min_value=-10, max_value=800),
)
def test_between_matches_day_by_day_counting(a: dt.date, span: int) -> None:
    b = a + dt.timedelta(days=span)
    expected = sum(is_working_day(d) for d in _span(a + dt.timedelta(days=1), b)) if b > a else 0
    assert working_days_between(a, b) == expected


# --- unconfirmed years ---------------------------------------------------------------------------


def test_2027_counts_weekends_only_and_is_provisional() -> None:
    assert is_working_day(D(2027, 1, 1))  # a Friday: New Year's Day is not known yet
    assert deadline(D(2026, 12, 30), 2) == Deadline(due=D(2027, 1, 1), provisional=True)
    assert deadline(D(2027, 9, 30), 2) == Deadline(due=D(2027, 10, 4), provisional=True)
    assert deadline(D(2026, 12, 28), 2) == Deadline(due=D(2026, 12, 30), provisional=False)


def test_a_deadline_that_only_skips_unconfirmed_days_is_provisional() -> None:
    # Friday 31 Dec 2027 + 1 lands on Monday 3 Jan 2028; whether the weekend is worked is unknown.
    assert deadline(D(2027, 12, 31), 1) == Deadline(due=D(2028, 1, 3), provisional=True)


def test_stored_days_of_an_unconfirmed_year_are_not_used(csv_2027: Path) -> None:
    call_command("calendar_import", "2027", str(csv_2027), stdout=_Sink())
    assert CalendarDay.objects.filter(date__year=2027).count() == 9
    assert not is_year_confirmed(2027)
    assert is_working_day(D(2027, 1, 1))
    assert deadline(D(2026, 12, 30), 2) == Deadline(due=D(2027, 1, 1), provisional=True)


def test_importing_and_confirming_2027_recomputes_warm_deadlines(csv_2027: Path) -> None:
    before = deadline(D(2026, 12, 30), 2)
    assert before == Deadline(due=D(2027, 1, 1), provisional=True)
    assert deadline(D(2027, 9, 30), 2).due == D(2027, 10, 4)

    call_command("calendar_import", "2027", str(csv_2027), "--confirm", stdout=_Sink())

    assert is_year_confirmed(2027)
    assert deadline(D(2026, 12, 30), 2) == Deadline(due=D(2027, 1, 4), provisional=False)
    assert deadline(D(2027, 9, 30), 2) == Deadline(due=D(2027, 10, 9), provisional=False)
    assert add_working_days(D(2027, 10, 8), 1) == D(2027, 10, 9)


def test_another_process_edit_is_seen_after_the_check_interval(clock: Clock) -> None:
    assert is_working_day(D(2027, 1, 1))
    # Another process confirms 2027 and announces it; this process has not been told directly.
    CalendarYear.objects.create(year=2027, confirmed=True, source="test")
    CalendarDay.objects.create(date=D(2027, 1, 1), is_workday=False, kind="holiday", name="元旦")
    cache.set(workdays.VERSION_KEY, "edited-elsewhere", timeout=None)

    clock.now += workdays.VERSION_CHECK_SECONDS / 2
    assert is_working_day(D(2027, 1, 1))  # still the copy in memory: no lookup yet
    clock.now += workdays.VERSION_CHECK_SECONDS
    assert not is_working_day(D(2027, 1, 1))
    assert is_year_confirmed(2027)


def test_a_warm_calendar_makes_no_queries(django_assert_num_queries: Any, clock: Clock) -> None:
    add_working_days(D(2026, 1, 1), 1)
    with django_assert_num_queries(0):
        for i in range(2000):
            start = D(2004, 1, 1) + dt.timedelta(days=i * 4)
            due = add_working_days(start, 10)
            assert working_days_between(start, due) == 10
            deadline(start, 3)
            is_working_day(due)
        # The periodic version check goes to the cache, never to the database.
        clock.now += 3 * workdays.VERSION_CHECK_SECONDS
        add_working_days(D(2026, 9, 30), 2)


# --- the warning ---------------------------------------------------------------------------------


def test_warning_from_1_november_when_next_year_is_unconfirmed(caplog: pytest.LogCaptureFixture) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 1, 0, 30, tzinfo=SHANGHAI), tick=False):
        warning = unconfirmed_next_year_warning()
        assert warning is not None
        assert "2027" in warning
        with caplog.at_level(logging.WARNING, logger="assist_center.workdays"):
            assert calendar_check_next_year() is True
        assert "2027" in caplog.text


def test_no_warning_on_31_october() -> None:
    # 16:30 UTC on 31 Oct is already 1 Nov in Shanghai: the local date decides.
    with time_machine.travel(dt.datetime(2026, 10, 31, 23, 59, tzinfo=SHANGHAI), tick=False):
        assert unconfirmed_next_year_warning() is None
        assert calendar_check_next_year() is False
    with time_machine.travel(dt.datetime(2026, 10, 31, 16, 30, tzinfo=dt.UTC), tick=False):
        assert unconfirmed_next_year_warning() is not None


def test_no_warning_once_next_year_is_confirmed(csv_2027: Path) -> None:
    call_command("calendar_import", "2027", str(csv_2027), "--confirm", stdout=_Sink())
    assert unconfirmed_next_year_warning(D(2026, 12, 1)) is None
    with time_machine.travel(dt.datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI), tick=False):
        assert calendar_check_next_year() is False


def test_warning_stays_into_the_new_year_while_it_is_unconfirmed() -> None:
    assert unconfirmed_next_year_warning(D(2027, 1, 4)) is not None
    assert unconfirmed_next_year_warning(D(2026, 6, 1)) is None


# --- admin ---------------------------------------------------------------------------------------

CHANGELIST = "/admin/assist_center/calendarday/"


def test_coordinator_sees_calendar_changelist_with_the_warning(
    personas: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI), tick=False):
        client = login(personas.coordinator)
        with translation.override("zh-hans"):
            expected = unconfirmed_next_year_warning()
        assert expected
        with django_assert_max_num_queries(15):
            response = client.get(CHANGELIST)
        assert response.status_code == 200
        assert html.escape(expected) in response.content.decode()
        assert "2026-10-01" in response.content.decode() or "国庆节" in response.content.decode()

        response = client.get("/admin/assist_center/calendaryear/")
        assert response.status_code == 200
        assert html.escape(expected) in response.content.decode()


def test_changelist_has_no_warning_on_31_october(personas: Any, login: Any) -> None:
    with time_machine.travel(dt.datetime(2026, 10, 31, 9, 0, tzinfo=SHANGHAI), tick=False):
        response = login(personas.coordinator).get(CHANGELIST)
        assert response.status_code == 200
        assert "2027" not in response.content.decode()


def test_changelist_filters_and_search(personas: Any, login: Any) -> None:
    client = login(personas.coordinator)
    response = client.get(CHANGELIST, {"year": "2026", "kind": "makeup"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == sorted(
        CalendarDay.objects.filter(date__in=WORK_2026), key=lambda d: d.date, reverse=True
    )
    response = client.get(CHANGELIST, {"q": "春节", "year": "2026"})
    assert {d.date for d in response.context["cl"].result_list} == {
        *_span(D(2026, 2, 15), D(2026, 2, 23)),
        D(2026, 2, 14),
        D(2026, 2, 28),
    }


def test_township_assistant_gets_403_on_the_calendar(personas: Any, login: Any) -> None:
    # Assistants are staff, so the admin answers 403 rather than redirecting to its login page.
    client = login(personas.assistant_a)
    assert client.get(CHANGELIST).status_code == 403
    assert client.get("/admin/assist_center/calendaryear/").status_code == 403
    assert client.get(f"{CHANGELIST}2026-10-01/change/").status_code == 403
    assert (
        client.post(
            "/admin/assist_center/calendaryear/add/", {"year": "2027", "confirmed": "on", "source": "x"}
        ).status_code
        == 403
    )
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_coordinator_confirming_a_year_in_the_admin_invalidates_the_cache(personas: Any, login: Any) -> None:
    assert deadline(D(2026, 12, 30), 2).provisional
    client = login(personas.coordinator)
    response = client.post(
        "/admin/assist_center/calendaryear/add/", {"year": "2027", "confirmed": "on", "source": "国办发明电"}
    )
    assert response.status_code == 302
    assert not deadline(D(2026, 12, 30), 2).provisional
    event = AuditEvent.objects.get(action="calendar.year.add")
    assert (event.actor, event.subject_type, event.subject_id) == (
        personas.coordinator,
        "calendar_year",
        "2027",
    )


def test_coordinator_adds_and_deletes_a_day_in_the_admin(personas: Any, login: Any) -> None:
    client = login(personas.coordinator)
    assert is_working_day(D(2026, 12, 31))
    response = client.post(
        f"{CHANGELIST}add/",
        {"date": "2026-12-31", "kind": "holiday", "is_workday": "on", "name": "测试假日", "confirmed": "on"},
    )
    assert response.status_code == 200  # a holiday that is worked is a contradiction
    assert response.context["adminform"].form.errors["is_workday"]
    assert not CalendarDay.objects.filter(date=D(2026, 12, 31)).exists()

    response = client.post(
        f"{CHANGELIST}add/", {"date": "2026-12-31", "kind": "holiday", "name": "测试假日", "confirmed": "on"}
    )
    assert response.status_code == 302
    assert not is_working_day(D(2026, 12, 31))

    response = client.post(f"{CHANGELIST}2026-12-31/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert is_working_day(D(2026, 12, 31))
    assert list(
        AuditEvent.objects.filter(subject_type="calendar_day", subject_id="2026-12-31")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["calendar.day.add", "calendar.day.delete"]


def test_admin_refuses_a_makeup_day_on_a_weekday(personas: Any, login: Any) -> None:
    response = login(personas.coordinator).post(
        f"{CHANGELIST}add/",
        {"date": "2026-12-30", "kind": "makeup", "is_workday": "on", "name": "x", "confirmed": "on"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["date"]
    assert not CalendarDay.objects.filter(date=D(2026, 12, 30)).exists()


# --- calendar_import -----------------------------------------------------------------------------


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> None:
        self.text += s

    def flush(self) -> None:
        pass


def test_import_writes_one_audit_event(csv_2027: Path, personas: Any) -> None:
    out = _Sink()
    call_command("calendar_import", "2027", str(csv_2027), "--confirm", "--actor", "coordinator", stdout=out)
    year = CalendarYear.objects.get(year=2027)
    assert year.confirmed
    assert "2027.csv" in year.source
    assert CalendarDay.objects.filter(date__year=2027, kind="makeup").get().date == D(2027, 10, 9)
    event = AuditEvent.objects.get(action="calendar.import")
    assert (event.actor, event.actor_label) == (personas.coordinator, "coordinator")
    assert (event.subject_type, event.subject_id) == ("calendar_year", "2027")
    assert event.new_values["days"] == 9 and event.new_values["confirmed"] is True


def test_import_without_actor_is_recorded_as_system(csv_2027: Path) -> None:
    call_command("calendar_import", "2027", str(csv_2027), stdout=_Sink())
    event = AuditEvent.objects.get(action="calendar.import")
    assert (event.actor, event.actor_label) == (None, "system")
    assert CalendarYear.objects.get(year=2027).confirmed is False


def test_reimport_replaces_the_days_of_the_year(csv_2027: Path, tmp_path: Path) -> None:
    call_command("calendar_import", "2027", str(csv_2027), "--confirm", stdout=_Sink())
    assert not is_working_day(D(2027, 10, 7))
    smaller = _write(tmp_path, "date,kind,name\n2027-01-01,holiday,元旦\n")
    call_command("calendar_import", "2027", str(smaller), "--confirm", stdout=_Sink())
    assert list(CalendarDay.objects.filter(date__year=2027).values_list("date", flat=True)) == [D(2027, 1, 1)]
    assert is_working_day(D(2027, 10, 7))


def test_import_refuses_to_unconfirm_a_confirmed_year(tmp_path: Path) -> None:
    path = _write(tmp_path, "date,kind,name\n2026-01-01,holiday,元旦\n")
    with pytest.raises(CommandError, match="--confirm"):
        call_command("calendar_import", "2026", str(path), stdout=_Sink())
    assert CalendarDay.objects.filter(date__year=2026).count() == len(REST_2026) + len(WORK_2026)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("day,kind,name\n2027-01-01,holiday,元旦\n", "header"),
        ("date,kind,name\n", "no rows"),
        ("date,kind,name\n2027-13-01,holiday,元旦\n", "line 2: '2027-13-01' is not a date"),
        ("date,kind,name\n2027/01/01,holiday,元旦\n", "is not a date"),
        ("date,kind,name\n2026-01-01,holiday,元旦\n", "line 2: 2026-01-01 is not in 2027"),
        (
            "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-01,holiday,元旦\n",
            "line 3: 2027-01-01 already appears",
        ),
        ("date,kind,name\n2027-01-01,rest,元旦\n", "kind must be holiday or makeup"),
        ("date,kind,name\n2027-01-01,makeup,元旦\n", "a make-up working day is a Saturday or Sunday"),
        ("date,kind,name\n2027-01-01,holiday,\n", "line 2: the name is empty"),
        ("date,kind,name\n2027-01-01,holiday\n", "line 2: expected 3 columns, found 2"),
        ("date,kind,name\n2027-01-01,holiday,\x00\n", "NUL"),
        (f"date,kind,name\n2027-01-01,holiday,{'长' * 65}\n", "longer than 64"),
    ],
)
def test_import_reports_bad_rows_and_imports_nothing(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with translation.override("en"), pytest.raises(CommandError) as excinfo:
        call_command("calendar_import", "2027", str(path), "--confirm", stdout=_Sink())
    assert message in str(excinfo.value)
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year__gte=2027).exists()
    assert not AuditEvent.objects.filter(action="calendar.import").exists()


def test_import_reports_every_bad_row_at_once(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "date,kind,name\n2027-01-01,rest,元旦\n2027-02-30,holiday,春节\n2027-02-06,holiday,\n"
    )
    with translation.override("en"), pytest.raises(CommandError) as excinfo:
        call_command("calendar_import", "2027", str(path), stdout=_Sink())
    assert all(f"line {n}:" in str(excinfo.value) for n in (2, 3, 4))


def test_import_accepts_an_excel_bom_and_refuses_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffdate,kind,name\r\n2027-01-01,holiday,元旦\r\n".encode())
    call_command("calendar_import", "2027", str(path), stdout=_Sink())
    assert CalendarDay.objects.filter(date=D(2027, 1, 1)).exists()
    with translation.override("en"), pytest.raises(CommandError, match="Cannot read"):
        call_command("calendar_import", "2027", str(tmp_path / "missing.csv"), stdout=_Sink())


def test_import_refuses_an_unknown_actor(csv_2027: Path) -> None:
    with translation.override("en"), pytest.raises(CommandError, match="No active account"):
        call_command("calendar_import", "2027", str(csv_2027), "--actor", "nobody", stdout=_Sink())


# --- the seed migration --------------------------------------------------------------------------


def test_seed_migration_reverses_and_reapplies() -> None:
    migration = importlib.import_module("assist_center.migrations.0003_seed_calendar")
    days = CalendarDay.objects.count()
    assert days == CalendarDay.objects.filter(date__year__range=(2004, 2026)).count() > 700
    migration.unseed(django_apps, None)
    assert not CalendarDay.objects.exists()
    assert not CalendarYear.objects.exists()
    migration.seed(django_apps, None)
    assert CalendarDay.objects.count() == days
    assert CalendarYear.objects.filter(confirmed=True).count() == 23


def test_the_coordinators_banner_says_where_to_act_in_the_interface_not_which_command_to_run(
    personas: Any, login: Any
) -> None:
    """Issue 16: the banner named a management command; it now links the calendar pages."""
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI), tick=False):
        client = login(personas.coordinator)
        page = client.get("/admin/").content.decode()
    assert 'id="calendar-warning"' in page
    banner = page.split('id="calendar-warning"', 1)[1].split("</li>", 1)[0]
    assert "calendar_import" not in banner
    assert "manage.py" not in banner
    assert 'href="/admin/assist_center/calendarday/add/"' in banner
    assert 'href="/admin/assist_center/calendarday/?year=2027"' in banner
    assert 'href="/admin/assist_center/calendaryear/add/?year=2027&amp;confirmed=on"' in banner
