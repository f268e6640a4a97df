"""What 户籍, death and existing-recipient imports do beyond the pool: the registry and the rolls.

Each is an import handler (pool.handlers) that runs in the import's transaction after the pool
rows are written. It reads back the rows this job inserted or changed (PoolRecord.job), so a file
imported twice reaches the registry once; the existing-recipient reconciliation reads the whole
list the file carried (every record id of the file), since "enrolled but not on the list" is about
the rows that are absent, changed or not.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from applications.models import Person
from applications.services.registry import (
    DeathEntry,
    HukouEntry,
    registry_apply_hukou,
    registry_record_deaths,
)
from benefits.services.reconciliation import RecipientRecord, rolls_reconcile

from ..models import PoolRecord
from ..pool.categories import Category
from ..pool.handlers import ImportHandler, register_import_handler
from ..pool.importer import ImportResult, RowStream

POOL = PoolRecord._meta.db_table
BATCH = 5000


def _rows_of_job(
    cursor: Any, *, category: str, job_id: int
) -> list[tuple[str, str, dt.date, dict[str, Any]]]:
    cursor.execute(
        f"SELECT source_record_id, person_hash, effective_date, data::text FROM {POOL} "  # noqa: S608
        "WHERE job_id = %s AND category = %s",
        [job_id, category],
    )
    return [(rid, person, eff, json.loads(data)) for rid, person, eff, data in cursor.fetchall()]


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def after_hukou(
    *, cursor: Any, stream: RowStream, category: Category, job_id: int, result: ImportResult
) -> None:
    """Create or update persons and households from the 户籍 rows this import changed."""
    ids = stream.id_numbers or {}
    lines = stream.lines_by_record
    entries = [
        HukouEntry(
            person_hash=person,
            household_number=str(data.get("household_number") or "").strip(),
            relation=str(data.get("relation") or ""),
            status=str(data.get("status") or "").strip(),
            effective_date=eff,
            record_id=rid,
            name=str(data.get("name") or ""),
            village_code=str(data.get("village_code") or "").strip(),
            address=str(data.get("address") or ""),
            id_number=ids.get(person),
            line=lines.get(rid),
        )
        for rid, person, eff, data in _rows_of_job(cursor, category=category.code, job_id=job_id)
    ]
    outcome = registry_apply_hukou(entries=entries, actor=None, job_id=job_id, category=category.code)
    result.errors.extend(outcome.problems)
    result.errors.sort()


def after_death(
    *, cursor: Any, stream: RowStream, category: Category, job_id: int, result: ImportResult
) -> None:
    """Mark the persons of the death (or cremation) records this import changed deceased."""
    date_field = "cremation_date" if category.code == "funeral" else "death_date"
    entries = []
    for rid, person, eff, data in _rows_of_job(cursor, category=category.code, job_id=job_id):
        died = _date(data.get(date_field)) or eff
        entries.append(
            DeathEntry(
                person_hash=person,
                death_date=died,
                record_id=rid,
                category=category.code,
                line=stream.lines_by_record.get(rid),
            )
        )
    registry_record_deaths(entries=entries, actor=None, job_id=job_id)


def after_existing_recipients(
    *, cursor: Any, stream: RowStream, category: Category, job_id: int, result: ImportResult
) -> None:
    """Reconcile the department's whole list (this file's records) with the rolls."""
    record_ids = list(stream.lines_by_record)
    rows: list[tuple[str, str, dt.date, dict[str, Any]]] = []
    for start in range(0, len(record_ids), BATCH):
        cursor.execute(
            f"SELECT source_record_id, person_hash, effective_date, data::text FROM {POOL} "  # noqa: S608
            "WHERE category = %s AND source_record_id = ANY(%s)",
            [category.code, record_ids[start : start + BATCH]],
        )
        rows.extend((rid, person, eff, json.loads(data)) for rid, person, eff, data in cursor.fetchall())
    persons: dict[str, tuple[int, int, int]] = {}
    hashes = sorted({person for _rid, person, _eff, _data in rows})
    for start in range(0, len(hashes), BATCH):
        for pid, person_hash, household_id, township_id in Person.objects.filter(
            id_number_hash__in=hashes[start : start + BATCH]
        ).values_list("id", "id_number_hash", "household_id", "household__township_id"):
            if township_id is not None:
                persons[person_hash] = (pid, household_id, township_id)
    unknown = _("the person is not in the household registry; kept in the pool, not compared with the rolls")
    records = []
    for rid, person, eff, data in rows:
        found = persons.get(person)
        if found is None:
            result.errors.append((stream.lines_by_record.get(rid, 0), unknown))
            continue
        try:
            amount = Decimal(str(data["monthly_amount"])) if data.get("monthly_amount") is not None else None
        except (InvalidOperation, KeyError):
            amount = None
        records.append(
            RecipientRecord(
                record_id=rid,
                person_id=found[0],
                household_id=found[1],
                township_id=found[2],
                item=str(data.get("item") or "").strip(),
                status=str(data.get("status") or "").strip(),
                effective_date=eff,
                monthly_amount=amount,
            )
        )
    rolls_reconcile(records=records, actor=None, job_id=job_id)
    result.errors.sort()


register_import_handler("hukou", ImportHandler(after=after_hukou, keeps_id_numbers=True))
register_import_handler("death", ImportHandler(after=after_death))
register_import_handler("funeral", ImportHandler(after=after_death))
register_import_handler("existing_recipient", ImportHandler(after=after_existing_recipients))
