"""Issue 11 on a phone (360 px): the public board, a shared need, an organisation claims and reports
completion with a photo, the resident answers the SMS link, the assistant confirms, the statistics move.

The live server runs in a thread of this process; the SMS link is read from the database (the test
stands in for the resident who received it).
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image
from playwright.sync_api import Browser, Page, expect

from charity.models import Claim, ClaimUpdate, EvidencePhoto, Need
from tests.charity.helpers import org_with_member, visible_need

from .conftest import PHONE

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORD = "correct-horse-battery-9"  # the factories' password for every user
CAMERA = "TestPhone-X9"


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings: Any) -> None:
    default = settings.CACHES["default"]
    prefix = f"{default.get('KEY_PREFIX', '')}:{secrets.token_hex(6)}"
    settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": prefix}}


@pytest.fixture
def phone_page(browser: Browser, browser_context_args: dict[str, Any]) -> Any:
    context = browser.new_context(
        **{**browser_context_args, "viewport": PHONE, "device_scale_factor": 2, "has_touch": True}
    )
    page = context.new_page()
    yield page
    context.close()


def camera_jpeg() -> bytes:
    """A phone camera's JPEG: maker, comment and a GPS position in the county."""
    img = Image.new("RGB", (120, 80), (40, 120, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (29.0, 6.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 22.0, 40.0)
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif, comment=b"home of the family")
    return out.getvalue()


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def shot(page: Page, name: str) -> None:
    no_sideways_scroll(page)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _figure(page: Page, selector: str) -> int:
    return int(page.locator(selector).inner_text().strip())


# serialized_rollback: the flush after a transactional test would drop the seeded calendar.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_organisation_claims_and_completes_a_need_on_a_phone_and_the_statistics_change(
    live_server: Any, phone_page: Page, county_map: Any, personas: Any, tmp_path: Path
) -> None:
    org, member = org_with_member("海游爱心志愿队")
    need = visible_need(personas.assistant_a, county_map.village_a1, phone="13800138000")
    assert need.visibility == Need.Visibility.FULL
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = phone_page
    base = live_server.url

    # The public statistics before: no need completed, nobody helped yet.
    page.goto(f"{base}/charity/stats/")
    expect(page.locator("h1")).to_have_text("公益谷公开统计")
    shot(page, "charity-stats-before.png")
    completed_before = _figure(page, "#year-total td:nth-child(12)")
    helped_before = _figure(page, "#year-total td:nth-child(13)")

    # The board, no login: filters, the cards, priority first.
    page.goto(f"{base}/charity/")
    expect(page.locator("h1")).to_contain_text("需求大厅")
    card = page.locator(".need-card", has=page.locator(f'a[href="/charity/needs/{need.public_id}/"]'))
    expect(card).to_contain_text("海游街道")
    expect(card).to_contain_text("待认领")
    shot(page, "charity-board.png")
    page.select_option("#id_township", label="沙柳街道")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator(".need-card")).to_have_count(0)
    expect(page.locator("main, body").first).to_contain_text("暂无符合条件的需求")

    # The need's page carries the share link and a QR code; the link is what a WeChat group gets.
    page.goto(f"{base}/charity/needs/{need.public_id}/")
    share = page.locator(".copy-box").inner_text().strip()
    assert share.endswith(f"/charity/needs/{need.public_id}/")
    expect(page.locator("img.qr")).to_be_visible()
    assert page.locator('meta[property="og:title"]').get_attribute("content")
    shot(page, "charity-need.png")
    page.goto(f"{base}/charity/needs/{need.public_id}/")  # as opened from the share link
    expect(page.locator("h1")).to_contain_text("需求")
    page.get_by_role("link", name="登录").click()

    # The organisation member signs in at /charity/login/ and comes back to the need.
    expect(page.locator("h1")).to_have_text("爱心组织登录")
    shot(page, "charity-login.png")
    page.fill("#id_username", member.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base}/charity/needs/{need.public_id}/")
    page.get_by_role("button", name="认领此需求").click()

    # The claim's page in the portal: the claim is the organisation's; report completion with a photo.
    expect(page.locator("h1")).to_have_text("认领详情")
    claim = Claim.objects.get(need=need)
    assert claim.organisation_id == org.pk
    expect(page.locator(".facts")).to_contain_text("已认领")
    shot(page, "charity-claim.png")
    photo = tmp_path / "IMG_0001.jpg"
    raw = camera_jpeg()
    photo.write_bytes(raw)
    page.fill("#id_text", "轮椅已送到家中，老人试坐合适。")
    page.fill("#id_in_kind", "轮椅一台")
    page.set_input_files("#id_photos", str(photo))
    page.get_by_role("button", name="报告完成").click()
    expect(page.locator(".facts")).to_contain_text("已报告完成")
    expect(page.locator("body")).to_contain_text("照片1张")
    shot(page, "charity-claim-reported.png")

    # The stored photo lost its EXIF, GPS, maker and comment (re-encoded; hash of the original kept).
    stored_photo = EvidencePhoto.objects.get(update__claim=claim, update__kind=ClaimUpdate.Kind.COMPLETION)
    stored = bytes(stored_photo.image)
    assert CAMERA.encode() not in stored and b"home of the family" not in stored and b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as clean:
        assert clean.format == "JPEG" and len(clean.getexif()) == 0
        assert not clean.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert stored_photo.original_sha256 != stored_photo.sha256

    # The member signs out; the resident opens the SMS link and answers.
    page.get_by_role("button", name="退出登录").click()
    claim.refresh_from_db()
    page.goto(f"{base}/charity/r/{claim.resident_token}/")
    expect(page.locator("h1")).to_have_text("帮扶确认")
    shot(page, "charity-resident-answer.png")
    page.get_by_role("button", name="已收到").click()
    expect(page.locator("[role=status]")).to_contain_text("感谢您的反馈")

    # The township assistant signs in, finds the completion on the 公益谷 worklist and confirms it.
    page.goto(f"{base}/charity/staff/")
    expect(page.locator("#id_username")).to_be_visible()
    page.fill("#id_username", personas.assistant_a.username)
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit], button[type=submit]").first.click()
    expect(page.locator("#content")).to_contain_text("待确认的认领（1）")
    shot(page, "charity-staff-worklist.png")
    page.get_by_role("link", name=need.public_id).click()
    confirm = page.get_by_role("button", name="确认完成（记入幸福清单）")
    expect(confirm).to_be_visible()
    shot(page, "charity-staff-claim.png")
    confirm.click()
    expect(page.locator("#content")).to_contain_text("已确认完成")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.CONFIRMED
    assert Need.objects.get(pk=need.pk).status == Need.Status.COMPLETED

    # The public statistics count the completed need and the people helped.
    page.goto(f"{base}/charity/stats/")
    assert _figure(page, "#year-total td:nth-child(12)") == completed_before + 1
    assert _figure(page, "#year-total td:nth-child(13)") > helped_before
    shot(page, "charity-stats-after.png")
    # The board shows the need as completed, at the same URL.
    page.goto(f"{base}/charity/needs/{need.public_id}/")
    expect(page.locator(".facts")).to_contain_text("已完成")
