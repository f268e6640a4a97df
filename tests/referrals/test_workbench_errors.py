"""Issue 16: a refused workbench form lists its errors on top, in page order; a GET after POST is the page."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from referrals.models import Referral, ReferralOutcome
from tests.referrals.test_workbench import NOW, _outcome_post, make_referral


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _summary(html: str) -> str:
    match = re.search(r'<div class="errornote rw-error-summary" id="errors".*?</div>', html, re.S)
    assert match, "no error summary on the page"
    return match.group(0)


def test_a_refused_completion_lists_its_errors_at_the_top_in_page_order_with_links(
    login: Any, personas: Any, county_map: Any, clock: Any
) -> None:
    r = make_referral(
        village=county_map.village_a1,
        department=county_map.dept_civil,
        items=["dibao", "temporary"],
        status="accepted",
    )
    client = login(personas.dept_civil)
    bad = client.post(
        reverse("workbench-referral-complete", args=[r.pk]),
        _outcome_post([{"granted": "yes"}, {"granted": "no"}]),
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    summary = _summary(html)
    # Above the brief and the forms, not below the fold.
    assert html.index('id="errors"') < html.index('class="rw-summary"') < html.index('id="rw-complete"')
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)
    assert [anchor for anchor, _text in links] == [
        "id_outcome-0-benefit_kind",
        "id_outcome-0-period",
        "id_outcome-0-start_date",
        "id_outcome-1-reason",
    ]
    # Each line names the item it belongs to.
    assert links[0][1].startswith("最低生活保障 · ") and "请说明给予的救助" in links[0][1]
    assert links[3][1].startswith("临时救助 · ") and "请填写不予救助的原因" in links[3][1]
    # Every anchor is a field of the page.
    for anchor, _text in links:
        assert f'id="{anchor}"' in html
    assert not ReferralOutcome.objects.exists()


def test_a_refused_return_links_its_note_field_from_the_summary(
    login: Any, personas: Any, county_map: Any, clock: Any
) -> None:
    r = make_referral(village=county_map.village_a1, department=county_map.dept_civil, items=["dibao"])
    client = login(personas.dept_civil)
    response = client.post(reverse("workbench-referral-return", args=[r.pk]), {"reason_code": "other"})
    assert response.status_code == 400
    html = response.content.decode()
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', _summary(html))
    assert [anchor for anchor, _text in links] == ["id_note"]
    assert links[0][1].startswith("备注：")
    assert html.index('id="errors"') < html.index('class="rw-summary"')
    r.refresh_from_db()
    assert r.status == Referral.Status.PENDING


def test_a_get_on_an_action_url_goes_back_to_the_referral_page_not_a_405(
    login: Any, personas: Any, county_map: Any, clock: Any
) -> None:
    r = make_referral(village=county_map.village_a1, department=county_map.dept_civil, items=["dibao"])
    client = login(personas.dept_civil)
    page = reverse("workbench-referral", args=[r.pk])
    for name in ("accept", "request-info", "complete", "return"):
        response = client.get(reverse(f"workbench-referral-{name}", args=[r.pk]))
        assert response.status_code == 302, name
        assert response["Location"] == page
    r.refresh_from_db()
    assert r.status == Referral.Status.PENDING
    # Another department following the redirect still meets the 404 of the page.
    other = login(personas.dept_medical)
    response = other.get(reverse("workbench-referral-accept", args=[r.pk]), follow=True)
    assert response.status_code == 404
    assert client.put(reverse("workbench-referral-accept", args=[r.pk])).status_code == 405


def test_a_successful_action_redirects_so_a_reload_does_not_post_again(
    login: Any, personas: Any, county_map: Any, clock: Any
) -> None:
    r = make_referral(village=county_map.village_a1, department=county_map.dept_civil, items=["dibao"])
    client = login(personas.dept_civil)
    response = client.post(
        reverse("workbench-referral-request-info", args=[r.pk]), {"question": "请补充材料"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("workbench-referral", args=[r.pk])
    reloaded = client.get(response["Location"])
    assert reloaded.status_code == 200
    assert "请补充材料" in reloaded.content.decode()
