"""Issue 16 (Chromium, 1366 px): the centre answers with a photo; the department opens it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, ViewportSize, expect

from referrals.models import InfoAttachment, Referral
from tests.referrals.test_attachments import png_bytes
from tests.referrals.test_workbench import make_referral

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
STAFF: ViewportSize = {"width": 1366, "height": 768}


def _login(page: Page, url: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", "correct-horse-battery-9")
    page.click("input[type=submit]")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_answer_with_a_photo_reaches_the_department(
    live_server: Any, page: Page, county_map: Any, personas: Any, tmp_path: Path
) -> None:
    today = timezone.localdate()
    referral = make_referral(
        village=county_map.village_a1,
        department=county_map.dept_civil,
        items=["dibao"],
        due=today + dt.timedelta(days=7),
        today=today,
        status=Referral.Status.ACCEPTED,
    )
    url = f"{live_server.url}/staff/referrals/{referral.pk}/"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(STAFF)
    _login(page, url, "dept_civil")
    page.fill("#id_question", "请补充户口本复印件")
    page.locator("#rw-request-info button[type=submit]").click()
    expect(page.locator(".rw-thread")).to_contain_text("请补充户口本复印件")

    photo = tmp_path / "户口本.png"
    photo.write_bytes(png_bytes())
    fake = tmp_path / "病历.pdf"
    fake.write_bytes(b"<html>not a pdf</html>")
    _login(page, url, "assistant_a")
    form = page.locator("#rw-answer-info")
    form.locator("textarea").fill("户口本复印件见附件")
    form.locator("input[type=file]").set_input_files([str(photo), str(fake)])
    form.locator("button[type=submit]").click()
    expect(page.locator("#errors")).to_contain_text("病历.pdf 不是照片（JPEG、PNG）或 PDF 文件")
    assert not InfoAttachment.objects.exists()
    form = page.locator("#rw-answer-info")
    form.locator("textarea").fill("户口本复印件见附件")
    form.locator("input[type=file]").set_input_files([str(photo)])
    form.locator("button[type=submit]").click()
    expect(page.locator(".rw-attachments")).to_contain_text("户口本.png")

    _login(page, url, "dept_civil")
    link = page.locator(".rw-attachments a")
    expect(link).to_have_text("户口本.png")
    # The history names people with their role, not their usernames.
    expect(page.locator(".rw-history")).not_to_contain_text("assistant_a")
    expect(page.locator(".rw-history")).to_contain_text("乡镇")
    page.screenshot(path=str(SCREENSHOTS / "referral-attachments-1366.png"), full_page=True)
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "saved.png"
    download.value.save_as(saved)
    assert saved.read_bytes() == photo.read_bytes()
