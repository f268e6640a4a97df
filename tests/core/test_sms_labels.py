"""Issue 16: the coordinator's SMS list names each template in Chinese, in the column and the filter."""

from __future__ import annotations

import re
from typing import Any

import pytest

from assist_center.admin.messaging import TEMPLATE_LABELS
from assist_center.models import SmsMessage
from assist_center.sms.templates import TEMPLATES
from tests.core.test_sms import queue_otp


def test_every_template_has_a_chinese_label() -> None:
    assert set(TEMPLATE_LABELS) == set(TEMPLATES)
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in TEMPLATE_LABELS.values())


@pytest.mark.django_db
def test_the_sms_list_and_page_show_the_label_not_the_code(personas: Any, login: Any) -> None:
    queue_otp()
    client = login(personas.coordinator)
    html = client.get("/admin/assist_center/smsmessage/").content.decode()
    filters = re.search(r'<nav id="changelist-filter".*?</nav>', html, re.S)
    assert filters and "验证码" in filters.group(0)
    table = re.search(r'<table id="result_list".*?</table>', html, re.S)
    assert table and "验证码" in table.group(0) and ">otp<" not in table.group(0)
    assert "验证码" in client.get("/admin/assist_center/smsmessage/?template=otp").content.decode()
    message = SmsMessage.objects.get()
    detail = client.get(f"/admin/assist_center/smsmessage/{message.pk}/change/").content.decode()
    assert "验证码" in detail
