"""A resident scans a village's assist code and applies on a 360 px phone, without any JavaScript help.

SMS in this project are queued (SmsMessage + an outbox row) and sent by a Celery worker; no worker
runs under the test, so the test plays the worker: after "发送验证码" it delivers the pending
messages with `sms_deliver` (the sms_send task's body) through the JSON-lines FileBackend, and
reads the code from that file, as a developer does with `make run`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from applications.models import Application
from assist_center.identity import make_id_number
from assist_center.models import SmsMessage
from assist_center.sms.services import sms_deliver
from tests.conftest import clear_test_cache

from .conftest import PHONE

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
APPLICANT_ID = make_id_number(region6="331022", birth=dt.date(1958, 4, 12), seq=17)
SPOUSE_ID = make_id_number(region6="331022", birth=dt.date(1960, 9, 30), seq=28)
GRANDCHILD_ID = make_id_number(region6="331022", birth=dt.date(2018, 6, 1), seq=35)
SON_ID = make_id_number(region6="331022", birth=dt.date(1984, 2, 14), seq=43)
MOBILE = "13800138000"


def deliver_pending_sms() -> None:
    for sms_id in SmsMessage.objects.filter(status=SmsMessage.Status.PENDING).values_list("pk", flat=True):
        sms_deliver(sms_id=sms_id)


def otp_from_file(path: Path) -> str:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    codes = [
        line["params"]["code"] for line in lines if line["template"] == "otp" and line["to"].endswith(MOBILE)
    ]
    assert codes, "the SMS code was written to the file backend"
    return str(codes[-1])


def assert_fits_the_phone(page: Page) -> None:
    """No sideways scrolling, readable text, and thumb-sized buttons at 360 px."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide"
    font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= 18
    heights = page.evaluate(
        "Array.from(document.querySelectorAll('.btn, input[type=text], input[type=tel], select'))"
        ".filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 48, heights


@pytest.mark.django_db(transaction=True)
def test_a_resident_applies_on_a_phone_and_gets_a_receipt(
    live_server: Any, page: Page, county_map: Any, settings: Any, tmp_path: Path
) -> None:
    clear_test_cache()  # SMS limits live in Redis, beyond the test database
    sms_file = tmp_path / "sms.jsonl"
    settings.SMS_BACKEND = "assist_center.sms.backends.FileBackend"
    settings.SMS_FILE_PATH = str(sms_file)
    page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})

    page.goto(f"{live_server.url}/apply/{county_map.village_a1.code}/")
    expect(page.locator("h1")).to_have_text("申请社会救助")
    expect(page.locator(".fixed-value")).to_have_text("上叶村")
    assert_fits_the_phone(page)

    page.get_by_label("您的姓名").fill("王秀英")
    page.get_by_label("您的身份证号码").fill(APPLICANT_ID)
    page.get_by_label("您的手机号码").fill(MOBILE)
    page.get_by_label("家庭住址").fill("幸福路12号")
    page.fill("input[name='members-0-name']", "李建国")
    page.fill("input[name='members-0-id_number']", SPOUSE_ID)
    page.select_option("select[name='members-0-relation']", "spouse")
    page.fill("input[name='members-1-name']", "李小雨")
    page.fill("input[name='members-1-id_number']", GRANDCHILD_ID)
    page.select_option("select[name='members-1-relation']", "grandchild")
    page.fill("input[name='supporters-0-name']", "李明")
    page.fill("input[name='supporters-0-id_number']", SON_ID)
    page.select_option("select[name='supporters-0-relation']", "child")
    page.fill("input[name='supporters-0-phone']", "13900139000")
    page.get_by_label("最低生活保障").check()
    page.get_by_label("医疗救助").check()
    page.get_by_label("其他困难或需要").fill("老伴住院，医药费负担重")
    page.get_by_label("我同意核对我家的信息").check()
    # Forgot the guardian confirmation (a grandchild is under 14) and has no code yet.

    page.get_by_role("button", name="发送验证码").click()
    expect(page.locator(".sms .ok")).to_contain_text("验证码已发送至 138****8000，10分钟内有效")
    # Everything typed survived the round trip.
    expect(page.get_by_label("您的姓名")).to_have_value("王秀英")
    expect(page.locator("input[name='members-1-name']")).to_have_value("李小雨")
    expect(page.get_by_label("医疗救助")).to_be_checked()

    deliver_pending_sms()
    code = otp_from_file(sms_file)
    page.get_by_label("短信验证码").fill(code)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "apply-form.png"), full_page=True)
    page.get_by_role("button", name="提交申请").click()

    # The guardian confirmation is missing: the summary and the field say so, the values stay.
    expect(page.locator(".error-summary")).to_contain_text("14")
    expect(page.get_by_label("您的姓名")).to_have_value("王秀英")
    expect(page.get_by_label("短信验证码")).to_have_value("")
    assert Application.objects.count() == 0
    page.screenshot(path=str(SCREENSHOTS / "apply-form-errors.png"), full_page=True)
    assert_fits_the_phone(page)

    page.get_by_label("我是这里所填14岁以下孩子的监护人，同意核对他们的信息").check()
    page.get_by_label("短信验证码").fill(code)  # not used up by the refused attempt
    page.get_by_role("button", name="提交申请").click()

    expect(page).to_have_url(f"{live_server.url}/apply/receipt/")
    application = Application.objects.get()
    expect(page.locator("#receipt-code")).to_have_text(application.receipt_code)
    expect(page.get_by_text("请截图或抄下回执码")).to_be_visible()
    expect(page.get_by_role("link", name="打开家庭签字页面")).to_have_attribute(
        "href", f"{settings.SITE_URL}/family/{application.family_token}/"
    )
    expect(page.locator(".signers")).to_contain_text("王秀英")
    expect(page.locator(".signers")).to_contain_text("李**")
    assert page.evaluate("document.querySelector('.qr img').naturalWidth") > 0
    assert_fits_the_phone(page)
    page.screenshot(path=str(SCREENSHOTS / "apply-receipt.png"), full_page=True)
