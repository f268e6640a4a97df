"""The import admin through HTTP: upload, progress JSON, error download; coordinators only."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assist_center.identity import make_id_number
from assist_center.models import AuditEvent, OutboxMessage
from eligibility.models import ImportJob
from eligibility.services.imports import pool_import_run

ID1 = make_id_number(region6="331022", birth=dt.date(1960, 5, 1), seq=11)
CSV_TEXT = f"id_number,record_id,effective_date,balance,bank\n{ID1},A1,2026-01-01,10,\nbad,A2,2026-01-01,1,\n"
CSV = CSV_TEXT.encode()


def _upload(client: Any) -> Any:
    return client.post(
        reverse("admin:eligibility_importjob_upload"),
        {"category": "deposit", "encoding": "", "file": SimpleUploadedFile("存款.csv", CSV, "text/csv")},
    )


def test_a_coordinator_uploads_a_file_and_follows_the_job(personas: Any, login: Any) -> None:
    client = login(personas.coordinator)
    page = client.get(reverse("admin:eligibility_importjob_upload"))
    assert (
        page.status_code == 200
        and "id_number, record_id, effective_date, balance, bank" in page.content.decode()
    )
    response = _upload(client)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:eligibility_importjob_change", args=[job.pk]
    )
    assert (job.status, job.category, job.file_name, job.created_by) == (
        "queued",
        "deposit",
        "存款.csv",
        personas.coordinator,
    )
    assert OutboxMessage.objects.filter(
        task_name="eligibility.tasks.pool_import_run", dedupe_key=f"pool-import:{job.pk}"
    ).exists()
    assert AuditEvent.objects.filter(action="pool.import.start", subject_id=str(job.pk)).exists()
    change = client.get(response["Location"])
    assert change.status_code == 200
    assert 'src="/static/js/import-progress.js" nonce="' in change.content.decode()

    pool_import_run(job_id=job.pk)
    status = client.get(reverse("admin:eligibility_importjob_status", args=[job.pk])).json()
    assert status["status"] == "done" and status["finished"] is True
    assert (status["rows_read"], status["rows_inserted"], status["rows_rejected"]) == (2, 1, 1)
    assert status["bytes_done"] == status["total_bytes"] == len(CSV)


def test_the_error_report_download_escapes_formulas_and_is_audited(personas: Any, login: Any) -> None:
    job = ImportJob.objects.create(
        category="deposit",
        file_name="x.csv",
        status="done",
        rows_rejected=2,
        error_report='line,reason\n3,=cmd|" /C calc"!A0\n4,ok\n',
    )
    response = login(personas.coordinator).get(reverse("admin:eligibility_importjob_errors", args=[job.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["line", "reason"], ["3", '\'=cmd|" /C calc"!A0'], ["4", "ok"]]
    assert AuditEvent.objects.filter(
        action="pool.import.errors_download", actor=personas.coordinator
    ).exists()


def test_the_import_admin_is_the_coordinators_alone(personas: Any, login: Any) -> None:
    job = ImportJob.objects.create(category="deposit", file_name="x.csv")
    urls = [
        reverse("admin:eligibility_importjob_changelist"),
        reverse("admin:eligibility_importjob_change", args=[job.pk]),
        reverse("admin:eligibility_importjob_upload"),
        reverse("admin:eligibility_importjob_status", args=[job.pk]),
        reverse("admin:eligibility_importjob_errors", args=[job.pk]),
    ]
    for persona in ("assistant_a", "cadre_a1", "dept_civil", "auditor"):
        client = login(getattr(personas, persona))
        for url in urls:
            assert client.get(url).status_code in (403, 404), (persona, url)
        assert _upload(client).status_code == 403
    anonymous = login(personas.anonymous)
    assert all(anonymous.get(url).status_code == 302 for url in urls)
    assert ImportJob.objects.count() == 1
    missing = login(personas.coordinator).get(
        reverse("admin:eligibility_importjob_status", args=[job.pk + 99])
    )
    assert missing.status_code == 404
