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
    unchanged_filter = (
        f"AND NOT EXISTS (SELECT 1 FROM {LEDGER} b2 WHERE b2.source_key = %(prefix)s || s.source_record_id "  # noqa: S608
        "AND b2.content_hash = s.content_hash)"
        if reimport
        else ""
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


for _code in PAYMENT_DEFAULT_ITEMS:
    register_import_handler(_code, ImportHandler(write=write_payments))
