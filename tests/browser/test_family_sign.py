"""Two family members sign on a phone-sized screen; the application becomes authorised.

The SMS code is read from the file SMS backend, as a developer reads it after `make run`. SMS are
delivered by the Celery worker (sms_queue -> outbox -> `sms_send` task); no worker runs here, so
the test delivers pending messages itself with sms_deliver, exactly what the task body does.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from applications.models import Application, Authorisation
from assist_center.models import SmsMessage
from assist_center.phones import normalise_mobile
from assist_center.sms.services import sms_deliver
from tests.applications.test_family import APPLICANT, CHILD, SPOUSE, P
from tests.factories import ApplicationFactory, id_numbers

from .conftest import PHONE

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SPOUSE_PHONE = "13700137000"


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


def deliver_and_read_code(sms_file: Path, phone: str) -> str:
    for sms_id in SmsMessage.objects.filter(status=SmsMessage.Status.PENDING).values_list("pk", flat=True):
        sms_deliver(sms_id=sms_id)
    to = normalise_mobile(phone)
    lines = [json.loads(line) for line in sms_file.read_text(encoding="utf-8").splitlines()]
    return str([m for m in lines if m["to"] == to and m["template"] == "otp"][-1]["params"]["code"])


def draw_signature(page: Page) -> None:
    box = page.locator("canvas.fa-canvas").bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.6)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x + w * (0.1 + 0.04 * i), y + h * (0.6 - 0.3 * ((i % 4) / 3)), steps=2)
    page.mouse.up()
    page.mouse.move(x + w * 0.3, y + h * 0.8)
    page.mouse.down()
    page.mouse.move(x + w * 0.8, y + h * 0.75, steps=10)
    page.mouse.up()


def sign_as(page: Page, url: str, p: P, number: str, phone: str, sms_file: Path, *, shot: str = "") -> None:
    page.goto(url)
    page.fill("#id_name", p.name)
    page.fill("#id_id_number", number)
    page.fill("#id_phone", phone)
    page.get_by_role("button", name="发送验证码").click()
    expect(page.locator(".fa-step")).to_contain_text("第 2 步")
    expect(page.locator("canvas.fa-canvas")).to_be_visible()
    page.fill("#id_code", deliver_and_read_code(sms_file, phone))
    # Submitting an empty pad is stopped in the browser with a message.
    page.get_by_role("button", name="提交签名").click()
    expect(page.locator("[data-pad-message]")).to_contain_text("请先在框内签名")
    draw_signature(page)
    if shot:
        page.screenshot(path=str(SCREENSHOTS / shot), full_page=True)
    page.get_by_role("button", name="提交签名").click()
    expect(page.locator(".fa-messages")).to_contain_text("签名已记录")


@pytest.mark.django_db(transaction=True)
def test_two_family_members_sign_on_a_phone_and_the_application_is_authorised(
    live_server: Any, phone_page: Page, county_map: Any, settings: Any, tmp_path: Path
) -> None:
    settings.SMS_BACKEND = "assist_center.sms.backends.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    sms_file = tmp_path / "sms.jsonl"
    application = ApplicationFactory.create(village=county_map.village_a1, people=[APPLICANT, SPOUSE, CHILD])
    numbers = id_numbers(application)
    url = f"{live_server.url}/family/{application.family_token}/"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = phone_page

    page.goto(url)
    expect(page.locator(".fa-summary")).to_contain_text("还差 2 人签名")
    expect(page.locator(".fa-signer")).to_have_count(2)
    page.screenshot(path=str(SCREENSHOTS / "family-page.png"), full_page=True)
    # Nothing wider than the phone: no sideways scrolling at 360 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    sign_as(
        page, url, APPLICANT, numbers[APPLICANT.name], APPLICANT.phone, sms_file, shot="family-sign-step2.png"
    )
    expect(page.locator(".fa-summary")).to_contain_text("还差 1 人签名")
    sign_as(page, url, SPOUSE, numbers[SPOUSE.name], SPOUSE_PHONE, sms_file)

    expect(page.locator(".fa-summary")).to_contain_text("所有人都已签名")
    expect(page.locator(".fa-badge-ok")).to_have_count(2)
    page.screenshot(path=str(SCREENSHOTS / "family-signed.png"), full_page=True)
    application.refresh_from_db()
    assert application.status == Application.Status.AUTHORISED
    auths = list(Authorisation.objects.filter(member__application=application))
    assert len(auths) == 2
    for auth in auths:
        assert auth.method == Authorisation.Method.SCREEN and auth.otp_verified
        assert bytes(auth.image).startswith(b"\x89PNG") and len(auth.image) < 200 * 1024
        assert "Chrome" in auth.user_agent


@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_page_says_to_ask_for_a_paper_form(
    live_server: Any, browser: Browser, browser_context_args: dict[str, Any], county_map: Any
) -> None:
    application = ApplicationFactory.create(village=county_map.village_a1, people=[APPLICANT, SPOUSE])
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE, "java_script_enabled": False})
    page = context.new_page()
    page.goto(f"{live_server.url}/family/{application.family_token}/")
    expect(page.locator(".fa-warning")).to_contain_text("纸质授权书")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_an_assistant_uploads_a_paper_scan_in_the_browser(
    live_server: Any, page: Page, county_map: Any, personas: Any, tmp_path: Path
) -> None:
    application = ApplicationFactory.create(village=county_map.village_a1, people=[APPLICANT, SPOUSE])
    spouse = application.members.get(name=SPOUSE.name)
    page.goto(f"{live_server.url}/staff/applications/{application.pk}/paper/{spouse.pk}/")
    page.fill("#id_username", "assistant_a")
    page.fill("#id_password", "correct-horse-battery-9")
    page.click("input[type=submit]")
    expect(page.locator("#content-main h2").first).to_contain_text(SPOUSE.name)
    scan = tmp_path / "授权书.pdf"
    scan.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
    page.set_input_files("#id_scan", str(scan))
    page.click("#content-main input[type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("纸质授权书已保存")
    page.screenshot(path=str(SCREENSHOTS / "family-paper-upload.png"), full_page=True)
    assert Authorisation.objects.get(member=spouse).method == Authorisation.Method.PAPER
