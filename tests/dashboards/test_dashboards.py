"""The dashboards (issue 13): each figure against a small county whose numbers are known by hand.

The dataset is written with the ORM (tests/referrals/builders.py and tests/factories.py), with its
dates set so that every working-day figure can be worked out on paper (November 2026 has no
holiday: 2 Nov is a Monday).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from applications.models import Application, Household
from applications.models.intake import Channel
from assist_center.models import Department
from benefits.models import Enrolment, RollTask
from charity.models import Claim, Need
from dashboards.selectors import page_figures
from eligibility.models import DiscoveryLead, ImportJob, MonitoringWarning, VerificationReport
from happiness_list.models import Rating
from referrals.models import Case, Colour, Referral

from .. import factories as f
from ..referrals.builders import decided_application

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
YEAR = 2026
S = Referral.Status


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SHANGHAI)


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@dataclass
class County:
    a1: Application
    a2: Application
    b1: Application


def _application(
    village: Any, *, needs: list[str], submitted: str, verified: str, decided_by: Any
) -> Application:
    app = decided_application(village, items=needs, decided_by=decided_by)
    Application.objects.filter(pk=app.pk).update(created_at=at(submitted, 9))
    VerificationReport.objects.filter(application=app).update(created_at=at(verified, 15))
    return Application.objects.get(pk=app.pk)


def _case(app: Application, *, closed: str, days: int) -> Case:
    return Case.objects.create(
        application=app,
        township=app.township,
        village=app.village,
        status=Case.Status.CLOSED,
        closed_at=at(closed, 16),
        working_days_to_close=days,
    )


def _referral(case: Case, dept: Any, *, status: str, colour: str = Colour.NONE, **dates: Any) -> Referral:
    start = dates.get("start", d("2026-12-03"))
    due = dates.get("due", d("2026-12-08"))
    r = Referral.objects.create(
        case=case,
        department=dept,
        township=case.township,
        items=["dibao"],
        brief={"applicant_name": "王秀英", "village": case.village.name, "items": [], "contact": False},
        status=status,
        allotted_days=2,
        start_date=start,
        due_date=due,
        colour=colour,
    )
    if "finished" in dates:
        Referral.objects.filter(pk=r.pk).update(finished_at=at(dates["finished"], 16))
    return r


@pytest.fixture
def county(county_map: Any, personas: Any, clock: Any) -> County:
    c = county_map
    ass_a, ass_b = personas.assistant_a, personas.assistant_b
    # Verification: A1 1 working day, A2 4, B1 0 (all in November); A1 on behalf, the others by phone.
    a1 = _application(
        c.village_a1,
        needs=["medical", "dibao"],
        submitted="2026-11-02",
        verified="2026-11-03",
        decided_by=ass_a,
    )
    a2 = _application(
        c.village_a2, needs=["dibao"], submitted="2026-11-02", verified="2026-11-06", decided_by=ass_a
    )
    b1 = _application(
        c.village_b1, needs=["education"], submitted="2026-11-02", verified="2026-11-02", decided_by=ass_b
    )
    Application.objects.filter(pk=a1.pk).update(channel=Channel.ON_BEHALF, submitted_by=ass_a)
    Application.objects.filter(pk=a2.pk).update(status=Application.Status.UNDER_REVIEW)
    # Cases closed in November: 1, 3 (township A) and 2 (township B) working days.
    case_a1, case_a2, case_b1 = (
        _case(a1, closed="2026-11-05", days=1),
        _case(a2, closed="2026-11-10", days=3),
        _case(b1, closed="2026-11-12", days=2),
    )
    civil, medical = c.dept_civil, c.dept_medical
    # Open: civil red (A) and on time (B); medical blue (A).
    _referral(case_a1, civil, status=S.PENDING, colour=Colour.RED)
    _referral(case_b1, civil, status=S.ACCEPTED, colour=Colour.NONE)
    _referral(case_a1, medical, status=S.PENDING, colour=Colour.BLUE)
    # Completed: civil on time in 2 working days and late in 4 (A); medical on time in 1 (B).
    _referral(
        case_a1, civil, status=S.COMPLETED, start=d("2026-11-09"), due=d("2026-11-11"), finished="2026-11-11"
    )
    _referral(
        case_a2, civil, status=S.COMPLETED, start=d("2026-11-02"), due=d("2026-11-04"), finished="2026-11-06"
    )
    _referral(
        case_b1,
        medical,
        status=S.COMPLETED,
        start=d("2026-11-02"),
        due=d("2026-11-04"),
        finished="2026-11-03",
    )

    # Households: HA1 (A, no household number, nobody with a phone), HA2 (A, numbered, a phone),
    # HB1 (B, numbered, no phone).
    ha1 = f.household(c.village_a1, members=2)
    ha2 = f.household(c.village_a2, members=1)
    hb1 = f.household(c.village_b1, members=1)
    Household.objects.filter(pk=ha2.pk).update(household_number="H2")
    Household.objects.filter(pk=hb1.pk).update(household_number="H3")
    person_ha2 = ha2.members.get()
    person_ha2.phone_hash = "x" * 64
    person_ha2.save(update_fields=["phone_hash"])
    # Enrolments: dibao HA1 and HB1 (in gradual exit), medical for HA2's person; one ended (HA2's
    # dibao, a completed exit in June) and A2 made by HA2 afterwards: it fell back into need.
    Enrolment.objects.create(
        household=ha1,
        township=c.town_a,
        item="dibao",
        since=d("2026-01-01"),
        source="assistant_entry",
        monthly_amount=500,
        reason="补录",
    )
    Enrolment.objects.create(
        household=hb1,
        township=c.town_b,
        item="dibao",
        since=d("2026-01-01"),
        source="assistant_entry",
        monthly_amount=500,
        reason="补录",
        state=Enrolment.State.GRADUAL_EXIT,
        grace_end=d("2027-03-31"),
    )
    medical_enrolment = Enrolment.objects.create(
        household=ha2,
        person=person_ha2,
        township=c.town_a,
        item="medical",
        since=d("2026-01-01"),
        source="assistant_entry",
        monthly_amount=500,
        reason="补录",
        department=medical,
    )
    Enrolment.objects.create(
        household=ha2,
        township=c.town_a,
        item="dibao",
        since=d("2025-01-01"),
        source="assistant_entry",
        monthly_amount=500,
        reason="补录",
        state=Enrolment.State.ENDED,
        ended_on=d("2026-06-30"),
        end_reason=Enrolment.EndReason.GRACE_ENDED,
    )
    Application.objects.filter(pk=a2.pk).update(household=ha2)
    # Warnings: A one open and overdue, one handled in 2 working days; B one open, not yet due.
    MonitoringWarning.objects.create(
        household=ha1, township=c.town_a, change="income", due_date=d("2026-12-01"), dedupe_key="w1"
    )
    w2 = MonitoringWarning.objects.create(
        household=ha1,
        township=c.town_a,
        change="vehicle",
        due_date=d("2026-11-20"),
        dedupe_key="w2",
        status=MonitoringWarning.Status.NO_EFFECT,
        resolved_at=at("2026-11-04"),
    )
    MonitoringWarning.objects.create(
        household=hb1, township=c.town_b, change="income", due_date=d("2026-12-20"), dedupe_key="w3"
    )
    MonitoringWarning.objects.filter(pk=w2.pk).update(created_at=at("2026-11-02"))
    # Leads: A one open, one converted into A1 (found Friday 30 Oct: 1 working day); B one dismissed.
    DiscoveryLead.objects.create(
        person_hash="p1", township=c.town_a, reason="medical_burden", dedupe_key="l1"
    )
    l2 = DiscoveryLead.objects.create(
        person_hash="p2",
        township=c.town_a,
        reason="unemployed",
        dedupe_key="l2",
        status=DiscoveryLead.Status.CONVERTED,
        application=a1,
    )
    DiscoveryLead.objects.filter(pk=l2.pk).update(created_at=at("2026-10-30"))
    DiscoveryLead.objects.create(
        person_hash="p3",
        township=c.town_b,
        reason="unemployed",
        dedupe_key="l3",
        status=DiscoveryLead.Status.DISMISSED,
    )
    # Charity (A): two needs published, one claimed and completed (HA1, 2 people).
    org = f.OrganisationFactory(name="爱心协会")
    done = Need.objects.create(
        household=ha1,
        township=c.town_a,
        category="daily_care",
        internal_text="生活照料",
        age_band="60-79",
        size_band="2",
        publish_consent=True,
        status=Need.Status.COMPLETED,
        published_at=at("2026-11-02"),
    )
    Need.objects.create(
        household=ha2,
        township=c.town_a,
        category="donation",
        internal_text="物资",
        age_band="40-59",
        size_band="1",
        publish_consent=True,
        status=Need.Status.PUBLISHED,
        published_at=at("2026-11-03"),
    )
    Claim.objects.create(
        need=done,
        organisation=org,
        claimed_by=personas.org_member_1,
        status=Claim.Status.CONFIRMED,
        claimed_at=at("2026-11-03"),
        contact_due=d("2026-11-05"),
        delivery_due=d("2026-11-20"),
    )
    # Ratings (A): one satisfied (5, 5, 4), one dissatisfied (2, 3, 3).
    Rating.objects.create(
        case=case_a1, household=ha1, township=c.town_a, efficiency=5, attitude=5, quality=4, lowest=4
    )
    Rating.objects.create(
        case=case_a2, household=ha2, township=c.town_a, efficiency=2, attitude=3, quality=3, lowest=2
    )
    # Data quality: one open conflict with the medical list (A), one done; a traffic police import.
    RollTask.objects.create(
        township=c.town_a,
        household=ha2,
        enrolment=medical_enrolment,
        kind=RollTask.Kind.AMOUNT_DIFFERS,
        item="medical",
    )
    RollTask.objects.create(
        township=c.town_a,
        household=ha2,
        enrolment=medical_enrolment,
        kind=RollTask.Kind.AMOUNT_DIFFERS,
        item="medical",
        status=RollTask.Status.DONE,
    )
    Department.objects.get_or_create(
        code="traffic_police", defaults={"name": "县公安局交警大队", "short_name": "交警"}
    )
    ImportJob.objects.create(
        category="vehicle", file_name="old.csv", status="done", finished_at=at("2026-11-01"), rows_read=50
    )
    ImportJob.objects.create(
        category="vehicle",
        file_name="new.csv",
        status="done",
        finished_at=at("2026-12-01"),
        rows_read=100,
        rows_rejected=5,
    )
    ImportJob.objects.create(category="vehicle", file_name="bad.csv", status="failed")
    return County(a1, a2, b1)


def figures(user: Any, slug: str) -> dict[str, Any]:
    return {fig.key: fig for fig in page_figures(user=user, slug=slug, year=YEAR)}


def row(fig: Any, first: str) -> list[Any]:
    return next(r for r in fig.rows if r[0] == first)


# --- the overview ---------------------------------------------------------------------------


def test_applications_by_channel_and_status(county: County, personas: Any) -> None:
    fig = figures(personas.coordinator, "overview")["applications"]
    assert len(fig.headers) == 4  # the channel, the two statuses present, the total
    by_channel = {r[0]: r[1:] for r in fig.rows}
    assert sorted(by_channel.values()) == [[0, 1, 1], [1, 1, 2]]
    own = figures(personas.assistant_a, "overview")["applications"]
    assert sum(r[-1] for r in own.rows) == 2


def test_verification_time_median_and_90th_percentile_by_month(county: County, personas: Any) -> None:
    nov = row(figures(personas.coordinator, "overview")["verification"], "2026-11")
    # 0, 1 and 4 working days: median 1, p90 1 + 0.8 * 3 = 3.4; two within the county's 1 day.
    assert nov == ["2026-11", 3, 1.0, 3.4, 2, 66.7]
    nov_a = row(figures(personas.assistant_a, "overview")["verification"], "2026-11")
    assert nov_a == ["2026-11", 2, 2.5, 3.7, 1, 50.0]


def test_case_time_median_and_90th_percentile_by_month(county: County, personas: Any) -> None:
    nov = row(figures(personas.coordinator, "overview")["cases"], "2026-11")
    assert nov == ["2026-11", 3, 2.0, 2.8, 2, 66.7]
    assert row(figures(personas.assistant_b, "overview")["cases"], "2026-11") == [
        "2026-11",
        1,
        2.0,
        2.0,
        1,
        100.0,
    ]


def test_open_referrals_by_colour_and_department(county: County, personas: Any, county_map: Any) -> None:
    fig = figures(personas.coordinator, "overview")["open-referrals"]
    # Columns: red, yellow, blue, on time, total.
    assert row(fig, county_map.dept_civil.name)[1:] == [1, 0, 0, 1, 2]
    assert row(fig, county_map.dept_medical.name)[1:] == [0, 0, 1, 0, 1]
    only_a = figures(personas.assistant_a, "overview")["open-referrals"]
    assert row(only_a, county_map.dept_civil.name)[1:] == [1, 0, 0, 0, 1]


def test_departments_are_ranked_and_a_department_sees_only_its_line_and_rank(
    county: County, personas: Any, county_map: Any
) -> None:
    fig = figures(personas.coordinator, "overview")["departments"]
    assert [r[:2] for r in fig.rows] == [[1, county_map.dept_medical.name], [2, county_map.dept_civil.name]]
    assert fig.rows[1][2:] == [2, 1, 50.0, 3.0]
    assert fig.rows[0][2:] == [1, 1, 100.0, 1.0]
    civil = figures(personas.dept_civil, "overview")
    assert set(civil) == {"open-referrals", "departments"}
    assert civil["departments"].rows == [[2, county_map.dept_civil.name, 2, 1, 50.0, 3.0]]
    assert "2" in civil["departments"].note and county_map.dept_medical.name not in str(
        civil["departments"].rows
    )
    assert [r[0] for r in civil["open-referrals"].rows] == [county_map.dept_civil.name]


# --- support ----------------------------------------------------------------------------------


def test_warnings_and_leads_by_township_with_handling_speed(
    county: County, personas: Any, county_map: Any
) -> None:
    figs = figures(personas.coordinator, "support")
    # Raised, open, open and overdue, handled, median and p90 working days to handle.
    assert row(figs["warnings"], county_map.town_a.name) == [county_map.town_a.name, 2, 1, 1, 1, 2.0, 2.0]
    assert row(figs["warnings"], county_map.town_b.name)[1:5] == [1, 1, 0, 0]
    assert row(figs["leads"], county_map.town_a.name) == [county_map.town_a.name, 1, 1, 0, 1.0]
    assert row(figs["leads"], county_map.town_b.name) == [county_map.town_b.name, 0, 0, 1, None]


def test_households_and_people_on_each_item(county: County, personas: Any) -> None:
    fig = figures(personas.coordinator, "support")["items"]
    by_item = {r[0]: r[1:] for r in fig.rows}
    assert sorted(by_item.values()) == [[1, 1, 0], [2, 0, 1]]
    assert len(figures(personas.assistant_b, "support")["items"].rows) == 1


def test_charity_and_satisfaction_figures(county: County, personas: Any, county_map: Any) -> None:
    figs = figures(personas.coordinator, "support")
    assert figs["charity"].rows == [[county_map.town_a.name, 2, 1, 1, 2]]
    assert figs["satisfaction"].rows == [[county_map.town_a.name, 2, 1, 50.0, 1, 3.5, 4.0, 3.5]]
    other = figures(personas.assistant_b, "support")
    assert other["charity"].rows == [] and other["satisfaction"].rows == []


# --- causes -----------------------------------------------------------------------------------


def test_causes_by_township_and_month_and_households_that_fell_back(
    county: County, personas: Any, county_map: Any
) -> None:
    figs = figures(personas.coordinator, "causes")
    # Columns: illness, disability, schooling, accident, unemployment, disaster, family, total.
    assert row(figs["causes-township"], county_map.town_a.name)[1:] == [1, 0, 0, 0, 0, 0, 1, 2]
    assert row(figs["causes-township"], county_map.town_b.name)[1:] == [0, 0, 1, 0, 0, 0, 0, 1]
    assert row(figs["causes-month"], "2026-11")[1:] == [1, 0, 1, 0, 0, 0, 1, 3]
    # HA2 ended its dibao with a completed exit in June and applied (A2, dibao) in November.
    assert figs["fell-back"].rows == [[county_map.town_a.name, 0, 0, 0, 0, 0, 0, 1, 1]]
    assert figures(personas.assistant_b, "causes")["fell-back"].rows == []


# --- data quality -----------------------------------------------------------------------------


def test_data_quality_by_township_and_freshness_by_department(
    county: County, personas: Any, county_map: Any
) -> None:
    figs = figures(personas.coordinator, "quality")
    # No household number, no phone at all, member of another household, conflicts, overdue warnings.
    assert row(figs["quality-township"], county_map.town_a.name)[1:] == [1, 1, 0, 1, 1]
    assert row(figs["quality-township"], county_map.town_b.name)[1:] == [0, 1, 0, 0, 0]
    traffic = Department.objects.get(code="traffic_police").name
    fresh = row(figs["freshness"], traffic)
    # The latest vehicle import (1 Dec, 6 days ago): 100 rows, 5 rejected; one failed import.
    assert fresh[2:4] == ["2026-12-01", 6] and fresh[4:] == [100, 5, 5.0, 1]
    assert row(figs["conflicts-department"], county_map.dept_medical.name)[-1] == 1
    medical = figures(personas.dept_medical, "quality")
    assert [r[0] for r in medical["freshness"].rows] in ([county_map.dept_medical.name], [])
    assert medical["conflicts-department"].rows == [[county_map.dept_medical.name, 0, 0, 1, 1]]
    assert figures(personas.dept_civil, "quality")["conflicts-department"].rows == []


# --- scope, pages and downloads ---------------------------------------------------------------


def test_another_townships_figures_never_appear(
    county: County, personas: Any, county_map: Any, login: Any
) -> None:
    client = login(personas.assistant_b)
    for slug in ("overview", "support", "causes", "quality"):
        response = client.get(reverse("dashboard-page", args=[slug]), {"year": YEAR})
        html = response.content.decode()
        assert response.status_code == 200, slug
        assert county_map.town_a.name not in html, slug
        assert county_map.town_b.name in html or slug == "overview", slug
    coordinator = login(personas.coordinator).get(reverse("dashboard-page", args=["quality"]))
    html = coordinator.content.decode()
    assert county_map.town_a.name in html and county_map.town_b.name in html


def test_who_may_open_which_dashboard(county: County, personas: Any, login: Any) -> None:
    overview = reverse("dashboard")
    assert login(personas.coordinator).get(overview).status_code == 200
    assert login(personas.dept_civil).get(overview).status_code == 200
    # Departments: their referrals' figures only, not the townships' pages.
    assert login(personas.dept_civil).get(reverse("dashboard-page", args=["causes"])).status_code == 403
    assert login(personas.dept_civil).get(reverse("dashboard-page", args=["support"])).status_code == 403
    for persona in (personas.cadre_a1, personas.auditor, personas.org_member_1):
        assert login(persona).get(overview).status_code == 403
    anonymous = login(personas.anonymous).get(overview)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert login(personas.coordinator).get(reverse("dashboard-page", args=["nope"])).status_code == 404


def test_the_page_is_csp_clean_and_carries_chart_data_and_tables(
    county: County, personas: Any, login: Any
) -> None:
    response = login(personas.coordinator).get(reverse("dashboard"), {"year": YEAR})
    html = response.content.decode()
    assert "<style" not in html and ' style="' not in html
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in s or 'type="application/json"' in s for s in scripts), scripts
    assert "vendor/chartjs/chart.umd.min.js" in html and "dashboards/dashboards.js" in html
    assert 'id="chart-data-cases"' in html and "cdn" not in html.lower()
    assert "办理" in html or "工作日" in html


def test_each_figure_downloads_as_excel_with_formula_cells_escaped(
    county: County, personas: Any, county_map: Any, login: Any
) -> None:
    county_map.dept_civil.name = "=HYPERLINK(1)"
    county_map.dept_civil.save(update_fields=["name"])
    client = login(personas.coordinator)
    url = reverse("dashboard-export", args=["overview", "departments"])
    response = client.get(url, {"year": YEAR})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert ["'=HYPERLINK(1)" in r for r in values].count(True) == 1
    assert [1, county_map.dept_medical.name, 1, 1, 100, 1] in [r[:6] for r in values]
    # Every figure of every page has its download, and another scope's download is scoped too.
    for slug in ("overview", "support", "causes", "quality"):
        for fig in page_figures(user=personas.coordinator, slug=slug, year=YEAR):
            got = client.get(reverse("dashboard-export", args=[slug, fig.key]), {"year": YEAR})
            assert got.status_code == 200, (slug, fig.key)
    b = login(personas.assistant_b).get(
        reverse("dashboard-export", args=["support", "satisfaction"]), {"year": YEAR}
    )
    assert county_map.town_a.name not in str(
        [[c.value for c in r] for r in load_workbook(io.BytesIO(b.content)).active.iter_rows()]
    )
    assert client.get(reverse("dashboard-export", args=["overview", "nope"])).status_code == 404
    assert (
        login(personas.dept_civil).get(reverse("dashboard-export", args=["causes", "fell-back"])).status_code
        == 403
    )


def test_each_page_runs_at_most_twelve_figure_queries_whatever_the_data(
    county: County, personas: Any, county_map: Any, django_assert_max_num_queries: Any, login: Any
) -> None:
    from assist_center.workdays import working_days_between

    working_days_between(d("2026-01-01"), d("2026-01-05"))  # the calendar loads once per process
    for slug in ("overview", "support", "causes", "quality"):
        with django_assert_max_num_queries(12):
            page_figures(user=personas.coordinator, slug=slug, year=YEAR)
    client = login(personas.coordinator)
    client.get(reverse("dashboard"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("dashboard"))
    for n in range(3):
        app = _application(
            county_map.village_b1,
            needs=["disaster"],
            submitted="2026-10-05",
            verified=f"2026-10-0{6 + n}",
            decided_by=personas.assistant_b,
        )
        _case(app, closed="2026-10-20", days=n)
    with CaptureQueriesContext(connection) as again:
        client.get(reverse("dashboard"))
    assert len(again) == len(few)


def test_a_page_serves_its_snapshot_until_the_task_refreshes_it(
    county: County, personas: Any, county_map: Any, login: Any
) -> None:
    from django.conf import settings

    from dashboards.tasks import dashboards_refresh

    assert settings.CELERY_BEAT_SCHEDULE["dashboards-refresh"]["task"] == dashboards_refresh.name
    client = login(personas.coordinator)

    def on_behalf_count() -> int:
        fig = next(
            f for f in client.get(reverse("dashboard")).context["figures"] if f["f"].key == "applications"
        )
        return sum(r[-1] for r in fig["f"].rows)

    assert on_behalf_count() == 3
    _application(
        county_map.village_b1,
        needs=["dibao"],
        submitted="2026-11-09",
        verified="2026-11-10",
        decided_by=personas.assistant_b,
    )
    assert on_behalf_count() == 3  # the kept figures: the page does not recompute
    assert dashboards_refresh.apply().get() == 4
    assert on_behalf_count() == 4
    # A township's own snapshot is kept apart from the county's.
    own = login(personas.assistant_b).get(reverse("dashboard"))
    assert sum(r[-1] for r in own.context["figures"][0]["f"].rows) == 2
    assert re.search(r'id="db-computed">[^<]*2026-12-07 10:00', own.content.decode())


def test_a_page_works_with_the_cache_down(county: County, personas: Any, login: Any, settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    from django.core.cache import caches

    caches._settings = None  # type: ignore[attr-defined]
    response = login(personas.coordinator).get(reverse("dashboard"))
    assert response.status_code == 200 and 'id="figure-cases"' in response.content.decode()
