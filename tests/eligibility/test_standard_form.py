"""Issue 16: a standard's parameters are edited in labelled fields (Chinese, units); JSON is the storage."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from eligibility.models import Standard
from eligibility.rules import PARAM_LABELS, PARAM_SPECS

ADD = "/admin/eligibility/standard/add/"


def _labels(html: str) -> dict[str, str]:
    """label text by the field it labels."""
    return {
        m.group(1): re.sub(r"<[^>]+>", "", m.group(2)).strip()
        for m in re.finditer(r'<label[^>]*for="id_(p_[a-z_]+)"[^>]*>(.*?)</label>', html, re.S)
    }


@pytest.mark.django_db
def test_the_add_form_shows_each_parameter_of_the_item_with_its_chinese_label_and_unit(
    personas: Any, login: Any, county_map: Any
) -> None:
    client = login(personas.coordinator)
    html = client.get(ADD + "?item=dibao").content.decode()
    assert 'name="params"' not in html  # no JSON to type
    labels = _labels(html)
    assert set(labels) == {f"p_{k}" for k in PARAM_SPECS["dibao"]}
    for key in PARAM_SPECS["dibao"]:
        assert PARAM_LABELS[key][0] in labels[f"p_{key}"]
    assert "单位：元" in html and "单位：辆" in html
    assert "amount_per_person_month" not in re.sub(r"<[^>]+>", "", html)  # no key in the text
    # Every other item is one link away, without JavaScript.
    assert 'href="?item=extreme_poverty"' in html and "特困人员供养</a>" in html
    html = client.get(ADD + "?item=extreme_poverty").content.decode()
    labels = _labels(html)
    assert "残疾等级" in html and "老年人年龄（不低于）" in labels["p_age_elderly"]
    assert 'type="checkbox" name="p_disability_grades" value="1"' in html
    assert "1级" in html


@pytest.mark.django_db
def test_the_form_refuses_bad_values_in_chinese_and_stores_good_ones_as_the_json(
    personas: Any, login: Any, county_map: Any
) -> None:
    client = login(personas.coordinator)
    base = {"item": "extreme_poverty", "region": county_map.county.pk, "effective_from": "2026-01-01"}
    values = {
        "p_age_elderly": "60",
        "p_age_child": "16",
        "p_disability_grades": ["1", "2"],
        "p_supporter_income_limit": "2300.00",
        "p_asset_limit_per_person": "34500",
    }
    bad = client.post(ADD, {**base, **values, "p_age_elderly": "-1", "p_asset_limit_per_person": ""})
    assert bad.status_code == 200
    html = bad.content.decode()
    assert "确保该值大于或等于0" in html
    assert "该字段是必填项" in html
    assert not Standard.objects.exists()
    good = client.post(ADD, {**base, **values, "note": "首版"})
    assert good.status_code == 302, good.content.decode()[:3000]
    standard = Standard.objects.get(item="extreme_poverty")
    assert standard.params == {
        "age_elderly": 60,
        "age_child": 16,
        "disability_grades": [1, 2],
        "supporter_income_limit": "2300.00",
        "asset_limit_per_person": "34500",
    }


@pytest.mark.django_db
def test_a_later_version_is_corrected_in_the_fields_and_a_started_one_shows_labels_not_keys(
    personas: Any, login: Any, county_map: Any
) -> None:
    client = login(personas.coordinator)
    today = timezone.localdate()
    later = Standard.objects.create(
        item="medical",
        region=county_map.county,
        effective_from=today + dt.timedelta(days=30),
        version=2,
        params={"spending_ratio": "0.5", "min_spending": "5000"},
    )
    started = Standard.objects.create(
        item="medical",
        region=county_map.county,
        effective_from=today - dt.timedelta(days=30),
        effective_to=later.effective_from,
        version=1,
        params={"spending_ratio": "0.4", "min_spending": "4000"},
    )
    page = client.get(f"/admin/eligibility/standard/{later.pk}/change/").content.decode()
    assert 'name="p_spending_ratio"' in page and 'value="0.5"' in page
    assert "自付医疗费用下限" in page and "填小数，如 0.5 表示 50%" in page
    response = client.post(
        f"/admin/eligibility/standard/{later.pk}/change/",
        {"p_spending_ratio": "0.45", "p_min_spending": "5000", "note": "更正"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Standard.objects.get(pk=later.pk).params["spending_ratio"] == "0.45"
    page = client.get(f"/admin/eligibility/standard/{started.pk}/change/").content.decode()
    assert "自付医疗费用下限" in page and "4000 元" in page
    assert "min_spending" not in page and "{" not in re.sub(
        r"<(script|style)[^>]*>.*?</\1>", "", page, flags=re.S
    )
