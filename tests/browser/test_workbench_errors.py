"""Issue 16 in Chromium at 1366 px: a refused 办结 shows its errors at the top; reloads never resubmit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, ViewportSize, expect

from referrals.models import Referral
from tests.referrals.test_workbench import make_referral

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
STAFF: ViewportSize = {"width": 1366, "height": 768}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_errors_of_a_refused_completion_are_on_top_and_a_reload_shows_the_page(
    live_server: Any, page: Page, county_map: Any, personas: Any
) -> None:
    today = timezone.localdate()
    referral = make_referral(
        village=county_map.village_a1,
        department=county_map.dept_civil,
        items=["dibao", "temporary"],
        due=today + dt.timedelta(days=7),
        today=today,
        status=Referral.Status.ACCEPTED,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(STAFF)
    page.goto(f"{live_server.url}/staff/referrals/{referral.pk}/")
    page.fill("#id_username", "dept_civil")
    page.fill("#id_password", "correct-horse-battery-9")
    page.click("input[type=submit]")
    expect(page.locator("#rw-status")).to_contain_text("已接收")

    # 办结 with the first item granted but nothing said about what, the second refused without why.
    page.locator("#id_outcome-0-granted_0").check()
    page.locator("#id_outcome-1-granted_1").check()
    page.locator("#rw-complete button[type=submit]").click()
    summary = page.locator("#errors")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("表单未提交")
    # On the first screen, without scrolling: the top of the summary is inside the viewport.
    box = summary.bounding_box()
    assert box is not None and box["y"] + box["height"] <= STAFF["height"]
    links = summary.locator("a")
    expect(links).to_have_count(4)
    expect(links.first).to_contain_text("请说明给予的救助")
    page.screenshot(path=str(SCREENSHOTS / "workbench-errors-1366.png"))
    links.last.click()
    assert page.url.endswith("#id_outcome-1-reason")
    expect(page.locator("#id_outcome-1-reason")).to_be_in_viewport()

    # The address bar now shows the action's URL: opening it again is the referral page, not a 405.
    response = page.goto(page.url.split("#")[0])
    assert response is not None and response.status == 200
    assert page.url.endswith(f"/staff/referrals/{referral.pk}/")
    expect(page.locator("#rw-status")).to_contain_text("已接收")

    # A successful 办结 redirects: reloading the result shows the page and posts nothing again.
    page.locator("#id_outcome-0-granted_1").check()
    page.fill("#id_outcome-0-reason", "家庭收入超过低保标准")
    page.locator("#id_outcome-1-granted_1").check()
    page.fill("#id_outcome-1-reason", "已享受其他救助")
    page.locator("#rw-complete button[type=submit]").click()
    expect(page.locator("#rw-status")).to_contain_text("已办结")
    assert page.url.endswith(f"/staff/referrals/{referral.pk}/")
    response = page.reload()
    assert response is not None and response.status == 200 and response.request.method == "GET"
    expect(page.locator("#rw-status")).to_contain_text("已办结")
    page.screenshot(path=str(SCREENSHOTS / "workbench-completed-1366.png"))
    referral.refresh_from_db()
    assert referral.status == Referral.Status.COMPLETED
    assert referral.outcomes.count() == 2
