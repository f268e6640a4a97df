"""`manage.py import_pool CATEGORY FILE`: import a departmental file synchronously, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from assist_center.actors import AuditActor
from eligibility.pool.categories import CATEGORIES
from eligibility.services.imports import pool_import_file

SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = "Import a CSV (UTF-8 or GB18030) or XLSX file of one record category into the data pool."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("category", choices=sorted(CATEGORIES))
        parser.add_argument("file", type=Path)
        parser.add_argument("--encoding", choices=["utf-8", "gb18030"], default="")
        parser.add_argument("--actor", default="", help="username recorded as the job's author")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        actor: AuditActor = "manage.py import_pool"
        if options["actor"]:
            user_model = get_user_model()
            try:
                actor = user_model.objects.get(username=options["actor"])
            except user_model.DoesNotExist as exc:
                raise CommandError(f"No such user: {options['actor']}") from exc
        bar = tqdm(
            total=path.stat().st_size, unit="B", unit_scale=True, desc=path.name, file=self.stderr._out
        )

        def progress(bytes_done: int, rows_read: int) -> None:
            bar.update(max(0, bytes_done - bar.n))
            bar.set_postfix(rows=rows_read, refresh=False)

        try:
            job = pool_import_file(
                actor=actor,
                category=options["category"],
                path=path,
                encoding=options["encoding"],
                progress=progress,
            )
        finally:
            bar.close()
        if job.status != job.Status.DONE:
            raise CommandError(f"Import job {job.pk} failed: {job.failure}")
        seconds = (
            (job.finished_at - job.started_at).total_seconds() if job.finished_at and job.started_at else 0
        )
        self.stdout.write(
            f"Job {job.pk}: read {job.rows_read}, inserted {job.rows_inserted}, updated {job.rows_updated}, "
            f"unchanged {job.rows_unchanged}, rejected {job.rows_rejected} in {seconds:.1f} s"
        )
        if job.rows_rejected:
            lines = job.error_report.splitlines()[1 : SHOWN_ERRORS + 1]
            self.stdout.write(f"First {len(lines)} rejected rows (line,reason):")
            for line in lines:
                self.stdout.write(f"  {line}")
            self.stdout.write(
                f"The full error report is on the job page: /admin/eligibility/importjob/{job.pk}/"
            )
