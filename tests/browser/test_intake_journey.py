"""Issue 3's whole journey at a phone's width: scan the assist code, apply with an SMS code, get a
receipt, two family members sign, the application is authorised and its PDF form holds both
signatures.

No Celery worker runs here: the test plays it where the app would hand work to the worker
(delivering queued SMS with `sms_deliver`, generating the form with the task's service), so every
other step runs as in production.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from applications.assist_codes import assist_code_url
from applications.models import Application, Authorisation
from applications.services.forms import application_form_archive
from assist_center.identity import make_id_number
from assist_center.models import OutboxMessage
from tests.applications.test_application_form_pdf import inflated
from tests.applications.test_family import P
from tests.conftest import clear_test_cache

from .conftest import PHONE
from .test_apply_phone import deliver_pending_sms, otp_from_file
from .test_family_sign import sign_as

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
APPLICANT = P(
    role="applicant", name="王秀英", birth=dt.date(1958, 4, 12), relation="self", phone="13800138000"
)
SPOUSE = P(role="member", name="李建国", birth=dt.date(1956, 9, 30), relation="spouse")
APPLICANT_ID = make_id_number(region6="331022", birth=APPLICANT.birth, seq=18)
SPOUSE_ID = make_id_number(region6="331022", birth=SPOUSE.birth, seq=27)
SPOUSE_PHONE = "13700137000"


@pytest.mark.django_db(transaction=True)
def test_scan_apply_sign_and_the_authorised_form_holds_both_signatures(
    live_server: Any,
    browser: Browser,
    browser_context_args: dict[str, Any],
    county_map: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    clear_test_cache()
    sms_file = tmp_path / "sms.jsonl"
    settings.SMS_BACKEND = "assist_center.sms.backends.FileBackend"
    settings.SMS_FILE_PATH = str(sms_file)
    settings.SITE_URL = live_server.url  # the QR codes and links then point at this server
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE, "has_touch": True})
    page = context.new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # The printed assist code of the village carries this URL.
    page.goto(assist_code_url(county_map.village_a1))
    page.get_by_label("您的姓名").fill(APPLICANT.name)
    page.get_by_label("您的身份证号码").fill(APPLICANT_ID)
    page.get_by_label("您的手机号码").fill(APPLICANT.phone)
    page.get_by_label("家庭住址").fill("幸福路12号")
    page.fill("input[name='members-0-name']", SPOUSE.name)
    page.fill("input[name='members-0-id_number']", SPOUSE_ID)
    page.select_option("select[name='members-0-relation']", "spouse")
    page.get_by_label("最低生活保障").check()
    page.get_by_label("我同意核对我家的信息").check()
    page.get_by_role("button", name="发送验证码").click()
    deliver_pending_sms()
    page.get_by_label("短信验证码").fill(otp_from_file(sms_file))
    page.get_by_role("button", name="提交申请").click()

    application = Application.objects.get()
    expect(page.locator("#receipt-code")).to_have_text(application.receipt_code)
    family_link = page.get_by_role("link", name="打开家庭签字页面").get_attribute("href")
    assert family_link == f"{live_server.url}/family/{application.family_token}/"
    deliver_pending_sms()  # the family invitation SMS, sent to the applicant after submission

    sign_as(page, family_link, APPLICANT, APPLICANT_ID, APPLICANT.phone, sms_file)
    sign_as(page, family_link, SPOUSE, SPOUSE_ID, SPOUSE_PHONE, sms_file)
    expect(page.locator(".fa-summary")).to_contain_text("所有人都已签名")
    page.screenshot(path=str(SCREENSHOTS / "journey-signed.png"), full_page=True)
    context.close()

    application.refresh_from_db()
    assert application.status == Application.Status.AUTHORISED
    queued = set(OutboxMessage.objects.values_list("task_name", flat=True))
    assert {"applications.tasks.application_form_generate", "eligibility.tasks.application_verify"} <= queued

    application_form_archive(application_id=application.pk)  # what the worker's task runs
    application.refresh_from_db()
    pdf = bytes(application.form_pdf)
    assert pdf.startswith(b"%PDF-") and len(application.form_sha256) == 64
    signatures = Authorisation.objects.filter(member__application=application)
    assert signatures.count() == 2
    # Each on-screen signature is embedded as an image (with its transparency mask).
    assert len(re.findall(rb"/Subtype\s*/Image", inflated(pdf))) >= 2
    if shutil.which("pdftotext"):
        pdf_path = tmp_path / "form.pdf"
        pdf_path.write_bytes(pdf)
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf_path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert application.receipt_code in text
        assert APPLICANT.name in text and SPOUSE.name in text
        assert APPLICANT_ID not in text and SPOUSE_ID not in text
