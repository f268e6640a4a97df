"""Data-pool imports: create a job from an upload or a server-side file, and run it.

Lifecycle: queued -> running -> done | failed. `pool_import_run` claims the job with a conditional
UPDATE (queued -> running), so a task that Redis redelivers after its visibility timeout (stack.md)
finds the job running or done and does nothing. A job left "running" for more than
STALE_AFTER (a killed worker) may be re-queued by an operator (`pool_import_requeue`): the upsert
is idempotent, so running the same file again has the effect of one run.

Progress (bytes and rows) is written to the job row every half second or 50,000 rows through a
second database connection in autocommit, because the main connection is inside the COPY and the
upsert transaction; the admin's progress bar reads it. When the caller is already inside a
transaction (tests, a caller's atomic block), the second connection could not see the job row, so
only the callback gets progress then.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import structlog
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assist_center.actors import AuditActor, account_of
from assist_center.audit import audit_record
from assist_center.errors import ApplicationError
from assist_center.outbox import enqueue

from ..models import ImportJob
from ..pool.categories import CATEGORIES
from ..pool.handlers import import_handler
from ..pool.importer import HeaderError, ImportResult, RowStream, make_layout, open_table, stage_and_upsert

# The categories that do more than the pool register their handlers when these load: imported
# here, by the one pipeline that asks for handlers, so no start-up hook has to load services.
from . import payments, registry  # noqa: F401

log = structlog.get_logger(__name__)

ProgressFn = Callable[[int, int], None]

# Uploads through the admin are kept in the job row until the run ends (any worker host can read
# them); larger files go through `manage.py import_pool`, which streams from disk.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
STALE_AFTER = dt.timedelta(hours=2)
TASK_NAME = "eligibility.tasks.pool_import_run"
_UPLOAD_CHUNK = 8 * 1024 * 1024


def _category_or_error(category: str) -> None:
    if category not in CATEGORIES:
        raise ApplicationError(gettext_lazy("Unknown record category."), {"fields": {"category": category}})


def _store_upload(job: ImportJob, data: bytes | IO[bytes]) -> int:
    """Write the upload into the job row in chunks: a 200 MB file never becomes one giant SQL literal."""
    if isinstance(data, bytes | bytearray | memoryview):
        ImportJob.objects.filter(pk=job.pk).update(upload=bytes(data))
        return len(data)
    total = 0
    table = ImportJob._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET upload = ''::bytea WHERE id = %s", [job.pk])  # noqa: S608
        while chunk := data.read(_UPLOAD_CHUNK):
            total += len(chunk)
            if total > MAX_UPLOAD_BYTES:
                raise ApplicationError(
                    gettext_lazy("The file is larger than 200 MB; import it with manage.py import_pool.")
                )
            cursor.execute(
                f"UPDATE {table} SET upload = upload || %s WHERE id = %s",  # noqa: S608
                [chunk, job.pk],
            )
    return total


def pool_import_start(
    *, actor: AuditActor, category: str, file_name: str, data: bytes | IO[bytes], encoding: str = ""
) -> ImportJob:
    """Store an uploaded file as a queued job and queue its run (after commit, through the outbox)."""
    _category_or_error(category)
    if encoding not in ("", "utf-8", "gb18030"):
        raise ApplicationError(gettext_lazy("Unsupported encoding; use utf-8 or gb18030."))
    size = len(data) if isinstance(data, bytes | bytearray) else None
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ApplicationError(
            gettext_lazy("The file is larger than 200 MB; import it with manage.py import_pool.")
        )
    with transaction.atomic():
        job = ImportJob.objects.create(
            category=category,
            file_name=file_name[:200],
            created_by=account_of(actor),
        )
        job.total_bytes = _store_upload(job, data)
        if job.total_bytes == 0:
            raise ApplicationError(gettext_lazy("The file is empty."))
        ImportJob.objects.filter(pk=job.pk).update(total_bytes=job.total_bytes)
        audit_record(
            actor=actor,
            action="pool.import.start",
            subject=job,
            new={"category": category, "file_name": job.file_name, "total_bytes": job.total_bytes},
        )
        enqueue(
            TASK_NAME, kwargs={"job_id": job.pk, "encoding": encoding}, dedupe_key=f"pool-import:{job.pk}"
        )
    return job


def pool_import_file(
    *, actor: AuditActor, category: str, path: Path, encoding: str = "", progress: ProgressFn | None = None
) -> ImportJob:
    """Import a server-side file synchronously (manage.py import_pool): the file is read from disk."""
    _category_or_error(category)
    with transaction.atomic():
        job = ImportJob.objects.create(
            category=category,
            file_name=path.name[:200],
            total_bytes=path.stat().st_size,
            created_by=account_of(actor),
        )
        audit_record(
            actor=actor,
            action="pool.import.start",
            subject=job,
            new={"category": category, "file_name": job.file_name, "total_bytes": job.total_bytes},
        )
    return pool_import_run(job_id=job.pk, path=path, encoding=encoding, progress=progress)


def pool_import_requeue(*, actor: AuditActor, job_id: int) -> bool:
    """Queue a job stuck running past STALE_AFTER again; False otherwise.

    A failed job has no upload left (it is cleared on failure), so it cannot be re-queued: the file
    is uploaded again.
    """
    stale = timezone.now() - STALE_AFTER
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.upload is None:
            return False
        if not (
            job.status == ImportJob.Status.FAILED
            or (
                job.status == ImportJob.Status.RUNNING
                and job.started_at is not None
                and job.started_at < stale
            )
        ):
            return False
        attempt = ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.QUEUED, failure="")
        audit_record(actor=actor, action="pool.import.requeue", subject=job, old={"status": job.status})
        enqueue(
            TASK_NAME,
            kwargs={"job_id": job.pk, "encoding": ""},
            dedupe_key=f"pool-import:{job.pk}:retry:{timezone.now().timestamp()}",
        )
    return bool(attempt)


class _JobProgress:
    """Writes bytes_done / rows_read to the job row from a second connection, visible while the
    main connection is busy in the import transaction."""

    def __init__(self, job_id: int, then: ProgressFn | None) -> None:
        self.job_id = job_id
        self.then = then
        self.side: Any = None
        if not connection.in_atomic_block:
            self.side = connections.create_connection("default")

    def __call__(self, bytes_done: int, rows_read: int) -> None:
        if self.side is not None:
            try:
                with self.side.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {ImportJob._meta.db_table} "  # noqa: S608 - table name from the model
                        "SET bytes_done = %s, rows_read = %s WHERE id = %s",
                        [bytes_done, rows_read, self.job_id],
                    )
            except Exception:
                # Progress is a nicety: a hiccup of the side connection must not fail the import.
                log.warning("pool_import.progress_write_failed", job_id=self.job_id)
        if self.then is not None:
            self.then(bytes_done, rows_read)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def _spool_upload(job_id: int) -> IO[bytes]:
    """Copy the stored upload to a local temporary file in chunks (not one 200 MB bytes object)."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - returned open; the caller closes it
    offset = 1
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT substring(upload FROM %s FOR %s) FROM {ImportJob._meta.db_table} WHERE id = %s",  # noqa: S608
                [offset, _UPLOAD_CHUNK, job_id],
            )
            row = cursor.fetchone()
            chunk = bytes(row[0]) if row and row[0] is not None else b""
            if not chunk:
                break
            spool.write(chunk)
            offset += len(chunk)
    spool.seek(0)
    return spool


def pool_import_run(
    *,
    job_id: int,
    progress: ProgressFn | None = None,
    path: Path | None = None,
    encoding: str = "",
    rows_per_chunk: int | None = None,
    progress_rows: int | None = None,
) -> ImportJob:
    """Run a queued job once: claim it, stream the file, upsert, save counts; a second call is a no-op."""
    started = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=started, bytes_done=0, rows_read=0
    )
    job = ImportJob.objects.get(pk=job_id)
    if not claimed:
        log.info("pool_import.not_queued", job_id=job_id, status=job.status)
        return job
    category = CATEGORIES.get(job.category)
    reporter = _JobProgress(job_id, progress)
    clock = time.perf_counter()
    source: IO[bytes] | None = None
    try:
        if category is None:
            raise HeaderError(_("Unknown record category."))
        source = path.open("rb") if path is not None else _spool_upload(job_id)
        table = open_table(source, total_bytes=job.total_bytes, encoding=encoding or None)
        layout = make_layout(category, table.header)
        stream = RowStream(
            table,
            layout,
            department=category.department,
            today=timezone.localdate(),
            progress=reporter,
            **({"rows_per_chunk": rows_per_chunk} if rows_per_chunk else {}),
            **({"progress_rows": progress_rows} if progress_rows else {}),
        )
        handler = import_handler(category.code)
        if handler.keeps_id_numbers:
            stream.id_numbers = {}
        with transaction.atomic():
            with connection.cursor() as cursor:
                write = handler.write or stage_and_upsert
                result = write(cursor, stream, category=category, job_id=job_id, now=timezone.now())
                if handler.after is not None:
                    handler.after(
                        cursor=cursor, stream=stream, category=category, job_id=job_id, result=result
                    )
            result.seconds = time.perf_counter() - clock
            _finish(job, result, started)
        table.close()
    except HeaderError as exc:
        _fail(job_id, str(exc))
    except Exception as exc:
        log.exception("pool_import.failed", job_id=job_id)
        _fail(
            job_id,
            _("The import stopped with an internal error (%(kind)s); no record was changed.")
            % {"kind": type(exc).__name__},
        )
    finally:
        reporter.close()
        if source is not None:
            source.close()
    job.refresh_from_db()
    return job


def _finish(job: ImportJob, result: ImportResult, started: dt.datetime) -> None:
    fields = {
        "status": ImportJob.Status.DONE,
        "finished_at": timezone.now(),
        "bytes_done": job.total_bytes,
        "rows_read": result.rows_read,
        "rows_inserted": result.rows_inserted,
        "rows_updated": result.rows_updated,
        "rows_unchanged": result.rows_unchanged,
        "rows_rejected": result.rows_rejected,
        "error_report": result.error_csv() if result.rows_rejected or result.errors else "",
        "failure": "",
        # The upload holds plaintext ID numbers: it goes as soon as the pool holds their index.
        "upload": None,
    }
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    # Monitoring and discovery look at exactly the rows this job changed (PoolRecord.job), after commit.
    enqueue(
        "eligibility.tasks.monitoring_after_import", kwargs={"job_id": job.pk}, dedupe_key=f"monitor:{job.pk}"
    )
    audit_record(
        actor=None,
        action="pool.import.done",
        subject=job,
        new={
            k: fields[k]
            for k in ("rows_read", "rows_inserted", "rows_updated", "rows_unchanged", "rows_rejected")
        }
        | {"seconds": round(result.seconds, 3)},
    )


def _fail(job_id: int, message: str) -> None:
    with transaction.atomic():
        # The upload holds plaintext ID numbers: a failed file goes too (security.md: no plaintext
        # ID in a database dump); the department sends it again once the problem is fixed.
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now(), failure=message[:2000], upload=None
        )
        audit_record(
            actor=None,
            action="pool.import.failed",
            subject=("eligibility.importjob", str(job_id)),
            reason=message[:500],
        )
