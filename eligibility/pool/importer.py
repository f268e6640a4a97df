"""The data-pool import pipeline: stream a departmental file, validate each row, COPY, upsert.

One pass over the file, never holding it in memory:

1. `open_table` detects the format (XLSX by its zip signature, else CSV in UTF-8 with or without
   BOM, else GB18030) and checks the header. A header column that no category field matches fails
   the whole job with the column's name: every row would be wrong, so rejecting a million rows
   one by one would only hide the real problem. A data row with more cells than the header is a
   bad row ("unknown column at position N").
2. Each row is validated in Python (ID number through a table-driven check that agrees with
   identity.parse_id_number, record id, effective date, typed fields). A bad row goes to the
   error report with its physical line number (header = line 1) and a reason that names the
   column and the problem, never a value (the report is downloadable and must not carry PII).
   Good rows become COPY text lines: the ID number's blind index, never the number.
3. The lines stream through `COPY ... FROM STDIN` into a temporary staging table (the PostgreSQL
   backend parses while Python validates the next chunk: two processes on two cores).
4. One set-based upsert moves the staging rows into eligibility_poolrecord; a row whose content
   hash is unchanged is left alone, so re-importing the same file changes nothing.

Stored `data` is the canonical JSON `json.dumps(data, sort_keys=True, ensure_ascii=False)` of the
category's fields: str as text, int as a number, decimal as a string with exactly two decimals
("1234.50": JSON floats would round money), date as "YYYY-MM-DD", bool as true/false, an empty
optional field as null.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

from assist_center.identity import ERROR_MESSAGES, InvalidIdNumber, parse_id_number

from .categories import COMMON_COLUMNS, Category, FieldSpec
from .fastid import make_fast_check

ProgressFn = Callable[[int, int], None]

ENCODINGS = ("utf-8", "gb18030")
SNIFF_BYTES = 64 * 1024
MAX_RECORD_ID = 64
MAX_TEXT = 1000
# The stored error report keeps this many lines; rows_rejected still counts every bad row.
MAX_REPORTED_ERRORS = 100_000
ROWS_PER_CHUNK = 4096
PROGRESS_ROWS = 50_000
PROGRESS_SECONDS = 0.5

_INT = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]{0,2}))?")
_DATE_FORMS = (
    re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"),
    re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})"),
    re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"),
)
_BOOLS = {
    "是": "true", "否": "false", "1": "true", "0": "false", "true": "true", "false": "false",
    "y": "true", "n": "false", "yes": "true", "no": "false",
}  # fmt: skip


class HeaderError(Exception):
    """The file as a whole cannot be imported (bad header, wrong encoding); the job fails with it."""


class _BadCell(Exception):
    pass


@dataclass
class ImportResult:
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0
    bytes_done: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    def error_csv(self) -> str:
        """The `line,reason` report; reasons carry no values, and a leading formula sign is escaped."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["line", "reason"])
        for line, reason in self.errors:
            writer.writerow([line, escape_formula(reason)])
        if self.rows_rejected > len(self.errors):
            writer.writerow(
                [
                    "",
                    _("… and %(count)d more rejected rows")
                    % {"count": self.rows_rejected - len(self.errors)},
                ]
            )
        return out.getvalue()


def escape_formula(cell: str) -> str:
    """security.md: a cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


# --- reading -------------------------------------------------------------------------------------


def detect_encoding(head: bytes) -> str:
    """utf-8-sig for a BOM, utf-8 if the first 64 KB decode strictly, else gb18030."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # final=False: the sniffed block may end in the middle of a multi-byte character.
        codecs.getincrementaldecoder("utf-8")("strict").decode(head[:SNIFF_BYTES], final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


class _XlsxRows:
    """openpyxl's streaming rows as strings, with the csv reader's `line_num` (the sheet row)."""

    def __init__(self, source: IO[bytes]) -> None:
        import openpyxl

        self._book = openpyxl.load_workbook(source, read_only=True, data_only=True)
        sheet = self._book.worksheets[0]
        self.max_row = int(sheet.max_row or 0)
        self._rows = sheet.iter_rows(values_only=True)
        self.line_num = 0

    def __iter__(self) -> _XlsxRows:
        return self

    def __next__(self) -> list[str]:
        values = next(self._rows)
        self.line_num += 1
        cells = [_xlsx_text(v) for v in values]
        # read_only sheets pad rows to the sheet's width: trailing empty cells are not columns.
        while cells and cells[-1] == "":
            cells.pop()
        return cells

    def close(self) -> None:
        self._book.close()


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class Table:
    header: list[str]
    rows: Iterator[list[str]]  # has `line_num`: the physical line (CSV) or sheet row (XLSX) read last
    position: Callable[[], int]  # bytes consumed so far (estimated for XLSX)
    encoding: str
    close: Callable[[], None]


def open_table(source: IO[bytes], *, total_bytes: int, encoding: str | None = None) -> Table:
    """Open a CSV or XLSX stream; raise HeaderError if it cannot be read at all."""
    head = source.read(SNIFF_BYTES)
    source.seek(0)
    if head.startswith(b"PK\x03\x04"):
        try:
            xrows = _XlsxRows(source)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise HeaderError(_("The file looks like XLSX but cannot be opened.")) from exc
        header = next(xrows, [])

        def xlsx_position() -> int:
            if xrows.max_row <= 0:
                return 0
            return min(total_bytes, total_bytes * xrows.line_num // xrows.max_row)

        return Table(header, xrows, xlsx_position, "xlsx", xrows.close)
    if encoding:
        if encoding.lower().replace("_", "-") not in ENCODINGS:
            raise HeaderError(_("Unsupported encoding; use utf-8 or gb18030."))
        enc = "utf-8-sig" if encoding.lower().startswith("utf") else "gb18030"
    else:
        enc = detect_encoding(head)
    text = io.TextIOWrapper(source, encoding=enc, errors="strict", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, [])
    except UnicodeDecodeError as exc:
        raise HeaderError(_("The file is not valid %(encoding)s text.") % {"encoding": enc}) from exc

    def close() -> None:
        text.detach()

    return Table(header, reader, source.tell, enc, close)


# --- validation ----------------------------------------------------------------------------------


def _parse_date(raw: str) -> str | None:
    for form in _DATE_FORMS:
        m = form.fullmatch(raw)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
            except ValueError:
                return None
    return None


def _converter(spec: FieldSpec) -> Callable[[str], str]:
    """raw cell -> JSON fragment; raise _BadCell(reason) on a bad value. Only reasons, never values."""
    name = spec.name
    missing = _("%(column)s (%(label)s) is required") % {"column": name, "label": spec.label}
    required = spec.required

    if spec.kind == "str":
        too_long = _("%(column)s is longer than %(max)d characters") % {"column": name, "max": MAX_TEXT}
        control = _("%(column)s contains a NUL character") % {"column": name}

        def conv(raw: str) -> str:
            v = raw.strip()
            if not v:
                if required:
                    raise _BadCell(missing)
                return "null"
            if len(v) > MAX_TEXT:
                raise _BadCell(too_long)
            if "\x00" in v:
                raise _BadCell(control)
            return encode_basestring(v)

        return conv

    if spec.kind == "int":
        bad = _("%(column)s is not a whole number") % {"column": name}

        def conv(raw: str) -> str:
            v = raw.strip().replace(",", "")
            if not v:
                if required:
                    raise _BadCell(missing)
                return "null"
            if not _INT.fullmatch(v):
                raise _BadCell(bad)
            return str(int(v))

        return conv

    if spec.kind == "decimal":
        bad = _("%(column)s is not a number with at most 2 decimal places") % {"column": name}

        def conv(raw: str) -> str:
            v = raw.strip()
            if not v:
                if required:
                    raise _BadCell(missing)
                return "null"
            m = _DECIMAL.fullmatch(v.replace(",", "") if "," in v else v)
            if m is None:
                raise _BadCell(bad)
            sign, whole, frac = m.groups()
            whole = whole.lstrip("0") or "0"
            frac = (frac or "").ljust(2, "0")
            if sign == "-" and (whole != "0" or frac != "00"):
                return f'"-{whole}.{frac}"'
            return f'"{whole}.{frac}"'

        return conv

    if spec.kind == "date":
        bad = _("%(column)s is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)") % {"column": name}
        cache: dict[str, str | None] = {}

        def conv(raw: str) -> str:
            v = raw.strip()
            if not v:
                if required:
                    raise _BadCell(missing)
                return "null"
            iso = cache.get(v, "")
            if iso == "":
                iso = _parse_date(v)
                if len(cache) < 50_000:
                    cache[v] = iso
            if iso is None:
                raise _BadCell(bad)
            return f'"{iso}"'

        return conv

    bad = _("%(column)s is not 是/否 (or 1/0, true/false)") % {"column": name}

    def conv_bool(raw: str) -> str:
        v = raw.strip()
        if not v:
            if required:
                raise _BadCell(missing)
            return "null"
        b = _BOOLS.get(v.lower())
        if b is None:
            raise _BadCell(bad)
        return b

    return conv_bool


@dataclass(frozen=True)
class Layout:
    """Where each column of this file is, and how its fields become the canonical JSON."""

    width: int
    id_at: int
    record_at: int
    date_at: int
    # (position in the row or -1 when the column is absent, '"name": ', converter), sorted by name
    fields: tuple[tuple[int, str, Callable[[str], str]], ...]


def make_layout(category: Category, header: list[str]) -> Layout:
    """Map the header to the category; raise HeaderError naming an unknown, duplicate or missing column."""
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    while names and names[-1] == "":
        names.pop()
    if not names:
        raise HeaderError(_("The file is empty or has no header line."))
    known = set(COMMON_COLUMNS) | {f.name for f in category.fields}
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if name not in known:
            raise HeaderError(
                _(
                    'Unknown column "%(column)s" (column %(position)d) for %(category)s; '
                    "expected: %(expected)s"
                )
                % {
                    "column": name[:60],
                    "position": position,
                    "category": category.name,
                    "expected": ", ".join(expected_columns(category)),
                }
            )
        if name in seen:
            raise HeaderError(_('Column "%(column)s" appears twice in the header.') % {"column": name})
        seen.add(name)
    absent = [c for c in COMMON_COLUMNS if c not in seen] + [
        f.name for f in category.fields if f.required and f.name not in seen
    ]
    if absent:
        raise HeaderError(_("Missing columns: %(columns)s") % {"columns": ", ".join(absent)})
    index = {name: i for i, name in enumerate(names)}
    fields = tuple(
        (index.get(spec.name, -1), encode_basestring(spec.name) + ": ", _converter(spec))
        for spec in sorted(category.fields, key=lambda s: s.name)
    )
    return Layout(len(names), index["id_number"], index["record_id"], index["effective_date"], fields)


def expected_columns(category: Category) -> list[str]:
    return list(COMMON_COLUMNS) + [f.name for f in category.fields]


def _hmac_states(key: bytes) -> tuple[Any, Any]:
    """Inner and outer SHA-256 states of HMAC(key, "id:" + ...), the form pii.id_number_index hashes."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    inner.update(b"id:")
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    return inner, outer


# --- streaming -----------------------------------------------------------------------------------


class RowStream:
    """A file-like for copy_expert: each read() validates the next chunk of rows and returns COPY text.

    Columns: source_record_id, person_hash, effective_date, data, content_hash, line. The category
    and department are constants of the job, added by the upsert rather than sent a million times.
    """

    def __init__(
        self,
        table: Table,
        layout: Layout,
        *,
        department: str,
        today: dt.date,
        progress: ProgressFn | None = None,
        rows_per_chunk: int = ROWS_PER_CHUNK,
        progress_rows: int = PROGRESS_ROWS,
    ) -> None:
        self.table = table
        self.layout = layout
        self.department = department
        self.today = today
        self.progress = progress
        self.rows_per_chunk = rows_per_chunk
        self.progress_rows = progress_rows
        self.result = ImportResult()
        self.staged = 0
        # record id -> line of its latest occurrence; an earlier one is superseded (last one wins).
        self.lines_by_record: dict[str, int] = {}
        self.superseded: list[int] = []
        self._done = False
        self._last_line = table.rows.line_num  # type: ignore[attr-defined]
        self._next_progress_rows = progress_rows
        self._next_progress_time = time.monotonic() + PROGRESS_SECONDS
        self._fast_id = make_fast_check(today)
        self._hmac_states = _hmac_states(settings.PII_HASH_KEY.encode("utf-8"))
        self._reasons = {
            "extra": _("unknown column at position %(position)d (the header has %(count)d columns)"),
            "record_empty": _("record_id is empty"),
            "record_long": _("record_id is longer than %(max)d characters") % {"max": MAX_RECORD_ID},
            "record_control": _("record_id contains a control character"),
            "date": _("effective_date is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)"),
            "id": _("id_number: %(problem)s"),
            "duplicate": _("record_id appears again at line %(line)d, which replaces this row"),
        }

    # The file-like protocol copy_expert needs.
    def read(self, size: int = -1) -> str:
        if self._done:
            return ""
        text = self._chunk()
        while not text and not self._done:
            text = self._chunk()
        return text

    def readline(self, size: int = -1) -> str:  # pragma: no cover - copy_expert uses read()
        return self.read(size)

    def _report_progress(self, force: bool = False) -> None:
        r = self.result
        r.bytes_done = self.table.position()
        if self.progress is None:
            return
        now = time.monotonic()
        if force or r.rows_read >= self._next_progress_rows or now >= self._next_progress_time:
            self._next_progress_rows = r.rows_read + self.progress_rows
            self._next_progress_time = now + PROGRESS_SECONDS
            self.progress(r.bytes_done, r.rows_read)

    def _reject(self, line: int, reason: str) -> None:
        r = self.result
        r.rows_rejected += 1
        if len(r.errors) < MAX_REPORTED_ERRORS:
            r.errors.append((line, reason))

    def _chunk(self) -> str:
        rows = self.table.rows
        layout = self.layout
        width = layout.width
        id_at, record_at, date_at = layout.id_at, layout.record_at, layout.date_at
        fields = layout.fields
        fast_id = self._fast_id
        inner, outer = self._hmac_states
        md5 = hashlib.md5
        dept = self.department
        seen = self.lines_by_record
        reasons = self._reasons
        dates: dict[str, str | None] = {}
        out: list[str] = []
        read = 0
        last = self._last_line
        try:
            for cells in rows:
                line = last + 1
                last = rows.line_num  # type: ignore[attr-defined]
                n = len(cells)
                if n == 0 or (n == 1 and not cells[0].strip()):
                    continue  # a blank line is not a row
                read += 1
                problems: list[str] | None = None
                if n > width:
                    extra = next((i for i in range(width, n) if cells[i].strip()), -1)
                    if extra >= 0:
                        problems = [reasons["extra"] % {"position": extra + 1, "count": width}]
                elif n < width:
                    cells = cells + [""] * (width - n)
                # ID number
                raw_id = cells[id_at]
                number = fast_id(raw_id)
                if number is None:
                    try:
                        number = parse_id_number(raw_id, today=self.today).number
                    except InvalidIdNumber as exc:
                        problem = reasons["id"] % {"problem": ERROR_MESSAGES[exc.code]}
                        problems = [*problems, problem] if problems else [problem]
                # record id
                rid = cells[record_at].strip()
                if not rid:
                    problems = [*(problems or []), reasons["record_empty"]]
                elif len(rid) > MAX_RECORD_ID:
                    problems = [*(problems or []), reasons["record_long"]]
                elif not rid.isprintable():
                    problems = [*(problems or []), reasons["record_control"]]
                # effective date
                raw_date = cells[date_at].strip()
                eff = dates.get(raw_date, "")
                if eff == "":
                    eff = _parse_date(raw_date)
                    dates[raw_date] = eff
                if eff is None:
                    problems = [*(problems or []), reasons["date"]]
                # fields, as canonical JSON
                parts = []
                for at, prefix, conv in fields:
                    try:
                        parts.append(prefix + conv(cells[at] if at >= 0 else ""))
                    except _BadCell as bad:
                        problems = [*(problems or []), str(bad)]
                if problems:
                    self._reject(line, "；".join(problems))
                    continue
                data = "{" + ", ".join(parts) + "}"
                # HMAC-SHA256 from precomputed pad states: pii.id_number_index, without re-keying per row.
                ih = inner.copy()
                ih.update(number.encode())  # type: ignore[union-attr]
                oh = outer.copy()
                oh.update(ih.digest())
                person = oh.hexdigest()
                content = md5(f"{dept}|{person}|{eff}|{data}".encode()).hexdigest()
                earlier = seen.get(rid)
                if earlier is not None:
                    self.superseded.append(earlier)
                    self._reject(earlier, reasons["duplicate"] % {"line": line})
                seen[rid] = line
                if "\\" in data:
                    data = data.replace("\\", "\\\\")
                if "\\" in rid:
                    rid = rid.replace("\\", "\\\\")
                out.append(f"{rid}\t{person}\t{eff}\t{data}\t{content}\t{line}\n")
                if read >= self.rows_per_chunk:
                    break
            else:
                self._done = True
        except UnicodeDecodeError as exc:
            raise HeaderError(
                _("The file is not valid %(encoding)s text after line %(line)d.")
                % {"encoding": self.table.encoding, "line": last}
            ) from exc
        except csv.Error as exc:
            raise HeaderError(_("The file is not valid CSV after line %(line)d.") % {"line": last}) from exc
        self._last_line = last
        self.result.rows_read += read
        self.staged += len(out)
        self._report_progress(force=self._done)
        return "".join(out)


# --- database ------------------------------------------------------------------------------------

STAGE_COLUMNS = "source_record_id, person_hash, effective_date, data, content_hash, line"


def stage_and_upsert(
    cursor: Any,
    stream: RowStream,
    *,
    category: Category,
    job_id: int,
    now: dt.datetime,
    copy_size: int = 1 << 20,
) -> ImportResult:
    """COPY the stream into a temporary table and upsert it into the pool; run inside a transaction."""
    stage = f"pool_stage_{job_id}"
    cursor.execute(
        f"CREATE TEMPORARY TABLE {stage} (source_record_id text, person_hash text, effective_date date, "
        "data jsonb, content_hash text, line integer) ON COMMIT DROP"
    )
    cursor.copy_expert(f"COPY {stage} ({STAGE_COLUMNS}) FROM STDIN", stream, copy_size)
    result = stream.result
    if stream.superseded:
        cursor.execute(f"DELETE FROM {stage} WHERE line = ANY(%s)", [stream.superseded])  # noqa: S608
    good = stream.staged - len(stream.superseded)
    # xmax = 0 only on a freshly inserted tuple: it tells inserts from updates in one statement.
    cursor.execute(
        f"""
        WITH up AS (
            INSERT INTO eligibility_poolrecord
                (category, department, source_record_id, person_hash, effective_date, data,
                 content_hash, job_id, updated_at)
            SELECT %(category)s, %(department)s, s.source_record_id, s.person_hash, s.effective_date,
                   s.data, s.content_hash, %(job)s, %(now)s
            FROM {stage} s
            ON CONFLICT (category, source_record_id) DO UPDATE SET
                department = EXCLUDED.department,
                person_hash = EXCLUDED.person_hash,
                effective_date = EXCLUDED.effective_date,
                data = EXCLUDED.data,
                content_hash = EXCLUDED.content_hash,
                job_id = EXCLUDED.job_id,
                updated_at = EXCLUDED.updated_at
            WHERE eligibility_poolrecord.content_hash IS DISTINCT FROM EXCLUDED.content_hash
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up
        """,  # noqa: S608 - the staging table name is built from an integer id
        {"category": category.code, "department": category.department, "job": job_id, "now": now},
    )
    inserted, updated = cursor.fetchone()
    result.rows_inserted = int(inserted)
    result.rows_updated = int(updated)
    result.rows_unchanged = good - result.rows_inserted - result.rows_updated
    result.errors.sort()
    return result
