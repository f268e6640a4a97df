"""Re-encrypt every encrypted column under the newest FIELD_ENCRYPTION_KEYS key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction

from assist_center.pii import (
    DecryptionError,
    EncryptedTextField,
    encrypted_fields,
    is_under_newest_key,
    rotate,
)

HELP = """Re-encrypt every encrypted column (ID numbers, phones, SMS recipients, and any historical
copies) under the newest key of FIELD_ENCRYPTION_KEYS.

Procedure for rotating the encryption key:
  1) generate a key:
       python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
     PREPEND it to FIELD_ENCRYPTION_KEYS (new,old) and deploy every web and worker process:
     new values are then written under the new key and old ones still decrypt;
  2) run `manage.py rotate_pii_keys` (optionally `--dry-run` first); it may be interrupted and
     re-run at any time, it only rewrites rows not yet under the newest key;
  3) when `manage.py rotate_pii_keys --dry-run` reports 0 rows to rotate, remove the old key from
     FIELD_ENCRYPTION_KEYS and deploy again. Backups taken before step 2 still need the old key.

PII_HASH_KEY (the blind index) is not touched: changing it means recomputing every *_hash column.
"""


@dataclass
class Counts:
    total: int = 0
    current: int = 0
    rotated: int = 0
    empty: int = 0
    unreadable: int = 0

    @property
    def pending(self) -> int:
        return self.total - self.current - self.rotated - self.empty - self.unreadable


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Keep the numbered procedure readable in --help instead of one re-wrapped paragraph.
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count the rows not yet under the newest key; change nothing.",
        )
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")

    def handle(self, *args: Any, dry_run: bool, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        unreadable = 0
        pending = 0
        for model, field in encrypted_fields():
            label = f"{model._meta.label}.{field.name}"
            counts = self._process(model, field, dry_run=dry_run, batch_size=batch_size)
            unreadable += counts.unreadable
            if dry_run:
                pending += counts.pending
                self.stdout.write(
                    f"{label}: {counts.total} rows, {counts.pending} to rotate, {counts.current} current, "
                    f"{counts.empty} empty, {counts.unreadable} unreadable"
                )
            else:
                self.stdout.write(
                    f"{label}: {counts.total} rows, {counts.rotated} rotated, "
                    f"{counts.current} already current, {counts.empty} empty, {counts.unreadable} unreadable"
                )
        if unreadable:
            # Values are never printed: the operator finds the rows by model and pk with a key at hand.
            raise CommandError(
                f"{unreadable} values are not decryptable with any configured key (or are not encrypted); "
                "do not remove any key until they are resolved."
            )
        if dry_run:
            self.stdout.write(f"{pending} values to rotate.")
        else:
            self.stdout.write(self.style.SUCCESS("Every encrypted value is under the newest key."))

    def _process(
        self, model: type[models.Model], field: EncryptedTextField, *, dry_run: bool, batch_size: int
    ) -> Counts:
        qn = connection.ops.quote_name
        pk_field = model._meta.pk
        assert pk_field is not None and pk_field.column is not None  # every concrete model has a pk column
        table, column, pk = qn(model._meta.db_table), qn(field.column), qn(pk_field.column)
        # Raw SQL on purpose: through the ORM, from_db_value would hand back plaintext, and saving
        # would re-encrypt under the newest key regardless, which hides what needs rotating.
        select_first = f"SELECT {pk}, {column} FROM {table} ORDER BY {pk} LIMIT %s"  # noqa: S608
        select_next = f"SELECT {pk}, {column} FROM {table} WHERE {pk} > %s ORDER BY {pk} LIMIT %s"  # noqa: S608
        if not dry_run:
            # Row locks for the batch: a concurrent save between our read and write is not lost.
            select_first += " FOR UPDATE"
            select_next += " FOR UPDATE"
        update = f"UPDATE {table} SET {column} = %s WHERE {pk} = %s"  # noqa: S608

        counts = Counts()
        last: Any = None
        while True:
            # One transaction per batch: an interrupted run keeps what it finished, and a re-run
            # skips those rows because they are already under the newest key.
            with transaction.atomic(), connection.cursor() as cursor:
                if last is None:
                    cursor.execute(select_first, [batch_size])
                else:
                    cursor.execute(select_next, [last, batch_size])
                rows = cursor.fetchall()
                if not rows:
                    return counts
                updates: list[tuple[str, Any]] = []
                for row_pk, stored in rows:
                    counts.total += 1
                    if stored is None or stored == "":
                        counts.empty += 1
                        continue
                    try:
                        if is_under_newest_key(stored):
                            counts.current += 1
                            continue
                        new_value = rotate(stored)
                    except DecryptionError:
                        counts.unreadable += 1
                        continue
                    if dry_run:
                        continue
                    updates.append((new_value, row_pk))
                if updates:
                    cursor.executemany(update, updates)
                    counts.rotated += len(updates)
                last = rows[-1][0]
