"""The dashboards at 1366 px in Chinese (issue 13): the charts draw under the CSP, one screenshot a page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.dashboards.test_dashboards import YEAR, clock, county  # noqa: F401 (fixtures)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
LAPTOP = {"width": 1366, "height": 800}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_each_dashboard_draws_its_charts_without_csp_errors(
    live_server: Any,
    page: Page,
    personas: Any,
    county: Any,  # noqa: F811
) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # the site has none
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", "correct-horse-battery-9")
    page.click("input[type=submit]")
    expect(page.locator("#content h1")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for slug, heading in (
        ("overview", "办结用时"),
        ("support", "监测预警"),
        ("causes", "致困原因"),
        ("quality", "数据质量"),
    ):
        page.goto(f"{live_server.url}/staff/dashboard/{slug}/?year={YEAR}")
        expect(page.locator("h2", has_text=heading).first).to_be_visible()
        canvases = page.locator("canvas[data-chart]")
        assert canvases.count() >= 2, slug
        drawn = page.evaluate(
            "() => [...document.querySelectorAll('canvas[data-chart]')]"
            ".every(c => window.Chart && window.Chart.getChart(c) !== undefined)"
        )
        assert drawn, slug
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-{slug}.png"), full_page=True)
    assert not problems, problems
