"""Issue 16: the coordinator's changelists name items and record categories in Chinese, not by code."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone

from eligibility.models import ImportJob, ItemDecision, Standard
from eligibility.rules import DEMO_PARAMS
from referrals.models import DeadlineRule
from tests.factories import ApplicationFactory, applicant


def _text(html: str) -> str:
    """What a person reads: no tags, attributes, scripts or styles."""
    return re.sub(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", " ", html, flags=re.S)


def _filters(html: str) -> str:
    match = re.search(r'<nav id="changelist-filter".*?</nav>', html, re.S)
    return _text(match.group(0)) if match else ""


def test_codes_are_labels_in_the_import_standard_decision_and_deadline_lists(
    personas: Any, login: Any, county_map: Any
) -> None:
    ImportJob.objects.create(category="real_estate", file_name="不动产.csv", status=ImportJob.Status.DONE)
    Standard.objects.create(
        item="low_income_edge",
        region=county_map.county,
        effective_from=timezone.localdate() - dt.timedelta(days=1),
        version=1,
        params=DEMO_PARAMS["low_income_edge"],
    )
    ApplicationFactory.create(
        village=county_map.village_a1,
        people=[applicant(name="王秀英", birth=dt.date(1980, 3, 1))],
        needs=["medical"],
        approve=[],
        decided=True,
    )
    assert ItemDecision.objects.filter(item="medical").exists()
    DeadlineRule.objects.create(department=county_map.dept_civil, item="temporary", days=5)
    DeadlineRule.objects.create(department=county_map.dept_medical, item="", days=3)
    client = login(personas.coordinator)

    page = client.get("/admin/eligibility/importjob/").content.decode()
    assert "不动产登记" in _filters(page) and "real_estate" not in _filters(page)
    assert "不动产登记" in _text(page) and "real_estate" not in _text(page)
    job = ImportJob.objects.get()
    detail = client.get(f"/admin/eligibility/importjob/{job.pk}/change/").content.decode()
    assert "不动产登记" in _text(detail) and "real_estate" not in _text(detail)
    # The filter still filters.
    filtered = client.get("/admin/eligibility/importjob/?category=real_estate").content.decode()
    assert "不动产.csv" in filtered

    page = client.get("/admin/eligibility/standard/").content.decode()
    assert "低保边缘" in _filters(page) and "low_income_edge" not in _text(page)

    page = client.get("/admin/eligibility/itemdecision/").content.decode()
    assert "医疗救助" in _filters(page) and "medical" not in _filters(page)
    decision = ItemDecision.objects.filter(item="medical").first()
    assert decision is not None
    detail = client.get(f"/admin/eligibility/itemdecision/{decision.pk}/change/").content.decode()
    assert "医疗救助" in _text(detail) and "medical" not in _text(detail).replace("medical_", "")

    page = client.get("/admin/referrals/deadlinerule/").content.decode()
    text = _text(page)
    assert "临时救助" in text and "temporary" not in text and "所有项目（默认）" in text
