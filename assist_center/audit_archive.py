"""Audit retention (MLPS 2.0: at least 6 months): archive old events into hash-chained, signed files.

The application never deletes an audit event (the table's trigger forbids it). Events older than
AUDIT_ARCHIVE_AFTER_DAYS (at least 183) are *copied*, in id order, into gzip'd JSON-lines files
under AUDIT_ARCHIVE_DIR, at most AUDIT_ARCHIVE_BATCH_SIZE per file. Each file has an
`AuditArchiveBatch` row (append-only too) holding the file's SHA-256 and a link of a hash chain:

    chain_hash = SHA-256(prev_chain_hash | seq | first id | last id | count | cutoff | file SHA-256)
    signature  = HMAC-SHA256(AUDIT_ARCHIVE_KEY, chain_hash)

so a changed, removed, reordered or re-written file, a forged batch row or a gap in the chain is
found by `manage.py verify_audit_archive`, which also compares every archived event still in the
table with its archived copy. What an operator does with the files (offsite copies, and whether
old rows are ever removed from the table by hand after verification) is in docs/operations.md.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import AuditArchiveBatch, AuditEvent

GENESIS = "0" * 64
_LOCK = 0x41554449  # "AUDI": one archiver at a time (two beats, a redelivered task)
_FIELDS = (
    "id",
    "created_at",
    "actor_id",
    "actor_label",
    "action",
    "subject_type",
    "subject_id",
    "region_id",
    "department_id",
    "old_values",
    "new_values",
    "reason",
    "request_id",
    "idempotency_key",
)


def _key() -> bytes:
    return (settings.AUDIT_ARCHIVE_KEY or settings.SECRET_KEY).encode()


def event_line(row: dict[str, Any]) -> bytes:
    """The canonical archived form of one event (sorted keys, UTC ISO time)."""
    plain = dict(row)
    created = plain["created_at"]
    plain["created_at"] = created.astimezone(dt.UTC).isoformat()
    return json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def chain_link(
    *, prev: str, seq: int, first: int, last: int, count: int, cutoff: dt.datetime, file_sha256: str
) -> str:
    text = f"{prev}|{seq}|{first}|{last}|{count}|{cutoff.astimezone(dt.UTC).isoformat()}|{file_sha256}"
    return hashlib.sha256(text.encode()).hexdigest()


def sign(chain_hash: str) -> str:
    return hmac.new(_key(), chain_hash.encode(), hashlib.sha256).hexdigest()


def archive_dir() -> Path:
    return Path(settings.AUDIT_ARCHIVE_DIR)


def _write_atomically(path: Path, lines: list[bytes]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    # mtime=0 and no file name in the header: the same events always make the same bytes.
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        for line in lines:
            gz.write(line)
    with open(tmp, "rb") as done:
        digest = hashlib.sha256(done.read()).hexdigest()
        os.fsync(done.fileno())
    os.replace(tmp, path)
    return digest


def audit_archive_run(*, now: dt.datetime | None = None) -> int:
    """Archive every event older than the retention period not yet archived; return files written."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.AUDIT_ARCHIVE_AFTER_DAYS)
    written = 0
    while _archive_one_batch(cutoff):
        written += 1
    return written


def _archive_one_batch(cutoff: dt.datetime) -> bool:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        last = AuditArchiveBatch.objects.order_by("-seq").first()
        after = last.last_event_id if last else 0
        rows = list(
            AuditEvent.objects.filter(pk__gt=after, created_at__lt=cutoff)
            .order_by("pk")
            .values(*_FIELDS)[: settings.AUDIT_ARCHIVE_BATCH_SIZE]
        )
        if not rows:
            return False
        seq = (last.seq if last else 0) + 1
        first, final = rows[0]["id"], rows[-1]["id"]
        name = f"audit-{seq:06d}-{first}-{final}.jsonl.gz"
        # The file is complete on disk before its row commits; a rolled-back row leaves a file that
        # the next run overwrites with the same name and bytes.
        digest = _write_atomically(archive_dir() / name, [event_line(r) for r in rows])
        prev = last.chain_hash if last else GENESIS
        link = chain_link(
            prev=prev, seq=seq, first=first, last=final, count=len(rows), cutoff=cutoff, file_sha256=digest
        )
        AuditArchiveBatch.objects.create(
            seq=seq,
            cutoff=cutoff,
            first_event_id=first,
            last_event_id=final,
            event_count=len(rows),
            file_name=name,
            file_sha256=digest,
            prev_chain_hash=prev,
            chain_hash=link,
            signature=sign(link),
        )
    return True


@dataclass
class Verification:
    batches: int
    events: int
    problems: list[str]
    head: str


def audit_archive_verify(*, compare_table: bool = True) -> Verification:
    """Check every batch, its file and the chain; with compare_table, the events still in the table."""
    problems: list[str] = []
    prev = GENESIS
    events = 0
    expected_seq = 1
    previous_last = 0
    batches = list(AuditArchiveBatch.objects.order_by("seq"))
    for batch in batches:
        label = f"batch #{batch.seq} ({batch.file_name})"
        if batch.seq != expected_seq:
            problems.append(f"{label}: expected batch #{expected_seq}, a batch is missing")
        expected_seq = batch.seq + 1
        if batch.prev_chain_hash != prev:
            problems.append(f"{label}: does not link to the previous batch")
        link = chain_link(
            prev=batch.prev_chain_hash,
            seq=batch.seq,
            first=batch.first_event_id,
            last=batch.last_event_id,
            count=batch.event_count,
            cutoff=batch.cutoff,
            file_sha256=batch.file_sha256,
        )
        if link != batch.chain_hash:
            problems.append(f"{label}: its row was altered (the link does not match its fields)")
        if not hmac.compare_digest(sign(batch.chain_hash), batch.signature):
            problems.append(f"{label}: bad signature (forged row, or another AUDIT_ARCHIVE_KEY)")
        prev = batch.chain_hash
        problems.extend(_verify_file(batch, label, previous_last, compare_table))
        previous_last = batch.last_event_id
        events += batch.event_count
    return Verification(batches=len(batches), events=events, problems=problems, head=prev)


def _verify_file(batch: AuditArchiveBatch, label: str, previous_last: int, compare_table: bool) -> list[str]:
    path = archive_dir() / batch.file_name
    if not path.exists():
        return [f"{label}: the file is missing"]
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != batch.file_sha256:
        return [f"{label}: the file was changed (SHA-256 differs)"]
    problems: list[str] = []
    try:
        lines = gzip.decompress(data).splitlines(keepends=True)
        archived = [json.loads(line) for line in lines]
    except (OSError, ValueError):
        return [f"{label}: the file cannot be read"]
    ids = [row.get("id") for row in archived]
    if len(ids) != batch.event_count or ids != sorted(set(ids)):
        problems.append(f"{label}: wrong number or order of events")
    elif (ids and (ids[0], ids[-1]) != (batch.first_event_id, batch.last_event_id)) or ids[
        0
    ] <= previous_last:
        problems.append(f"{label}: events outside the batch's range")
    if compare_table and not problems:
        by_id = dict(zip(ids, lines, strict=True))
        for row in AuditEvent.objects.filter(pk__in=ids).order_by("pk").values(*_FIELDS).iterator():
            if event_line(row) != by_id[row["id"]]:
                problems.append(f"{label}: event {row['id']} in the table differs from its archived copy")
    return problems
