"""Issue 16, residents: the home page, the status page, the printable authorisation, the CSS classes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from applications.models import Application
from applications.progress import application_progress
from applications.services.transitions import application_transition
from assist_center.sms.templates import TEMPLATES

from ..applications.test_family import FAMILY
from ..factories import ApplicationFactory

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_TEMPLATES = [
    "home.html",
    "applications/apply.html",
    "applications/receipt.html",
    "applications/status.html",
]

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(county_map: Any) -> Application:
    return ApplicationFactory.create(village=county_map.village_a1, people=list(FAMILY))


def test_every_class_of_the_residents_templates_exists_in_public_css() -> None:
    css = (ROOT / "static" / "css" / "public.css").read_text(encoding="utf-8")
    defined = set(re.findall(r"\.([a-zA-Z][\w-]*)", css))
    for name in PUBLIC_TEMPLATES:
        html = (ROOT / "templates" / name).read_text(encoding="utf-8")
        for attr in re.findall(r'class="([^"{]*)"', html):
            for cls in attr.split():
                assert cls in defined, f"{name}: class {cls!r} is not in public.css"


def test_the_home_page_offers_the_townships_first_and_the_status_page(county_map: Any) -> None:
    page = Client().get("/").content.decode()
    assert reverse("apply", args=[county_map.town_a.code]) in page
    assert county_map.town_a.name in page
    assert 'class="btn btn-secondary btn-block"' in page
    assert reverse("status") in page


def test_no_two_village_labels_are_the_same_on_the_county_form(county_map: Any) -> None:
    from applications.forms import village_choices

    choices, _fixed = village_choices(county_map.county)
    labels = [label for _group, options in choices[1:] for _code, label in options]
    assert len(labels) == len(set(labels))


def test_the_status_page_works_without_javascript_and_refuses_a_wrong_code(app: Application) -> None:
    c = Client()
    page = c.get(reverse("status"))
    assert page.status_code == 200 and "<script" not in page.content.decode()
    bad = c.post(
        reverse("status"),
        {"action": "check", "receipt_code": app.receipt_code, "phone": "13800138000", "otp": "000000"},
    )
    assert bad.status_code == 404
    assert 'class="error-summary"' in bad.content.decode()
    empty = c.post(reverse("status"), {"action": "check"}).content.decode()
    # The summary follows the page: receipt code, phone, SMS code.
    assert (
        empty.index('href="#id_receipt_code"')
        < empty.index('href="#id_phone"')
        < empty.index('href="#id_otp"')
    )


def test_a_closed_case_is_not_shown_as_being_checked(app: Application) -> None:
    before = application_progress(app)
    assert before.step == 1
    application_transition(
        application_id=app.pk, to=Application.Status.WITHDRAWN, actor=None, reason="moved away"
    )
    app.refresh_from_db()
    assert application_progress(app).finished


def test_the_paper_authorisation_prints_as_soon_as_the_application_is_submitted(app: Application) -> None:
    response = Client().get(reverse("family-authorisation-pdf", args=[app.family_token]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert Client().get("/family/nope/authorisation.pdf").status_code == 404
    page = Client().get(reverse("family", args=[app.family_token])).content.decode()
    assert reverse("family-authorisation-pdf", args=[app.family_token]) in page


def test_the_sms_say_receipt_code_as_every_page_does() -> None:
    for template in TEMPLATES.values():
        assert "回执号" not in template.text
    assert "{status_url}" in TEMPLATES["application_received"].text
