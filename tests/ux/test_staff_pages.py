"""Staff pages as a new township assistant or coordinator finds them (issue 16), through HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.eligibility.test_discovery import lead as lead  # the fixture
from tests.eligibility.test_discovery import standards as standards  # the fixture

pytestmark = pytest.mark.django_db


def test_a_refused_admin_page_is_chinese_in_the_admin_layout(personas: Any, login: Any) -> None:
    response = login(personas.assistant_a).get("/admin/eligibility/importjob/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert response.status_code == 403
    page = response.content.decode()
    assert "无权访问" in page and "您的账号无权打开此页面。" in page
    assert 'id="site-name"' in page and "返回工作台" in page
    assert "403 Forbidden" not in page


def test_a_refused_public_form_is_chinese_in_the_site_layout(db: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/i18n/setlang/", {"language": "en"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "表单已过期" in page and 'class="site-header"' in page


def test_the_api_keeps_its_json_refusal(personas: Any, login: Any) -> None:
    response = login(personas.dept_civil).get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json()["message"]


def test_staff_pages_stay_chinese_when_the_browser_asks_for_english(personas: Any, login: Any) -> None:
    client = login(personas.coordinator)
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in page and "修改密码" in page
    # Unless the user picks another language in the header's switcher.
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    page = client.get("/admin/").content.decode()
    assert 'lang="en"' in page and "Change password" in page
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/admin/"})
    assert 'lang="zh-hans"' in client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_api_still_follows_accept_language(db: Any) -> None:
    en = Client().post("/api/v1/public/regions/", HTTP_ACCEPT_LANGUAGE="en")
    assert en.json()["message"] == 'Method "POST" not allowed.'


def test_converting_a_lead_lands_on_the_new_application(lead: Any, personas: Any, login: Any) -> None:
    from applications.models import Application

    client = login(personas.assistant_a)
    url = f"/admin/eligibility/discoverylead/{lead.pk}/handle/"
    page = client.get(url).content.decode()
    assert "转为代办申请" in page and "（medical_expense）" not in page
    response = client.post(url, {"action": "convert"})
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/applications/application/{application.pk}/change/"
    # The coordinator sees the lead but is not offered the conversion (代办 is the assistant's).
    other = login(personas.coordinator).get(url).content.decode()
    assert 'value="convert"' not in other


def test_lead_and_warning_filters_show_labels_not_codes(lead: Any, personas: Any, login: Any) -> None:
    page = login(personas.assistant_a).get("/admin/eligibility/discoverylead/").content.decode()
    assert "近 12 个月医疗自付费用高" in page or "医疗" in page
    assert ">medical_burden<" not in page
