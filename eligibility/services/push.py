"""Departments' systems push pool records: keys issued, rotated and revoked; pushes checked and queued.

A push is a pool import like an uploaded file (`pool_import_start`): the same validation, upsert,
error report by line and monitoring, because it becomes the same job. What the push adds is who
may send it: a per-department API key (stored as its digest, limited to that department's
categories) and, on every request, a timestamp within PUSH_CLOCK_SKEW and a nonce never used
before with that key, so a captured request replayed later is refused (409) rather than imported
again. The same batch sent twice with two nonces imports once in effect: the upsert is idempotent.

JSON lines are turned into the pipeline's CSV as they stream in (a spooled file: small batches stay
in memory, large ones go to disk), so a body is never held whole; line N of the JSON body is line
N + 1 of the CSV, and the job's error report is translated back (`push_job_errors`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import re
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assist_center.actors import AuditActor, account_of
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError, ConflictError
from assist_center.models import Department

from ..models import ImportJob, PushKey, PushRequest
from ..pool.categories import CATEGORIES
from ..pool.importer import expected_columns
from .imports import MAX_UPLOAD_BYTES, pool_import_start

PUSH_CLOCK_SKEW = dt.timedelta(minutes=5)
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_SPOOL_BYTES = 8 * 1024 * 1024
_READ_CHUNK = 1024 * 1024
# A JSON-lines body with more malformed lines than this is refused as a whole, listing these.
_MAX_LINE_ERRORS = 20


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _department_categories(department: Department) -> set[str]:
    return {code for code, c in CATEGORIES.items() if c.department == department.code}


@dataclass(frozen=True)
class IssuedKey:
    key: PushKey
    plain: str  # shown once to whoever issued it; never stored


def push_key_issue(*, actor: AuditActor, department_code: str, categories: list[str]) -> IssuedKey:
    """A new key for a department's system, limited to categories that department sends."""
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        raise ApplicationError(_("Unknown department."))
    own = _department_categories(department)
    wanted = sorted(set(categories or own))
    foreign = [c for c in wanted if c not in own]
    if foreign or not wanted:
        raise ApplicationError(
            _("A key can only carry the record categories of its own department."),
            {"fields": {"categories": ", ".join(foreign)}},
        )
    prefix = "pk" + secrets.token_hex(5)
    plain = f"{prefix}.{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = PushKey.objects.create(
            department=department,
            prefix=prefix,
            key_hash=_digest(plain),
            categories=wanted,
            created_by=account_of(actor),
        )
        audit_record(
            actor=actor,
            action="pool.push_key.issue",
            subject=key,
            new={"prefix": prefix, "categories": wanted},
            department=department,
        )
    return IssuedKey(key=key, plain=plain)


def push_key_revoke(*, actor: AuditActor, prefix: str) -> PushKey:
    with transaction.atomic():
        key = PushKey.objects.select_for_update().filter(prefix=prefix).first()
        if key is None:
            raise ApplicationError(_("Unknown key."), status=404)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="pool.push_key.revoke", subject=key, department=key.department)
    return key


def push_key_rotate(*, actor: AuditActor, prefix: str) -> IssuedKey:
    """A new key with the old one's categories; the old one stops working at once."""
    with transaction.atomic():
        old = push_key_revoke(actor=actor, prefix=prefix)
        return push_key_issue(
            actor=actor, department_code=old.department.code, categories=list(old.categories)
        )


def push_authenticate(*, authorization: str, timestamp: str, nonce: str) -> PushKey:
    """The key behind an `Authorization: Bearer` header, if it and the request's freshness hold.

    Every failure of the key itself answers the same 401, so a caller cannot tell a revoked key
    from a made-up one. The nonce is only checked here for shape; it is spent in push_records,
    in the same transaction that creates the job.
    """
    scheme, _sep, plain = authorization.partition(" ")
    prefix = plain.partition(".")[0]
    key = None
    if scheme == "Bearer" and prefix:
        key = PushKey.objects.select_related("department").filter(prefix=prefix).first()
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.key_hash, _digest(plain)):
        raise ApplicationError(_("The API key is not valid."), status=401)
    try:
        sent = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        sent = None
    if sent is None or abs(timezone.now() - sent) > PUSH_CLOCK_SKEW:
        raise ApplicationError(
            _("X-Timestamp must be the current time in Unix seconds (at most 5 minutes off)."), status=401
        )
    if not _NONCE.match(nonce):
        raise ApplicationError(_("X-Nonce must be 16 to 64 letters, digits, '-' or '_'."), status=400)
    return key


def _lines(body: IO[bytes]) -> Iterator[bytes]:
    """The body's lines, read a chunk at a time (a request stream has no line iterator of its own)."""
    rest = b""
    while chunk := body.read(_READ_CHUNK):
        *lines, rest = (rest + chunk).split(b"\n")
        yield from lines
    if rest:
        yield rest


def _jsonl_to_csv(body: IO[bytes], columns: list[str]) -> IO[bytes]:
    """The pipeline's CSV from a JSON-lines body, streamed into a spooled file."""
    out = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (returned to the caller)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    known = set(columns)
    bad: list[dict[str, object]] = []
    size = 0
    for number, raw in enumerate(_lines(body), start=1):
        size += len(raw)
        if size > MAX_UPLOAD_BYTES:
            raise ApplicationError(
                _("The body is larger than 200 MB; send it in smaller batches."), status=413
            )
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)  # bytes: UTF-8 (or -16/-32) by the JSON spec; bad bytes are a ValueError
        except ValueError:
            row = None
        if not isinstance(row, dict) or not all(
            isinstance(v, str | int | float | type(None)) for v in row.values()
        ):
            bad.append({"line": number, "reason": str(_("not a JSON object of plain values"))})
        elif unknown := sorted(set(row) - known):
            bad.append({"line": number, "reason": str(_("unknown fields: %s")) % ", ".join(unknown[:5])})
        else:
            writer.writerow(["" if row.get(c) is None else str(row[c]) for c in columns])
        if len(bad) >= _MAX_LINE_ERRORS:
            break
    if bad:
        out.close()
        raise ApplicationError(
            _("Some lines are not records of this category; nothing was imported."), {"lines": bad}
        )
    text.detach()
    out.seek(0)
    return out


def push_records(*, key: PushKey, category: str, nonce: str, body: IO[bytes], content_type: str) -> ImportJob:
    """Queue a pushed batch as a pool import job; the nonce is spent in the same transaction."""
    if category not in CATEGORIES:
        raise ApplicationError(_("Unknown record category."), status=404)
    if category not in key.categories:
        raise ApplicationError(_("This key may not send records of this category."), status=403)
    media = content_type.split(";")[0].strip().lower()
    if media in ("application/x-ndjson", "application/jsonl", "application/json-lines"):
        body_format, data = "jsonl", _jsonl_to_csv(body, expected_columns(CATEGORIES[category]))
    elif media in ("text/csv", "application/csv"):
        body_format, data = "csv", body
    else:
        raise ApplicationError(_("Send text/csv or application/x-ndjson (JSON lines)."), status=415)
    actor = f"push:{key.department.code}:{key.prefix}"
    try:
        with transaction.atomic():
            PushRequest.objects.create(key=key, nonce=nonce, body_format=body_format)
            job = pool_import_start(
                actor=actor, category=category, file_name=f"push-{nonce[:40]}.{body_format}", data=data
            )
            PushRequest.objects.filter(key=key, nonce=nonce).update(job=job)
            PushKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    except IntegrityError as exc:
        raise ConflictError(_("This request was already received (its X-Nonce was used before).")) from exc
    return job


def push_job_get(*, key: PushKey, job_id: int) -> ImportJob:
    """A job pushed by the key's department (by any of its keys); another's is 404 like a missing one."""
    job = (
        ImportJob.objects.filter(pk=job_id, push__key__department_id=key.department_id)
        .select_related("push")
        .first()
    )
    if job is None:
        raise ApplicationError(_("No such job."), status=404)
    return job


def push_job_errors(job: ImportJob, *, limit: int = 100) -> list[dict[str, object]]:
    """The job's rejected rows by the line of the body as sent (JSON lines count from 1, no header)."""
    shift = 1 if job.push.body_format == "jsonl" else 0
    rows = []
    for record in csv.DictReader(io.StringIO(job.error_report)):
        line = record.get("line") or ""
        rows.append(
            {"line": int(line) - shift if line.isdigit() else None, "reason": record.get("reason", "")}
        )
        if len(rows) >= limit:
            break
    return rows
