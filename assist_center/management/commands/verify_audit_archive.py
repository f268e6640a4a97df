"""Verify the audit archive: every file, its hash, the chain, the signatures and the table's copies."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assist_center.audit_archive import audit_archive_run, audit_archive_verify


class Command(BaseCommand):
    help = (
        "Check the archived audit batches (files, SHA-256, hash chain, signatures) and compare the "
        "archived events still in the table with their copies. Exits non-zero on any problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--archive-first", action="store_true", help="Archive what is due before verifying."
        )
        parser.add_argument(
            "--files-only",
            action="store_true",
            help="Do not compare with the table (e.g. on a restored copy without the old rows).",
        )

    def handle(self, *args: Any, archive_first: bool, files_only: bool, **options: Any) -> None:
        if archive_first:
            self.stdout.write(f"archived {audit_archive_run()} new batch(es)")
        result = audit_archive_verify(compare_table=not files_only)
        for problem in result.problems:
            self.stderr.write(problem)
        if result.problems:
            count = len(result.problems)
            raise CommandError(f"audit archive: {count} problem(s) in {result.batches} batch(es)")
        self.stdout.write(
            f"audit archive OK: {result.batches} batch(es), {result.events} event(s), "
            f"chain head {result.head}"
        )
