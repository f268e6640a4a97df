"""Issue 16: a department's file may name its columns in Chinese; each category has a template to download."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assist_center.identity import make_id_number
from assist_center.pii import id_number_index
from eligibility.models import ImportJob, PoolRecord
from eligibility.pool.categories import (
    CATEGORIES,
    EXAMPLE_ID_NUMBER,
    column_aliases,
    normalise_header,
    template_headers,
)
from eligibility.services.imports import pool_import_run, pool_import_start

ID1 = make_id_number(region6="331022", birth=dt.date(1960, 5, 1), seq=11)
ID2 = make_id_number(region6="331022", birth=dt.date(1975, 2, 28), seq=22)


def run(data: bytes, category: str) -> ImportJob:
    job = pool_import_start(actor="test", category=category, file_name="f.csv", data=data)
    return pool_import_run(job_id=job.pk)


def test_chinese_headers_import_like_the_codes_in_any_order_and_with_or_without_units(db: Any) -> None:
    data = (
        "余额（元）,开户行,身份证号码,记录编号,生效日期\n"
        f"1000.5,农行,{ID1},D1,2026-01-01\n"
        f"20,,{ID2},D2,2026-01-02\n"
    ).encode("gb18030")
    job = run(data, "deposit")
    assert job.status == ImportJob.Status.DONE, job.failure
    assert (job.rows_inserted, job.rows_rejected) == (2, 0)
    rec = PoolRecord.objects.get(source_record_id="D1")
    assert rec.person_hash == id_number_index(ID1) and rec.data == {"balance": "1000.50", "bank": "农行"}
    # The short header, ASCII brackets, and a mix with the English codes.
    mixed = f"id_number,记录编号,生效日期,余额(元),bank\n{ID1},D3,2026-01-01,5,\n".encode()
    assert run(mixed, "deposit").rows_inserted == 1
    plain = f"身份证号,记录号,生效日期,余额\n{ID1},D4,2026-01-01,5\n".encode()
    assert run(plain, "deposit").rows_inserted == 1


def test_a_header_error_names_the_columns_in_chinese_and_a_duplicate_by_alias_is_caught(db: Any) -> None:
    job = run(f"身份证号码,记录编号,生效日期,颜色\n{ID1},D1,2026-01-01,红\n".encode(), "deposit")
    assert job.status == ImportJob.Status.FAILED
    assert "颜色" in job.failure and "余额（元）（balance）" in job.failure
    job = run(
        f"身份证号码,id_number,记录编号,生效日期,余额\n{ID1},{ID1},D1,2026-01-01,1\n".encode(), "deposit"
    )
    assert job.status == ImportJob.Status.FAILED and "id_number" in job.failure
    job = run(f"身份证号码,记录编号,生效日期\n{ID1},D1,2026-01-01\n".encode(), "deposit")
    assert job.status == ImportJob.Status.FAILED and "余额（元）（balance）" in job.failure
    assert not PoolRecord.objects.exists()


@pytest.mark.parametrize("code", sorted(CATEGORIES))
def test_every_template_header_maps_to_its_own_column(code: str) -> None:
    category = CATEGORIES[code]
    aliases = column_aliases(category)
    mapped = [aliases.get(normalise_header(h)) for h in template_headers(category)]
    assert mapped == ["id_number", "record_id", "effective_date", *[f.name for f in category.fields]]
    assert all("\n" not in h and h for h in template_headers(category))


def test_the_template_downloads_from_the_import_page_and_imports_as_it_stands(
    personas: Any, login: Any
) -> None:
    client = login(personas.coordinator)
    page = client.get(reverse("admin:eligibility_importjob_upload")).content.decode()
    url = reverse("admin:eligibility_importjob_template", args=["vehicle"])
    assert f'href="{url}"' in page and "下载模板（CSV）" in page
    assert "身份证号码、记录编号、生效日期、号牌种类、车辆类型" in page
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    body = response.content
    assert body.startswith("\ufeff".encode())  # Excel opens it as UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == template_headers(CATEGORIES["vehicle"])
    assert rows[0][:3] == ["身份证号码", "记录编号", "生效日期"] and "购置价格（元）" in rows[0]
    assert len(rows) == 2 and rows[1][0] == EXAMPLE_ID_NUMBER
    # Uploaded back through the page, the example row imports.
    upload = client.post(
        reverse("admin:eligibility_importjob_upload"),
        {"category": "vehicle", "encoding": "", "file": SimpleUploadedFile("模板.csv", body, "text/csv")},
    )
    assert upload.status_code == 302
    job = pool_import_run(job_id=ImportJob.objects.get().pk)
    assert job.status == ImportJob.Status.DONE, job.failure
    assert (job.rows_inserted, job.rows_rejected) == (1, 0), job.error_report
    assert PoolRecord.objects.get().data["status"] == "正常"
    assert client.get(reverse("admin:eligibility_importjob_template", args=["nope"])).status_code == 404
    assert login(personas.assistant_a).get(url).status_code == 403


@pytest.mark.parametrize("code", ["deposit", "income_tax", "real_estate", "business_licence", "death"])
def test_other_templates_import_their_example_row(db: Any, code: str) -> None:
    from eligibility.pool.categories import template_example_row

    category = CATEGORIES[code]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(template_headers(category))
    writer.writerow(template_example_row(category))
    job = run(out.getvalue().encode(), code)
    assert job.status == ImportJob.Status.DONE, job.failure
    assert (job.rows_inserted, job.rows_rejected) == (1, 0), job.error_report
