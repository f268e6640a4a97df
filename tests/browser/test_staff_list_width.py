"""The application list at 1366 px, as an assistant and the coordinator open it (issue 16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import factories as f

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
STAFF = {"width": 1366, "height": 800}
NEEDS = ["dibao", "medical", "employment", "temporary", "disaster"]


def _log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct-horse-battery-9")
    page.click("input[type=submit]")
    expect(page.locator("#content h1")).to_be_visible()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("username", ["assistant_a", "coordinator"])
def test_the_application_list_shows_every_column_at_1366_px(
    live_server: Any, page: Page, personas: Any, county_map: Any, username: str
) -> None:
    f.ApplicationFactory(village=county_map.village_a1, needs=NEEDS, assistant=personas.assistant_a)
    f.ApplicationFactory(village=county_map.village_b1, needs=["dibao"])
    page.set_viewport_size(STAFF)
    _log_in(page, live_server.url, username)
    page.goto(f"{live_server.url}/admin/applications/application/")
    table = page.locator("#result_list")
    expect(table).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"application-list-{username}.png"), full_page=True)

    box = page.locator("#changelist .results").bounding_box()
    assert box is not None
    for header in ("疑似重复", "已签名/需签名", "提交时间"):
        cell = table.locator("thead th", has_text=header)
        expect(cell).to_be_visible()
        cell_box = cell.bounding_box()
        assert cell_box is not None and cell_box["x"] + cell_box["width"] <= box["x"] + box["width"] + 1, (
            header
        )
    overflow = page.evaluate(
        "() => { const r = document.querySelector('#changelist .results');"
        " return r.scrollWidth - r.clientWidth; }"
    )
    assert overflow <= 0
    # Every item the household asked for is shown, none hidden behind "等N项".
    needs = table.locator("td.field-needs_short", has_text="医疗救助")
    for label in ("最低生活保障", "医疗救助", "就业救助", "临时救助", "受灾人员救助"):
        expect(needs).to_contain_text(label)
    expect(needs).not_to_contain_text("项")
