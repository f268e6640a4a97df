"""Audit retention: old events are copied into a signed hash chain, never deleted; tampering is found."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import InternalError

from assist_center.audit import audit_record
from assist_center.audit_archive import audit_archive_run, audit_archive_verify
from assist_center.models import AuditArchiveBatch, AuditEvent

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _archive_dir(settings: Any, tmp_path: Path) -> Path:
    settings.AUDIT_ARCHIVE_DIR = tmp_path / "archive"
    settings.AUDIT_ARCHIVE_AFTER_DAYS = 190
    return tmp_path / "archive"


def _event_at(when: dt.datetime, label: str) -> AuditEvent:
    with time_machine.travel(when, tick=False):
        return audit_record(actor=None, action="test.event", subject=("test", label), reason=f"原因 {label}")


def test_events_past_six_months_are_copied_and_stay_in_the_table(_archive_dir: Path) -> None:
    old = _event_at(NOW - dt.timedelta(days=200), "old")
    recent = _event_at(NOW - dt.timedelta(days=100), "recent")
    assert audit_archive_run(now=NOW) == 1
    batch = AuditArchiveBatch.objects.get()
    assert (batch.first_event_id, batch.last_event_id, batch.event_count) == (old.pk, old.pk, 1)
    lines = gzip.decompress((_archive_dir / batch.file_name).read_bytes()).decode().splitlines()
    assert len(lines) == 1 and '"原因 old"' in lines[0]
    assert set(AuditEvent.objects.values_list("pk", flat=True)) >= {old.pk, recent.pk}  # nothing deleted
    assert audit_archive_run(now=NOW) == 0  # a second run (another beat, a retry) adds nothing
    assert audit_archive_run(now=NOW + dt.timedelta(days=100)) == 1
    second = AuditArchiveBatch.objects.get(seq=2)
    assert second.first_event_id == recent.pk and second.prev_chain_hash == batch.chain_hash
    result = audit_archive_verify()
    assert result.problems == [] and (result.batches, result.events) == (2, 2)


def test_a_large_backlog_is_split_into_linked_batches(settings: Any) -> None:
    settings.AUDIT_ARCHIVE_BATCH_SIZE = 2
    for i in range(5):
        _event_at(NOW - dt.timedelta(days=300 - i), str(i))
    assert audit_archive_run(now=NOW) == 3
    assert list(AuditArchiveBatch.objects.values_list("event_count", flat=True)) == [2, 2, 1]
    assert audit_archive_verify().problems == []


def _archived(n: int = 3) -> list[AuditArchiveBatch]:
    for i in range(n):
        _event_at(NOW - dt.timedelta(days=300 - i), str(i))
    django_settings.AUDIT_ARCHIVE_BATCH_SIZE = 1
    try:
        audit_archive_run(now=NOW)
    finally:
        django_settings.AUDIT_ARCHIVE_BATCH_SIZE = 10_000
    return list(AuditArchiveBatch.objects.order_by("seq"))


def _rewrite(path: Path, old: bytes, new: bytes) -> None:
    data = gzip.decompress(path.read_bytes())
    assert old in data
    path.write_bytes(gzip.compress(data.replace(old, new), mtime=0))


def test_a_tampered_batch_file_is_detected_by_the_command(_archive_dir: Path) -> None:
    batches = _archived()
    call_command("verify_audit_archive")  # clean: no error
    _rewrite(_archive_dir / batches[1].file_name, "原因 1".encode(), "原因 X".encode())
    with pytest.raises(CommandError, match="1 problem"):
        call_command("verify_audit_archive")
    problems = audit_archive_verify().problems
    assert problems == [f"batch #2 ({batches[1].file_name}): the file was changed (SHA-256 differs)"]


def test_a_missing_file_and_a_removed_batch_row_are_detected(_archive_dir: Path) -> None:
    batches = _archived()
    (_archive_dir / batches[2].file_name).unlink()
    with connection.cursor() as cursor:  # what only a database superuser could do
        cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off
        cursor.execute("DELETE FROM assist_center_auditarchivebatch WHERE seq = 2")
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    problems = audit_archive_verify().problems
    assert any("#3" in p and "a batch is missing" in p for p in problems)
    assert any("#3" in p and "does not link" in p for p in problems)
    assert any("#3" in p and "the file is missing" in p for p in problems)


def test_an_event_altered_in_the_table_after_archiving_is_detected() -> None:
    batches = _archived()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE assist_center_auditevent SET reason = 'x' WHERE id = %s", [batches[0].first_event_id]
        )
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    problems = audit_archive_verify().problems
    assert problems == [
        f"batch #1 ({batches[0].file_name}): event {batches[0].first_event_id} in the table differs "
        "from its archived copy"
    ]
    assert audit_archive_verify(compare_table=False).problems == []


def test_a_batch_signed_with_another_key_fails_its_signature(settings: Any) -> None:
    _archived(1)
    settings.AUDIT_ARCHIVE_KEY = "another-key-than-the-one-that-signed"
    problems = audit_archive_verify().problems
    assert len(problems) == 1 and "bad signature" in problems[0]


def test_batch_rows_cannot_be_updated_or_deleted() -> None:
    batch = _archived(1)[0]
    for sql in (
        "UPDATE assist_center_auditarchivebatch SET file_sha256 = 'x' WHERE id = %s",
        "DELETE FROM assist_center_auditarchivebatch WHERE id = %s",
    ):
        with (
            pytest.raises(InternalError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as c,
        ):
            c.execute(sql, [batch.pk])
    with pytest.raises(RuntimeError):
        batch.save()


def test_the_archive_runs_daily_from_beat() -> None:
    from assist_center import tasks

    entry = django_settings.CELERY_BEAT_SCHEDULE["audit-archive"]
    assert entry["task"] == tasks.audit_archive.name
    _event_at(NOW - dt.timedelta(days=400), "via the task")
    with time_machine.travel(NOW, tick=False):
        assert tasks.audit_archive.apply().get() == 1
