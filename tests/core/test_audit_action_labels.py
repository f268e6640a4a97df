"""Issue 16: the audit log's list names each action in Chinese, in its column and its filter."""

from __future__ import annotations

import re
from typing import Any

import pytest

from assist_center.admin.core import ACTION_LABELS
from assist_center.audit import audit_record


@pytest.mark.django_db
def test_the_audit_list_shows_action_labels_from_every_app(personas: Any, login: Any) -> None:
    # The apps above register their words: the application history's and the workbench's.
    assert "application.submitted" in ACTION_LABELS and "referral.accept" in ACTION_LABELS
    audit_record(actor=personas.coordinator, action="referral.accept", subject=("referrals.referral", "1"))
    audit_record(
        actor=personas.coordinator, action="pool.import.start", subject=("eligibility.importjob", "1")
    )
    client = login(personas.coordinator)
    html = client.get("/admin/assist_center/auditevent/").content.decode()
    filters = re.search(r'<nav id="changelist-filter".*?</nav>', html, re.S)
    assert filters and "已接收" in filters.group(0) and "开始导入" in filters.group(0)
    assert "referral.accept" not in re.sub(r"<[^>]+>", "", filters.group(0))
    table = re.search(r'<table id="result_list".*?</table>', html, re.S)
    assert table and "开始导入" in table.group(0) and ">pool.import.start<" not in table.group(0)
    only = client.get("/admin/assist_center/auditevent/?action=pool.import.start").content.decode()
    table = re.search(r'<table id="result_list".*?</table>', only, re.S)
    assert table and "开始导入" in table.group(0) and "已接收" not in table.group(0)
