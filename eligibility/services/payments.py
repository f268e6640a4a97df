"""Departments' payment files into the benefits ledger, through the pool's import pipeline.

The file is read, validated and streamed exactly as a pool file (pool.importer.RowStream: one
pass, COPY while Python validates the next chunk, errors by line), into a temporary staging table;
one INSERT ... SELECT ... ON CONFLICT then writes the ledger:

- the key is "file:<category>:<payment id>" (BenefitEntry.source_key), the department's own id:
  the same file twice changes nothing, a corrected file changes only the rows whose content hash
  differs;
- an unchanged row is filtered out before the INSERT (NOT EXISTS on key and hash), because an
  ON CONFLICT DO UPDATE ... WHERE still locks, i.e. writes, every conflicting row; on a first load
  of the category that check is skipped;
- the person is found in the registry by the blind index; a row whose person the registry does not
  know is rejected by line (it is written when the file is imported again after the 户籍 import).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from django.utils.translation import gettext as _

from applications.models import Person
from assist_center.models import Department
from benefits.models import BenefitEntry

from ..pool.categories import PAYMENT_DEFAULT_ITEMS, Category
from ..pool.handlers import ImportHandler, register_import_handler
from ..pool.importer import STAGE_COLUMNS, ImportResult, RowStream

LEDGER = BenefitEntry._meta.db_table
PERSONS = Person._meta.db_table
JOIN_WORK_MEM = "256MB"
MAX_REPORTED = 100_000


def source_prefix(category: str) -> str:
    return f"file:{category}:"


def write_payments(
    cursor: Any,
    stream: RowStream,
    *,
    category: Category,
    job_id: int,
    now: dt.datetime,
    copy_size: int = 1 << 20,
) -> ImportResult:
    """COPY the stream into a staging table and upsert the ledger from it; inside the import's transaction."""
    # As for the pool (importer.stage_and_upsert): the job can be re-run from its file.
    cursor.execute("SET LOCAL synchronous_commit = off")
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"pool-import:{category.code}"])
    prefix = source_prefix(category.code)
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {LEDGER} WHERE source_key LIKE %s)",  # noqa: S608
        [prefix + "%"],
    )
    (reimport,) = cursor.fetchone()
    department = (
        Department.objects.filter(code=category.department).values_list("name", flat=True).first() or ""
    )
    if not reimport:
        return _load_directly(
            cursor,
            stream,
            category=category,
            job_id=job_id,
            now=now,
            department=department,
            copy_size=copy_size,
        )
    stage = f"payment_stage_{job_id}"
    cursor.execute(
        f'CREATE TEMPORARY TABLE {stage} (source_record_id text COLLATE "C", '
        'person_hash text COLLATE "C", effective_date date, data jsonb, content_hash text, '
        "line integer) ON COMMIT DROP"
    )
    cursor.copy_expert(f"COPY {stage} ({STAGE_COLUMNS}) FROM STDIN WITH (FREEZE)", stream, copy_size)
    result = stream.result
    if stream.superseded:
        cursor.execute(f"DELETE FROM {stage} WHERE line = ANY(%s)", [stream.superseded])  # noqa: S608
    good = stream.staged - len(stream.superseded)
    cursor.execute(f"SET LOCAL work_mem = '{JOIN_WORK_MEM}'")
    cursor.execute(f"ANALYZE {stage}")
    cursor.execute(
        f"""
        SELECT s.line, (p.id IS NULL), (s.data->>'amount' IS NULL AND coalesce(s.data->>'in_kind', '') = '')
        FROM {stage} s LEFT JOIN {PERSONS} p ON p.id_number_hash = s.person_hash
        WHERE p.id IS NULL OR (s.data->>'amount' IS NULL AND coalesce(s.data->>'in_kind', '') = '')
        ORDER BY s.line
        """  # noqa: S608
    )
    unknown = _("id_number: the person is not in the household registry (import 户籍 first)")
    empty = _("amount or in_kind is required")
    bad_lines = []
    for line, no_person, no_amount in cursor.fetchall():
        bad_lines.append(line)
        result.rows_rejected += 1
        if len(result.errors) < MAX_REPORTED:
            result.errors.append(
                (line, "；".join(r for r, bad in ((unknown, no_person), (empty, no_amount)) if bad))
            )
    department = (
        Department.objects.filter(code=category.department).values_list("name", flat=True).first() or ""
    )
    # An unchanged row is left out before the INSERT: ON CONFLICT DO UPDATE ... WHERE would lock it.
    unchanged_filter = (
        f"AND NOT EXISTS (SELECT 1 FROM {LEDGER} b2 WHERE b2.source_key = %(prefix)s || s.source_record_id "  # noqa: S608
        "AND b2.content_hash = s.content_hash)"
    )
    cursor.execute(
        f"""
        WITH written AS (
            INSERT INTO {LEDGER} AS b
                (household_id, person_id, enrolment_id, item, provider_code, provider_name, amount,
                 in_kind, period, paid_on, source, source_key, content_hash, import_job_id,
                 created_at, updated_at)
            SELECT p.household_id, p.id, NULL, coalesce(s.data->>'item', %(item)s), %(dept)s, %(dept_name)s,
                   (s.data->>'amount')::numeric, coalesce(s.data->>'in_kind', ''),
                   date_trunc('month', coalesce((s.data->>'period')::date, s.effective_date))::date,
                   s.effective_date, 'payment_file', %(prefix)s || s.source_record_id, s.content_hash,
                   %(job)s, %(now)s, %(now)s
            FROM {stage} s JOIN {PERSONS} p ON p.id_number_hash = s.person_hash
            WHERE (s.data->>'amount' IS NOT NULL OR coalesce(s.data->>'in_kind', '') <> '')
            {unchanged_filter}
            ON CONFLICT (source_key) DO UPDATE SET
                household_id = EXCLUDED.household_id, person_id = EXCLUDED.person_id, item = EXCLUDED.item,
                amount = EXCLUDED.amount, in_kind = EXCLUDED.in_kind, period = EXCLUDED.period,
                paid_on = EXCLUDED.paid_on, content_hash = EXCLUDED.content_hash,
                import_job_id = EXCLUDED.import_job_id, updated_at = EXCLUDED.updated_at
            WHERE b.content_hash IS DISTINCT FROM EXCLUDED.content_hash
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
        """,  # noqa: S608 - table names from the models and an integer id
        {
            "item": PAYMENT_DEFAULT_ITEMS.get(category.code, ""),
            "dept": category.department,
            "dept_name": department,
            "prefix": prefix,
            "job": job_id,
            "now": now,
        },
    )
    inserted, updated = cursor.fetchone()
    result.rows_inserted = int(inserted)
    result.rows_updated = int(updated)
    result.rows_unchanged = good - len(bad_lines) - result.rows_inserted - result.rows_updated
    result.errors.sort()
    return result


NULL = "\\N"


def _copy_text(value: str) -> str:
    """A value as COPY text: backslash, tab, newline and carriage return escaped."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


class _LedgerWriter:
    """The stream's good rows as ledger rows (RowStream.writer), for a first load COPYed straight in.

    The person of each row is looked up in a dict of the registry's persons (one query), so the
    backend writes the ledger while Python validates the next chunk, as the pool's first load does;
    a row whose person is unknown, or without amount and in-kind description, is rejected by line
    here. The values come from the row's canonical JSON fragments (amount, in_kind, item, period,
    sorted by name as the layout builds them): no second parse of the row. A record id seen again
    cannot be sent (the unique key would abort the COPY): its row is kept in `diverted` (last one
    wins) and applied after the COPY as an update.
    """

    def __init__(self, *, persons: dict[str, tuple[int, int]], tail: str, item: str, prefix: str,
                 head: str) -> None:  # fmt: skip
        self.persons = persons
        self.tail = tail
        self.item = item
        self.prefix = prefix
        self.head = head
        self.emitted: set[str] = set()
        self.diverted: dict[str, str] = {}
        self.bad: list[tuple[int, str]] = []
        self._unknown = _("id_number: the person is not in the household registry (import 户籍 first)")
        self._empty = _("amount or in_kind is required")

    def __call__(
        self, out: list[str], rid: str, person: str, eff: str, parts: list[str], content: str, line: int
    ) -> None:
        found = self.persons.get(person)
        if found is None:
            self.bad.append((line, self._unknown))
            return
        # '"amount": "1234.50"', '"in_kind": null', '"item": null', '"period": "2026-03-01"'
        amount, in_kind, item, period = parts[0][10:], parts[1][11:], parts[2][8:], parts[3][10:]
        if in_kind == "null" and item == "null":
            if amount == "null":
                self.bad.append((line, self._empty))
                return
            in_kind_text, item_text = "", self.item
        else:
            in_kind_text = "" if in_kind == "null" else _copy_text(json.loads(in_kind))
            if amount == "null" and not in_kind_text:
                self.bad.append((line, self._empty))
                return
            item_text = self.item if item == "null" else _copy_text(json.loads(item))
        month = f"{period[1:9]}01" if period != "null" else f"{eff[:8]}01"
        row = (
            f"{found[1]}\t{found[0]}\t{NULL}\t{item_text}\t{self.head}"
            f"{NULL if amount == 'null' else amount[1:-1]}\t{in_kind_text}\t{month}\t{eff}\t"
            f"payment_file\t{self.prefix}{rid}\t{content}{self.tail}"
        )
        if rid in self.emitted:
            self.diverted[rid] = row
        else:
            self.emitted.add(rid)
            out.append(row)


_DIRECT_COLUMNS = (
    "household_id, person_id, enrolment_id, item, provider_code, provider_name, amount, in_kind, period, "
    "paid_on, source, source_key, content_hash, import_job_id, created_at, updated_at"
)


def _load_directly(
    cursor: Any,
    stream: RowStream,
    *,
    category: Category,
    job_id: int,
    now: dt.datetime,
    department: str,
    copy_size: int,
) -> ImportResult:
    # The writer reads the JSON fragments by position (the layout sorts the fields by name).
    assert [f.name for f in sorted(category.fields, key=lambda f: f.name)] == [
        "amount", "in_kind", "item", "period"
    ], category.code  # fmt: skip
    persons = {
        h: (pid, hid) for pid, h, hid in Person.objects.values_list("id", "id_number_hash", "household_id")
    }
    rows = _LedgerWriter(
        persons=persons,
        tail=f"\t{job_id}\t{now.isoformat()}\t{now.isoformat()}\n",
        item=_copy_text(PAYMENT_DEFAULT_ITEMS.get(category.code, "")),
        prefix=_copy_text(source_prefix(category.code)),
        head=f"{_copy_text(category.department)}\t{_copy_text(department)}\t",
    )
    stream.writer = rows
    cursor.copy_expert(f"COPY {LEDGER} ({_DIRECT_COLUMNS}) FROM STDIN", stream, copy_size)
    result = stream.result
    if rows.diverted:
        stage = f"payment_dups_{job_id}"
        cursor.execute(
            f"CREATE TEMPORARY TABLE {stage} (LIKE {LEDGER} INCLUDING DEFAULTS INCLUDING IDENTITY) "
            "ON COMMIT DROP"
        )
        cursor.copy_expert(
            f"COPY {stage} ({_DIRECT_COLUMNS}) FROM STDIN", io.StringIO("".join(rows.diverted.values()))
        )
        cursor.execute(
            f"""
            UPDATE {LEDGER} b SET household_id = s.household_id, person_id = s.person_id, item = s.item,
                   amount = s.amount, in_kind = s.in_kind, period = s.period, paid_on = s.paid_on,
                   content_hash = s.content_hash
            FROM {stage} s WHERE b.source_key = s.source_key
            """  # noqa: S608 - table names from the model and an integer id
        )
    for line, reason in rows.bad:
        result.rows_rejected += 1
        if len(result.errors) < MAX_REPORTED:
            result.errors.append((line, reason))
    result.rows_inserted = len(rows.emitted)
    result.errors.sort()
    return result


for _code in PAYMENT_DEFAULT_ITEMS:
    register_import_handler(_code, ImportHandler(write=write_payments))
