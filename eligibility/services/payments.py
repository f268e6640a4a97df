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
# pool.importer's canonical JSON of a payment row with an amount and a period, no item or in-kind text.
_FAST_HEAD = '{"amount": '
_FAST_MIDDLE = ', "in_kind": null, "item": null, "period": '
_FAST_TAIL = "}"


def _copy_text(value: str) -> str:
    """A value as COPY text: backslash, tab, newline and carriage return escaped."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


class _LedgerRows:
    """The stream's staging lines turned into ledger rows, for a first load COPYed straight in.

    The person of each row is looked up in a dict of the registry's persons (one query), so the
    backend writes the ledger while Python validates the next chunk, as the pool's first load does;
    a row whose person is unknown, or without amount and in-kind description, is rejected by line
    here. A record id seen again cannot be sent (the unique key would abort the COPY): its row is
    kept in `diverted` (last one wins) and applied after the COPY as an update.
    """

    def __init__(self, stream: RowStream, *, persons: dict[str, tuple[int, int]], tail: str, item: str,
                 prefix: str, head: str) -> None:  # fmt: skip
        self.stream = stream
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

    def read(self, size: int = -1) -> str:
        while True:
            text = self.stream.read(size)
            if not text:
                return ""
            out = self._rows(text)
            if out:
                return out

    def _rows(self, text: str) -> str:
        out: list[str] = []
        persons, emitted, loads, null = self.persons, self.emitted, json.loads, NULL
        # split("\n"), not splitlines(): a JSON string may hold U+2028 and other line separators.
        for row in text.split("\n"):
            if not row:
                continue
            rid, person, eff, data, content, line = row.split("\t")
            found = persons.get(person)
            if found is None:
                self.bad.append((int(line), self._unknown))
                continue
            # The common row (an amount, no text fields) in the importer's canonical JSON, read by
            # slicing: json.loads and the general path cost about as much again as validating it.
            if data.startswith(_FAST_HEAD) and data.endswith(_FAST_TAIL):
                amount, sep, period = data[len(_FAST_HEAD) : -len(_FAST_TAIL)].partition(_FAST_MIDDLE)
                if sep and amount[0] == '"' and period[0] == '"':
                    owner = found[1]
                    out_row = (
                        f"{owner}\t{found[0]}\t{null}\t{self.item}\t{self.head}{amount[1:-1]}\t\t"
                        f"{period[1:9]}01\t{eff}\tpayment_file\t{self.prefix}{rid}\t{content}{self.tail}"
                    )
                    if rid in emitted:
                        self.diverted[rid] = out_row
                    else:
                        emitted.add(rid)
                        out.append(out_row)
                    continue
            # The stream doubled backslashes for COPY; the JSON itself is read unescaped.
            fields = loads(data.replace("\\\\", "\\") if "\\" in data else data)
            amount, in_kind = fields.get("amount"), fields.get("in_kind") or ""
            if amount is None and not in_kind:
                self.bad.append((int(line), self._empty))
                continue
            period = fields.get("period") or eff
            item = _copy_text(fields["item"]) if fields.get("item") else self.item
            text_row = (
                f"{found[1]}\t{found[0]}\t{null}\t{item}\t{self.head}"
                f"{null if amount is None else amount}\t{_copy_text(in_kind)}\t{period[:8]}01\t{eff}\t"
                f"payment_file\t{self.prefix}{rid}\t{content}{self.tail}"
            )
            if rid in emitted:
                self.diverted[rid] = text_row
            else:
                emitted.add(rid)
                out.append(text_row)
        return "".join(out)

    def readline(self, size: int = -1) -> str:  # pragma: no cover - copy_expert uses read()
        return self.read(size)


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
    persons = {
        h: (pid, hid) for pid, h, hid in Person.objects.values_list("id", "id_number_hash", "household_id")
    }
    rows = _LedgerRows(
        stream,
        persons=persons,
        tail=f"\t{job_id}\t{now.isoformat()}\t{now.isoformat()}\n",
        item=_copy_text(PAYMENT_DEFAULT_ITEMS.get(category.code, "")),
        prefix=_copy_text(source_prefix(category.code)),
        head=f"{_copy_text(category.department)}\t{_copy_text(department)}\t",
    )
    cursor.copy_expert(f"COPY {LEDGER} ({_DIRECT_COLUMNS}) FROM STDIN", rows, copy_size)
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
