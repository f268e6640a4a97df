"""Ask the province for its economic check of an authorised application; keep what it answers.

Queued after the local report is saved (eligibility.tasks.application_verify), so the county's
own check never waits for the province. The province's records go into the data pool as records
of department "province" (their provenance: the report names that source beside each fact), under
record ids prefixed "PROV:" so they never overwrite a county department's row, validated by the
same field rules as an import. While the application can still be checked, the report is run
again (trigger "province") so the assistant decides on both sources; afterwards the records wait
for the next re-check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from applications.models import Application, ApplicationMember
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError
from assist_center.models import Department

from ..models import PoolRecord, ProvinceCheck, VerificationReport
from ..pool.categories import CATEGORIES
from ..pool.importer import BadValue, field_value
from ..province import HttpProvince, ProvinceRefused, ProvinceUnavailable, province_backend
from .verification import RUNNABLE, application_verify_run

log = structlog.get_logger(__name__)

DEPARTMENT = "province"
_MAX_RECORDS = 500  # one household's answer; more is a malformed answer, not data


def _request(application: Application, request_id: str) -> dict[str, Any]:
    members = ApplicationMember.objects.filter(application=application).order_by("position")
    county = application.township.parent
    return {
        "request_id": request_id,
        "county": county.code if county is not None else "",
        "consent_version": application.consent_version,
        "members": [{"ref": f"m{m.position + 1}", "name": m.name, "id_number": m.id_number} for m in members],
    }


def _pool_rows(records: list[dict[str, Any]], hashes: dict[str, str], request_id: str) -> list[PoolRecord]:
    """The answer as pool records, each checked by its category's field rules; ProvinceRefused if not."""
    if len(records) > _MAX_RECORDS:
        raise ProvinceRefused("too many records")
    now = timezone.now()
    rows = []
    for n, record in enumerate(records, start=1):
        category = CATEGORIES.get(str(record.get("category", "")))
        person_hash = hashes.get(str(record.get("member", "")))
        try:
            effective = dt.date.fromisoformat(str(record.get("effective_date", "")))
        except ValueError:
            effective = None
        if category is None or person_hash is None or effective is None or not record.get("record_id"):
            raise ProvinceRefused(f"record {n}: unknown category or member, or no date or id")
        data: dict[str, Any] = {}
        try:
            for spec in category.fields:
                raw = record.get(spec.name)
                data[spec.name] = field_value(spec, "" if raw is None else str(raw))
        except BadValue as exc:
            raise ProvinceRefused(f"record {n}: {exc}") from exc
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False)
        rows.append(
            PoolRecord(
                category=category.code,
                department=DEPARTMENT,
                source_record_id=f"PROV:{request_id}:{str(record['record_id'])[:24]}"[:64],
                person_hash=person_hash,
                effective_date=effective,
                data=data,
                content_hash=hashlib.md5(canonical.encode(), usedforsecurity=False).hexdigest(),
                updated_at=now,
            )
        )
    return rows


def province_check_run(*, application_id: int) -> ProvinceCheck | None:
    """Ask the province once (its attempts bounded by the backend); None when the adapter is off."""
    backend = province_backend()
    if backend is None:
        return None
    application = Application.objects.select_related("township__parent").get(pk=application_id)
    # One request per local report: a redelivered task (or the re-run report it causes) asks nothing again.
    local = (
        application.reports.exclude(trigger=VerificationReport.Trigger.PROVINCE)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    request_id = f"{application.pk}-{local or 0}"
    existing = ProvinceCheck.objects.filter(request_id=request_id).first()
    if existing is not None:  # a redelivered task
        return existing
    hashes = dict(
        ApplicationMember.objects.filter(application=application)
        .order_by("position")
        .values_list("position", "id_number_hash")
    )
    refs = {f"m{position + 1}": h for position, h in hashes.items()}
    status, error, rows = ProvinceCheck.Status.ANSWERED, "", []
    try:
        rows = _pool_rows(backend.check(_request(application, request_id)), refs, request_id)
    except ProvinceUnavailable as exc:
        status, error = ProvinceCheck.Status.UNREACHABLE, str(exc)[:200]
    except ProvinceRefused as exc:
        status, error = ProvinceCheck.Status.FAILED, str(exc)[:200]
    attempts = getattr(backend, "attempts_made", 1) if isinstance(backend, HttpProvince) else 1
    with transaction.atomic():
        Department.objects.get_or_create(
            code=DEPARTMENT, defaults={"name": "省大救助信息系统", "short_name": "省大救助", "sort_order": 99}
        )
        check = ProvinceCheck.objects.create(
            application=application,
            request_id=request_id,
            status=status,
            attempts=attempts,
            records=len(rows),
            error=error,
        )
        PoolRecord.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["category", "source_record_id"],
            update_fields=["person_hash", "effective_date", "data", "content_hash", "updated_at"],
        )
        audit_record(
            actor="province",
            action="verification.province",
            subject=application,
            new={"request_id": request_id, "status": status, "records": len(rows)},
            region=application.village,
        )
    if status == ProvinceCheck.Status.ANSWERED and application.status in RUNNABLE:
        try:
            report = application_verify_run(
                application_id=application.pk, trigger=VerificationReport.Trigger.PROVINCE
            )
        except ApplicationError:
            report = None  # decided or withdrawn meanwhile: the records wait for the next re-check
        if report is not None:
            ProvinceCheck.objects.filter(pk=check.pk).update(report=report)
            check.report = report
    log.info("province.check", application_id=application.pk, status=status, records=len(rows))
    return check
