"""The closure SMS's link on a 360 px phone: SMS code, the household's list, a rating, its follow-up.

The case closes through the departments' own service; the closure SMS goes through the file SMS
backend (as with `make run`), and the test opens the link written there. The resident asks for the
code on the list's own form (no JavaScript needed), rates the case "very dissatisfied", and the
coordinator then sees the 差评 follow-up task on the ratings page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from applications.models import Application, Household
from happiness_list.models import LowRatingTask, Rating
from referrals.services.actions import OutcomeInput, referral_complete
from referrals.services.cases import case_open_from_decisions
from tests.conftest import clear_test_cache
from tests.referrals.builders import APPLICANT_PHONE, decided_application

from .conftest import PHONE
from .test_apply_phone import SCREENSHOTS, assert_fits_the_phone, deliver_pending_sms

pytestmark = pytest.mark.django_db(transaction=True)


def _sms_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_the_closure_sms_link_opens_the_list_and_a_low_rating_reaches_the_coordinator(
    live_server: Any, page: Page, county_map: Any, personas: Any, settings: Any, tmp_path: Path
) -> None:
    clear_test_cache()
    sms_file = tmp_path / "sms.jsonl"
    settings.SMS_BACKEND = "assist_center.sms.backends.FileBackend"
    settings.SMS_FILE_PATH = str(sms_file)

    app = decided_application(county_map.village_a1, decided_by=personas.assistant_a, items=["dibao"])
    household = Household.objects.create(village=app.village, township=app.township, address=app.address)
    Application.objects.filter(pk=app.pk).update(household=household)
    case = case_open_from_decisions(actor=personas.assistant_a, application_id=app.pk)
    referral_complete(
        actor=personas.dept_civil,
        referral_id=case.referrals.get().pk,
        outcomes=[
            OutcomeInput(item="dibao", granted=True, benefit_kind="低保金", amount="650.00", period="monthly")
        ],
    )
    deliver_pending_sms()
    (closure,) = [line for line in _sms_lines(sms_file) if line["template"].startswith("case_closed")]
    link = re.search(r"https?://\S+?/happiness/[A-Za-z0-9_-]+/", closure["text"])
    assert link is not None, closure["text"]
    url = link.group(0).replace(settings.SITE_URL, live_server.url)

    page.set_viewport_size(PHONE)
    page.goto(url)
    expect(page.locator("h1")).to_be_visible()
    assert_fits_the_phone(page)
    page.fill("input[name=phone]", APPLICANT_PHONE.removeprefix("+86"))
    page.click("button[type=submit] >> nth=0")
    expect(page.locator("input[name=otp]")).to_be_visible()
    assert_fits_the_phone(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "happiness-gate.png"), full_page=True)
    deliver_pending_sms()
    codes = [
        line["params"]["code"]
        for line in _sms_lines(sms_file)
        if line["template"] == "otp" and line["to"] == APPLICANT_PHONE
    ]
    assert codes, "the SMS code went to the applicant's phone through the file backend"
    page.fill("input[name=otp]", codes[-1])
    page.locator("input[name=otp]").press("Enter")

    # The household's list: the month of 低保 the department granted, and the case, closed.
    expect(page.locator("[data-total]")).to_be_visible()
    expect(page.locator("#hl-cases")).to_be_visible()
    expect(page.locator(".hl-cases")).to_contain_text(app.receipt_code)
    expect(page.locator("#ratings")).to_be_visible()
    assert_fits_the_phone(page)
    page.screenshot(path=str(SCREENSHOTS / "happiness-list.png"), full_page=True)

    # Rate the case: very dissatisfied on every dimension, a comment.
    form = page.locator(f"#rating-{case.pk} form")
    for field in ("efficiency", "attitude", "quality"):
        form.locator(f"input[name={field}][value='1']").check()
    form.locator("textarea[name=comment]").fill("等了很久，没人回电话")
    form.locator("button[type=submit]").click()
    expect(page.locator(f"#rating-{case.pk} .hr-given").first).to_be_visible()
    expect(page.locator("[role=status]").first).to_be_visible()  # "thank you", on the resident's page
    page.screenshot(path=str(SCREENSHOTS / "happiness-rated.png"), full_page=True)
    rating = Rating.objects.get(case=case)
    task = LowRatingTask.objects.get(rating=rating)

    # The coordinator sees the 差评 follow-up on the ratings page.
    coordinator = page.context.new_page()
    from django.test import Client

    client = Client()
    client.force_login(personas.coordinator)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    coordinator.goto(f"{live_server.url}/staff/ratings/")
    expect(coordinator.locator(f'[data-task="{task.pk}"]')).to_be_visible()
    coordinator.screenshot(path=str(SCREENSHOTS / "happiness-coordinator-task.png"), full_page=True)
