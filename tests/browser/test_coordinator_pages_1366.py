"""Issue 16 at 1366 px as the coordinator: the standards form, the import page and its list, in Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from eligibility.models import ImportJob

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
STAFF: ViewportSize = {"width": 1366, "height": 768}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_standard_form_and_import_pages_read_in_chinese_without_codes(
    live_server: Any, page: Page, personas: Any
) -> None:
    ImportJob.objects.create(category="real_estate", file_name="不动产.csv", status=ImportJob.Status.DONE)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(STAFF)
    page.goto(f"{live_server.url}/admin/eligibility/standard/add/?item=extreme_poverty")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", "correct-horse-battery-9")
    page.click("input[type=submit]")
    expect(page.locator("label[for=id_p_age_elderly]")).to_contain_text("老年人年龄（不低于）")
    expect(page.locator("#id_p_supporter_income_limit_helptext")).to_contain_text("单位：元")
    expect(page.locator("#content")).to_contain_text("1级")
    expect(page.locator("textarea[name=params]")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= STAFF["width"]
    page.screenshot(path=str(SCREENSHOTS / "standard-form-1366.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/eligibility/importjob/upload/")
    table = page.locator("#import-templates")
    expect(table).to_contain_text("身份证号码、记录编号、生效日期")
    expect(table.get_by_role("link", name="下载模板（CSV）").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= STAFF["width"]
    page.screenshot(path=str(SCREENSHOTS / "import-upload-1366.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/eligibility/importjob/")
    expect(page.locator("#changelist-filter")).to_contain_text("不动产登记")
    expect(page.locator("#result_list")).to_contain_text("不动产登记")
    expect(page.locator("#changelist")).not_to_contain_text("real_estate")
    # Every column fits beside the sidebar: the last header ends inside the window.
    last = page.locator("#result_list thead th").last.bounding_box()
    assert last is not None and last["x"] + last["width"] <= STAFF["width"]
    page.screenshot(path=str(SCREENSHOTS / "importjob-list-1366.png"))
