"""Standards: county fallback, township override, versions with dates, never edited in place."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from assist_center.errors import ApplicationError
from assist_center.models import AuditEvent
from eligibility.models import Standard
from eligibility.rules import DEMO_PARAMS
from eligibility.standards import standard_amend, standard_publish, standards_in_force

D1, D2, D3 = dt.date(2026, 1, 1), dt.date(2026, 7, 1), dt.date(2027, 1, 1)


def dibao(amount: str) -> dict[str, Any]:
    return {**DEMO_PARAMS["dibao"], "amount_per_person_month": amount}


def publish(region: Any, start: dt.date, amount: str, *, today: dt.date | None = None) -> Standard:
    return standard_publish(
        actor="test",
        item="dibao",
        region=region,
        effective_from=start,
        params=dibao(amount),
        note="",
        today=today or start,
    )


@pytest.mark.django_db
def test_a_village_gets_the_county_standard_unless_its_township_has_its_own(county_map: Any) -> None:
    c = county_map
    publish(c.county, D1, "1150")
    own = publish(c.town_a, D1, "1200")
    assert standards_in_force(c.village_a1, D2)["dibao"].pk == own.pk
    assert standards_in_force(c.town_a, D2)["dibao"].pk == own.pk
    assert standards_in_force(c.village_b1, D2)["dibao"].params["amount_per_person_month"] == "1150"
    assert standards_in_force(c.county, D2)["dibao"].region == c.county


@pytest.mark.django_db
def test_a_new_version_closes_the_previous_one_on_its_start_day(county_map: Any) -> None:
    c = county_map
    v1 = publish(c.county, D1, "1150")
    v2 = publish(c.county, D3, "1210", today=D2)
    v1.refresh_from_db()
    assert (v1.version, v2.version) == (1, 2)
    assert v1.effective_to == D3 and v2.effective_to is None
    assert v1.params["amount_per_person_month"] == "1150"  # the old version's values stay as they were
    assert standards_in_force(c.county, D3 - dt.timedelta(days=1))["dibao"].pk == v1.pk
    assert standards_in_force(c.county, D3)["dibao"].pk == v2.pk
    assert "dibao" not in standards_in_force(c.county, D1 - dt.timedelta(days=1))
    assert AuditEvent.objects.filter(action="standard.publish", subject_id=str(v2.pk)).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "message"),
    [(D1, "必须晚于最新版本"), (dt.date(2026, 3, 1), "不能早于今天")],
)
def test_a_new_version_cannot_rewrite_the_past(county_map: Any, start: dt.date, message: str) -> None:
    publish(county_map.county, D1, "1150")
    with pytest.raises(ApplicationError) as exc:
        publish(county_map.county, start, "1300", today=D2)
    assert message in str(exc.value.message)
    assert Standard.objects.count() == 1


@pytest.mark.django_db
def test_bad_parameters_are_refused_with_each_key_named(county_map: Any) -> None:
    with pytest.raises(ApplicationError) as exc:
        standard_publish(
            actor="test",
            item="dibao",
            region=county_map.county,
            effective_from=D1,
            params={"amount_per_person_month": "-5", "surprise": 1},
            note="",
        )
    fields = exc.value.extra["fields"]
    assert {"amount_per_person_month", "surprise", "vehicle_limit"} <= set(fields)
    with pytest.raises(ApplicationError):
        standard_publish(
            actor="test",
            item="dibao",
            region=county_map.village_a1,
            effective_from=D1,
            params=dibao("1"),
            note="",
        )


@pytest.mark.django_db
def test_a_standard_in_force_is_never_amended_but_a_future_one_may_be(county_map: Any) -> None:
    v1 = publish(county_map.county, D1, "1150")
    with pytest.raises(ApplicationError) as exc:
        standard_amend(actor="test", standard_id=v1.pk, params=dibao("9"), note="", today=D2)
    assert exc.value.status == 409
    v2 = publish(county_map.county, D3, "1210", today=D2)
    standard_amend(actor="test", standard_id=v2.pk, params=dibao("1220"), note="更正", today=D2)
    v2.refresh_from_db()
    assert v2.params["amount_per_person_month"] == "1220"
    v1.refresh_from_db()
    assert v1.params["amount_per_person_month"] == "1150"


@pytest.mark.django_db
def test_the_coordinator_publishes_through_the_admin_and_a_started_version_is_read_only(
    personas: Any, login: Any, county_map: Any
) -> None:
    client = login(personas.coordinator)
    response = client.post(
        "/admin/eligibility/standard/add/",
        {
            "item": "medical",
            "region": county_map.county.pk,
            "effective_from": "2026-01-01",
            "p_spending_ratio": "0.5",
            "p_min_spending": "5000",
            "note": "首版",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    standard = Standard.objects.get(item="medical")
    assert standard.version == 1
    page = client.get(f"/admin/eligibility/standard/{standard.pk}/change/")
    assert page.status_code == 200
    assert 'name="params"' not in page.content.decode()
    # A POST to the read-only page changes nothing.
    client.post(
        f"/admin/eligibility/standard/{standard.pk}/change/",
        {"p_spending_ratio": "9", "p_min_spending": "1"},
    )
    standard.refresh_from_db()
    assert standard.params["spending_ratio"] == "0.5"
    # A second version for a date already covered is refused on the form.
    again = client.post(
        "/admin/eligibility/standard/add/",
        {
            "item": "medical",
            "region": county_map.county.pk,
            "effective_from": "2026-01-01",
            "p_spending_ratio": "0.4",
            "p_min_spending": "5000",
            "note": "",
        },
    )
    assert again.status_code == 200 and Standard.objects.filter(item="medical").count() == 1


@pytest.mark.django_db
def test_standards_are_the_coordinators(personas: Any, login: Any) -> None:
    for persona in (personas.assistant_a, personas.cadre_a1, personas.dept_civil, personas.auditor):
        assert login(persona).get("/admin/eligibility/standard/").status_code == 403
    assert login(personas.coordinator).get("/admin/eligibility/standard/").status_code == 200
