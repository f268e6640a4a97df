"""Per-category import handlers: the one extension point of the pool import pipeline.

Most categories are plain pool records. A few do more with the same streamed, validated rows:
户籍 and death records also update the county registry, a department's list of existing
recipients is reconciled with the rolls, and payment files are written to the benefits ledger
instead of the pool. Each registers an `ImportHandler` for its category code when its module
loads (eligibility.services.imports imports them); `pool_import_run` asks `import_handler(code)`
and otherwise behaves the same for every category: one job, one transaction, the same progress
and error report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .importer import ImportResult

# write(cursor, stream, *, category, job_id, now) -> ImportResult: replaces stage_and_upsert.
WriteFn = Callable[..., "ImportResult"]
# after(*, cursor, stream, category, job_id, result) -> None: runs in the import's transaction
# after the write, and may add (line, reason) pairs to result.errors.
AfterFn = Callable[..., None]


@dataclass(frozen=True)
class ImportHandler:
    write: WriteFn | None = None
    after: AfterFn | None = None
    # The stream keeps each good row's normalised ID number by its blind index, for `after` only
    # (the registry must encrypt the number of a person it creates); it never reaches the pool.
    keeps_id_numbers: bool = False


PLAIN = ImportHandler()
_HANDLERS: dict[str, ImportHandler] = {}


def register_import_handler(category: str, handler: ImportHandler) -> None:
    """Declare what a category does beyond (or instead of) the pool; registering it again replaces it."""
    _HANDLERS[category] = handler


def import_handler(category: str) -> ImportHandler:
    return _HANDLERS.get(category, PLAIN)
