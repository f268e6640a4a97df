"""The public statistics against a known dataset: SQL figures, definitions, suppression under 5."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from charity.funds_services import fund_entry_correct, fund_entry_record
from charity.models import FundEntry, Organisation, Project
from charity.stats_selectors import DEFINITIONS, SUPPRESSED, public_stats, suppress
from charity.training_services import attendance_record, training_session_create

from . import funds_builders as b

pytestmark = pytest.mark.django_db


def test_suppression_hides_cells_of_one_to_four_and_a_second_cell_when_only_one_is_hidden() -> None:
    assert suppress([0, 5, 12]) == [0, 5, 12]
    assert suppress([4, 5, 12]) == [SUPPRESSED, SUPPRESSED, 12]
    assert suppress([1, 4, 9]) == [SUPPRESSED, SUPPRESSED, 9]
    assert suppress([0, 0, 5]) == [0, 0, 5]


def _seed(personas: Any, county_map: Any) -> None:
    org1 = Organisation.objects.get(members=personas.org_member_1)
    org2 = Organisation.objects.get(members=personas.org_member_2)
    org1.is_vetted = True
    org1.save(update_fields=["is_vetted"])
    Organisation.objects.create(name="乡贤张先生", kind=Organisation.Kind.GENTRY)
    c = personas.coordinator
    fund_entry_record(
        actor=c,
        organisation=org1,
        kind=FundEntry.Kind.PLEDGE,
        amount="10000",
        occurred_on=dt.date(2025, 3, 1),
        due_on=dt.date(2025, 6, 1),
    )
    fund_entry_record(
        actor=c,
        organisation=org1,
        kind=FundEntry.Kind.RECEIPT,
        amount="8000",
        occurred_on=dt.date(2025, 4, 1),
    )
    wrong = fund_entry_record(
        actor=c,
        organisation=org2,
        kind=FundEntry.Kind.SPENDING,
        amount="9999",
        occurred_on=dt.date(2025, 5, 1),
        purpose="助学",
    )
    fund_entry_correct(actor=c, entry=wrong, amount="999", correction_note="录入错误")
    fund_entry_record(
        actor=c,
        organisation=org2,
        kind=FundEntry.Kind.PLEDGE,
        amount="5000",
        occurred_on=timezone.localdate(),
        due_on=timezone.localdate(),
    )
    # Six people trained in the first township (shown), three in the second (suppressed).
    town_a, town_b = county_map.town_a, county_map.town_b
    start = timezone.now().replace(microsecond=0) - dt.timedelta(days=3)
    sa = training_session_create(
        actor=c,
        title="A",
        trainer="甲",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        hours="2",
        township=town_a,
    )
    sb = training_session_create(
        actor=c,
        title="B",
        trainer="乙",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        hours="1.5",
        township=town_b,
    )
    for i in range(6):
        attendance_record(actor=c, session=sa, name=f"学员{i}", phone=f"1380013800{i}")
    for i in range(3):
        attendance_record(actor=c, session=sb, name=f"学员{i}", phone=f"1380013800{i}")
    b.project(coordinator=c, member=personas.org_member_1, organisation=org1, township=town_a)
    b.project(coordinator=c, member=personas.org_member_1, organisation=org1, status=Project.Status.DRAFT)


def test_the_figures_match_a_known_dataset(personas: Any, county_map: Any) -> None:
    _seed(personas, county_map)
    s = public_stats()
    this_year = timezone.localdate().year
    by_year = {r.year: r for r in s.years}
    assert s.orgs_total == 3 and s.orgs_vetted == 1
    assert {k["kind"]: (k["n"], k["vetted"]) for k in s.kinds} == {"ngo": (2, 1), "gentry": (1, 0)}
    y2025 = by_year[2025]
    assert (y2025.pledged, y2025.received, y2025.spent) == (Decimal("10000"), Decimal("8000"), Decimal("999"))
    now = by_year[this_year]
    assert now.pledged == Decimal("5000")
    assert now.trained == 6 and now.person_hours == Decimal("16.5")
    assert s.total.trained == 6
    # The draft is no project yet; the approved one (call of 2026) counts.
    assert by_year[2026].projects == 1
    towns = {t.name: t.cells for t in s.townships}
    # Columns: projects, trained, needs published. One project: suppressed. 沙柳's few trainees are
    # suppressed, and so is 海游's 6, the column's only other non-zero cell, which with the county
    # total would give 沙柳's away (secondary suppression).
    assert towns["海游街道"] == [SUPPRESSED, SUPPRESSED, 0]
    assert towns["沙柳街道"] == [0, SUPPRESSED, 0]


def test_the_page_links_every_figure_to_its_definition(personas: Any, county_map: Any) -> None:
    _seed(personas, county_map)
    response = Client().get("/charity/stats/")
    assert response.status_code == 200
    html = response.content.decode()
    for key, name, _text in DEFINITIONS:
        assert f'id="def-{key}"' in html and name in html
    for key in ("funds-pledged", "funds-received", "funds-spent", "trained", "person-hours", "projects"):
        assert f'href="#def-{key}"' in html
    assert "&lt;5" in html
    assert "<script" not in html and "style=" not in html
    assert 'name="viewport"' in html
