"""Issue 5 in a real browser: department staff log in, see a yellow referral, complete it, the case closes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, ViewportSize, expect

from referrals.models import Case, Colour, Notification, Referral
from referrals.services.sweep import colour_sweep
from tests.referrals.test_workbench import make_referral

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
TABLET: ViewportSize = {"width": 820, "height": 1180}
SMALL_TABLET: ViewportSize = {"width": 768, "height": 1024}


# The live server runs in a thread of this process on the real clock, so the referral is made
# yellow on the real today: due today (Asia/Shanghai), and the real sweep gives it its colour.
# serialized_rollback: the flush after a transactional test would drop the seeded calendar.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_department_staff_complete_a_yellow_referral_and_the_case_closes(
    live_server: Any, page: Page, county_map: Any, personas: Any
) -> None:
    today = timezone.localdate()
    referral = make_referral(
        village=county_map.village_a1,
        department=county_map.dept_civil,
        items=["dibao", "temporary"],
        due=today,
        today=today - dt.timedelta(days=3),
    )
    Referral.objects.filter(pk=referral.pk).update(colour=Colour.NONE)
    colour_sweep(today=today, full=True)
    referral.refresh_from_db()
    assert referral.colour == Colour.YELLOW
    assert Notification.objects.filter(
        referral=referral, colour=Colour.YELLOW, audience="department"
    ).exists()
    receipt = referral.case.application.receipt_code
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/staff/referrals/")
    # Anonymous: the admin's login page, then back to the workbench.
    expect(page.locator("#id_username")).to_be_visible()
    page.fill("#id_username", "dept_civil")
    page.fill("#id_password", "correct-horse-battery-9")
    page.click("input[type=submit]")
    expect(page.locator("#content h1")).to_contain_text("转办工作台")

    # The warning is announced on top and the row carries the word 黄, not only the colour.
    expect(page.locator(".rw-notices")).to_contain_text(receipt)
    row = page.locator(f'tr[data-referral="{referral.pk}"]')
    expect(row.locator(".rw-badge")).to_have_text("黄")
    expect(row).to_contain_text("今日到期")
    expect(row).to_contain_text("最低生活保障")
    page.screenshot(path=str(SCREENSHOTS / "workbench-list-desktop.png"), full_page=True)

    # A tablet in portrait: the table becomes cards, and nothing scrolls sideways.
    page.set_viewport_size(TABLET)
    page.reload()
    expect(row.locator(".rw-badge")).to_have_text("黄")
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    page.screenshot(path=str(SCREENSHOTS / "workbench-list-tablet.png"), full_page=True)
    # A smaller tablet in portrait (768 px): each referral is a card.
    page.set_viewport_size(SMALL_TABLET)
    expect(page.locator("#rw-list thead")).to_have_css("position", "absolute")
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_TABLET["width"]
    page.screenshot(path=str(SCREENSHOTS / "workbench-list-cards.png"), full_page=True)
    page.set_viewport_size(DESKTOP)

    row.get_by_role("link", name=receipt).click()
    expect(page.locator("#rw-status")).to_contain_text("待接收")
    expect(page.locator(".rw-brief")).to_contain_text("王秀英")
    page.locator("#id_outcome-0-granted_0").check()
    page.fill("#id_outcome-0-benefit_kind", "低保金")
    page.fill("#id_outcome-0-amount", "850")
    page.select_option("#id_outcome-0-period", "monthly")
    page.fill("#id_outcome-0-start_date", "2026-12-01")
    page.locator("#id_outcome-1-granted_1").check()
    page.fill("#id_outcome-1-reason", "已享受低保，本次不再给予临时救助")
    page.screenshot(path=str(SCREENSHOTS / "workbench-detail-desktop.png"), full_page=True)
    page.get_by_role("button", name="办结").click()

    expect(page.locator(".messagelist")).to_contain_text("该转办已办结")
    expect(page.locator("#rw-status")).to_contain_text("已办结")
    expect(page.locator("#rw-case-status")).to_contain_text("已结案")
    expect(page.locator(".rw-outcomes-done")).to_contain_text("低保金")
    expect(page.locator(".rw-history")).to_contain_text("已结案")
    page.screenshot(path=str(SCREENSHOTS / "workbench-completed-desktop.png"), full_page=True)
    page.set_viewport_size(TABLET)
    page.screenshot(path=str(SCREENSHOTS / "workbench-completed-tablet.png"), full_page=True)

    referral.refresh_from_db()
    assert referral.status == Referral.Status.COMPLETED
    assert {o.item: o.granted for o in referral.outcomes.all()} == {"dibao": True, "temporary": False}
    case = Case.objects.get(pk=referral.case_id)
    assert case.status == Case.Status.CLOSED and case.closed_at is not None
