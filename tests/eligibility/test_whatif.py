"""What-if of a new standard: who of the enrolled households would gain or lose the item, by township."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from applications.models import Household
from assist_center.errors import ApplicationError
from assist_center.models import AuditEvent, Region
from demo.pool import content_hash
from eligibility.models import PoolRecord
from eligibility.pool.categories import CATEGORIES
from eligibility.rules import DEMO_PARAMS
from eligibility.services.whatif import csv_cell, recheck_enrolled, whatif_csv, whatif_run

from .db import publish_demo_standards
from .test_monitoring import home, members

_n = iter(range(1, 10**6))


def add(person: Any, category: str, days: int, **data: Any) -> None:
    PoolRecord.objects.create(
        category=category,
        department=CATEGORIES[category].department,
        source_record_id=f"WI{next(_n)}",
        person_hash=person.id_number_hash,
        effective_date=timezone.localdate() - dt.timedelta(days=days),
        data=data,
        content_hash=content_hash(data),
        updated_at=timezone.now(),
    )


def household(village: Region, *, monthly_wage: int | None, enrolled: bool = True) -> Household:
    h = home(village, enrolled=enrolled)
    person = members(h)[0]
    add(person, "hukou", 3000, household_number=f"HH{h.pk}", relation="self", status="正常")
    if monthly_wage is None:
        add(person, "unemployment", 100, status="登记中")
    else:
        for month in range(12):
            add(person, "wage", 15 + 30 * month, amount=str(monthly_wage))
    return h


@pytest.fixture
def rolls(county_map: Any) -> dict[str, Household]:
    publish_demo_standards(county_map.county)
    c = county_map
    return {
        "eligible_1000": household(c.village_a1, monthly_wage=1000),
        "over_1200": household(c.village_a1, monthly_wage=1200),
        "no_income": household(c.village_a2, monthly_wage=None),
        "b_over_1200": household(c.village_b1, monthly_wage=1200),
        "not_enrolled": household(c.village_a1, monthly_wage=1200, enrolled=False),
    }


def dibao(amount: str) -> dict[str, Any]:
    return {**DEMO_PARAMS["dibao"], "amount_per_person_month": amount}


@pytest.mark.django_db
def test_a_higher_standard_shows_who_would_gain_by_township(
    rolls: dict[str, Household], county_map: Any, personas: Any
) -> None:
    result = whatif_run(actor=personas.coordinator, item="dibao", params=dibao("1300"))
    assert result.households == 4
    counts = {t.township: (t.gain, t.lose, t.unchanged) for t in result.by_township}
    assert counts == {"海游街道": (1, 0, 2), "沙柳街道": (1, 0, 0)}
    gained = {r.household_id for r in result.rows}
    assert gained == {rolls["over_1200"].pk, rolls["b_over_1200"].pk}
    row = next(r for r in result.rows if r.household_id == rolls["over_1200"].pk)
    assert (row.old, row.new, row.change) == ("not_eligible", "eligible", "gain")
    assert row.township == "海游街道" and row.village == "上叶村" and row.head == "王**"
    event = AuditEvent.objects.get(action="standard.whatif")
    assert event.new_values["gain"] == 2 and event.actor == personas.coordinator


@pytest.mark.django_db
def test_a_lower_standard_for_one_township_shows_who_would_lose(
    rolls: dict[str, Household], county_map: Any, personas: Any
) -> None:
    result = whatif_run(
        actor=personas.coordinator, item="dibao", params=dibao("900"), region=county_map.town_a
    )
    assert result.households == 3  # town B is not run
    assert (result.gain, result.lose, result.unchanged) == (0, 1, 2)
    assert [r.household_id for r in result.rows] == [rolls["eligible_1000"].pk]


@pytest.mark.django_db
def test_a_townships_own_standard_is_not_replaced_by_a_county_one(
    rolls: dict[str, Household], county_map: Any, personas: Any
) -> None:
    from eligibility.standards import standard_publish

    standard_publish(
        actor="test",
        item="dibao",
        region=county_map.town_b,
        effective_from=dt.date(2026, 1, 1),
        params=dibao("1150"),
        today=dt.date(2026, 1, 1),
    )
    result = whatif_run(actor=personas.coordinator, item="dibao", params=dibao("1300"))
    counts = {t.township: (t.gain, t.lose, t.unchanged) for t in result.by_township}
    assert counts["沙柳街道"] == (0, 0, 1)


@pytest.mark.django_db
def test_what_if_is_the_coordinators_and_checks_the_parameters(rolls: Any, personas: Any) -> None:
    for persona in (personas.assistant_a, personas.cadre_a1, personas.dept_civil, personas.auditor):
        with pytest.raises(PermissionDenied):
            whatif_run(actor=persona, item="dibao", params=dibao("1300"))
    with pytest.raises(ApplicationError) as bad:
        whatif_run(actor=personas.coordinator, item="dibao", params={"amount_per_person_month": "-1"})
    assert "amount_per_person_month" in bad.value.extra["fields"]


@pytest.mark.django_db
def test_the_download_escapes_formulas_and_is_audited(rolls: Any, personas: Any) -> None:
    result = whatif_run(actor=personas.coordinator, item="dibao", params=dibao("1300"))
    response = whatif_csv(actor=personas.coordinator, result=result)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["海游街道", "1", "0", "2", "3"] in rows
    assert any(r and r[-1] == "新增符合" for r in rows)
    assert AuditEvent.objects.filter(action="standard.whatif.export").count() == 1
    assert (
        csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
        and csv_cell("-3") == "'-3"
        and csv_cell("上叶村") == "上叶村"
    )


@pytest.mark.django_db
def test_the_recheck_runs_every_item_for_every_enrolled_household(rolls: Any) -> None:
    summary = recheck_enrolled()
    assert summary.households == 4
    assert summary.outcomes["dibao"] == {"eligible": 2, "not_eligible": 2}
    assert sum(summary.outcomes["medical"].values()) == 4
