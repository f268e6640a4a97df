"""A new staff member opens the admin in a real browser: it speaks Chinese and shows the county."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.mark.django_db(transaction=True)
def test_coordinator_logs_in_and_sees_the_admin_in_chinese(
    live_server: Any, page: Page, personas: Any
) -> None:
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_contain_text("联合帮扶中心")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", "correct-horse-battery-9")
    page.click("input[type=submit]")
    expect(page.locator("#content h1")).to_contain_text("工作台")
    expect(page.get_by_role("link", name="地区")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-index-coordinator.png"), full_page=True)

    page.get_by_role("link", name="地区").first.click()
    expect(page.locator("#result_list")).to_contain_text("海游街道")


@pytest.mark.django_db(transaction=True)
def test_wrong_password_is_refused_in_chinese(live_server: Any, page: Page, personas: Any) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", "not-the-password")
    page.click("input[type=submit]")
    expect(page.locator(".errornote")).to_contain_text("请输入")
