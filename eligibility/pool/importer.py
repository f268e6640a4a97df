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
3. The lines stream through `COPY ... FROM STDIN` (the PostgreSQL backend parses and writes while
   Python validates the next chunk: two processes on two cores). A first load of a category goes
   straight into eligibility_poolrecord; a re-import goes into a temporary staging table.
4. A re-import joins the staging rows to the category's records on the record id and writes only
   the new rows and those whose content hash changed, so re-importing the same file changes
   nothing and a corrected file updates only what changed (see "database" below).

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
import json
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import IO, Any, Protocol

from django.conf import settings
from django.utils.translation import gettext as _

from assist_center.identity import ERROR_MESSAGES, InvalidIdNumber, parse_id_number

from .categories import (
    COMMON_COLUMNS,
    Category,
    FieldSpec,
    column_aliases,
    normalise_header,
    template_headers,
)
from .fastid import make_fast_check

ProgressFn = Callable[[int, int], None]

ENCODINGS = ("utf-8", "gb18030")
SNIFF_BYTES = 64 * 1024
MAX_RECORD_ID = 64
MAX_TEXT = 1000
# The stored error report keeps this many lines; rows_rejected still counts every bad row.
MAX_REPORTED_ERRORS = 100_000
ROWS_PER_CHUNK = 4096
MAX_CACHED_INDEXES = 200_000
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


class BadValue(ValueError):
    """A value that breaks its field's rules; the message is the reason, never the value."""


def field_value(spec: FieldSpec, raw: str) -> Any:
    """One value checked and converted by the import's own rules, for records that arrive another way
    (the provincial check's answer): the same JSON value an import of `raw` would store."""
    try:
        return json.loads(_converter(spec)(raw))
    except _BadCell as exc:
        raise BadValue(str(exc)) from exc


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

        # Text columns repeat (a bank, a status, a kind): a bounded cache of good values skips
        # the checks and the JSON escaping for most rows.
        known: dict[str, str] = {}

        def conv(raw: str) -> str:
            hit = known.get(raw)
            if hit is not None:
                return hit
            v = raw.strip()
            if not v:
                if required:
                    raise _BadCell(missing)
                return "null"
            if len(v) > MAX_TEXT:
                raise _BadCell(too_long)
            if "\x00" in v:
                raise _BadCell(control)
            out = encode_basestring(v)
            if len(known) < 10_000 and len(raw) <= 64:
                known[raw] = out
            return out

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
            # The common form first ("1234.5", "20000", no sign, no leading zero, ASCII digits);
            # everything else goes through the pattern, which decides and names the problem.
            whole, _dot, frac = raw.partition(".")
            if (
                whole.isdigit()
                and whole.isascii()
                and whole[0] != "0"
                and len(frac) <= 2
                and (not frac or (frac.isdigit() and frac.isascii()))
            ):
                return f'"{whole}.{frac.ljust(2, "0")}"'
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
    # (position in the row, '"name": ', converter), sorted by name; a column the file does not have
    # (an optional field: a required one missing is a header error) is (-1, '"name": null', None),
    # its constant part of every row's JSON.
    fields: tuple[tuple[int, str, Callable[[str], str] | None], ...]


def make_layout(category: Category, header: list[str]) -> Layout:
    """Map the header to the category; raise HeaderError naming an unknown, duplicate or missing column."""
    # A column may be named by its code (id_number) or its Chinese header (身份证号码, issue 16).
    aliases = column_aliases(category)
    raw = [h.strip().lstrip("\ufeff") for h in header]
    while raw and raw[-1] == "":
        raw.pop()
    if not raw:
        raise HeaderError(_("The file is empty or has no header line."))
    names = [aliases.get(normalise_header(h), normalise_header(h)) for h in raw]
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
                    "column": raw[position - 1][:60],
                    "position": position,
                    "category": category.name,
                    "expected": "、".join(_shown_columns(category).values()),
                }
            )
        if name in seen:
            raise HeaderError(
                _('Column "%(column)s" appears twice in the header.') % {"column": raw[position - 1][:60]}
            )
        seen.add(name)
    absent = [c for c in COMMON_COLUMNS if c not in seen] + [
        f.name for f in category.fields if f.required and f.name not in seen
    ]
    if absent:
        shown = _shown_columns(category)
        missing = "、".join(shown[c] for c in absent)
        raise HeaderError(_("Missing columns: %(columns)s") % {"columns": missing})
    index = {name: i for i, name in enumerate(names)}
    fields = tuple(
        (index[spec.name], encode_basestring(spec.name) + ": ", _converter(spec))
        if spec.name in index
        else (-1, encode_basestring(spec.name) + ": null", None)
        for spec in sorted(category.fields, key=lambda s: s.name)
    )
    return Layout(len(names), index["id_number"], index["record_id"], index["effective_date"], fields)


def _shown_columns(category: Category) -> dict[str, str]:
    """Each column as a person reads it in a header error: 身份证号码（id_number）."""
    codes = expected_columns(category)
    return {code: f"{zh}（{code}）" for zh, code in zip(template_headers(category), codes, strict=True)}


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


class RowWriter(Protocol):
    def __call__(
        self, out: list[str], rid: str, person: str, eff: str, parts: list[str], content: str, line: int
    ) -> None:
        """`rid` is COPY-escaped; `parts` are the row's '"name": value' JSON fragments, sorted by name."""


class RowStream:
    """A file-like for copy_expert: each read() validates the next chunk of rows and returns COPY text.

    Staging columns (STAGE_COLUMNS): source_record_id, person_hash, effective_date, data,
    content_hash, line. `load_directly` switches to the pool's own columns (DIRECT_COLUMNS), for a
    first load of a category that COPYs straight into eligibility_poolrecord: then a record id
    seen again cannot be sent (the unique constraint would abort the COPY), so the row is kept in
    `diverted` (last one wins) and applied after the COPY as an update of the earlier row.
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
        # Direct mode: the row text before and after the per-row columns; None = staging mode.
        self._direct: tuple[str, str] | None = None
        self.diverted: dict[str, str] = {}
        # blind index -> normalised ID number of each good row, when the category's import handler
        # asks for it (pool.handlers.ImportHandler.keeps_id_numbers); None otherwise.
        self.id_numbers: dict[str, str] | None = None
        # A handler that writes its own rows (payments: the ledger's columns) instead of the staging
        # or pool text: called with each good row's fields, it appends its COPY line to `out` or
        # rejects the row itself (see RowWriter).
        self.writer: RowWriter | None = None
        # Raw ID number -> its blind index, for a number that passed the fast check as written: a
        # person repeats in most files (months of payments, members of one household), and the
        # check and the HMAC are a third of a row's time. Bounded (a hostile file of distinct
        # numbers costs only the check).
        self._index_of: dict[str, str] = {}
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

    def load_directly(self, *, category: str, job_id: int, now: dt.datetime) -> None:
        """Emit DIRECT_COLUMNS rows (before the first read)."""
        self._direct = (f"{category}\t{self.department}\t", f"\t{job_id}\t{now.isoformat()}\n")

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
        direct = self._direct
        head, tail = direct if direct is not None else ("", "")
        diverted = self.diverted
        writer = self.writer
        index_of = self._index_of
        keep_ids = self.id_numbers
        per_chunk = self.rows_per_chunk
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
                person = index_of.get(raw_id)
                number = raw_id if person is not None else fast_id(raw_id)
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
                    if conv is None:
                        parts.append(prefix)
                        continue
                    try:
                        parts.append(prefix + conv(cells[at]))
                    except _BadCell as bad:
                        problems = [*(problems or []), str(bad)]
                if problems:
                    self._reject(line, "；".join(problems))
                    continue
                data = "{" + ", ".join(parts) + "}"
                if person is None:
                    # HMAC-SHA256 from precomputed pad states: pii.id_number_index, without re-keying
                    # per row.
                    ih = inner.copy()
                    ih.update(number.encode())  # type: ignore[union-attr]
                    oh = outer.copy()
                    oh.update(ih.digest())
                    person = oh.hexdigest()
                    if number == raw_id and len(index_of) < MAX_CACHED_INDEXES:
                        index_of[raw_id] = person
                if keep_ids is not None:
                    keep_ids[person] = number  # type: ignore[assignment]
                content = md5(f"{dept}|{person}|{eff}|{data}".encode()).hexdigest()
                earlier = seen.get(rid)
                if earlier is not None:
                    self.superseded.append(earlier)
                    self._reject(earlier, reasons["duplicate"] % {"line": line})
                seen[rid] = line
                key = rid
                if "\\" in data:
                    data = data.replace("\\", "\\\\")
                if "\\" in rid:
                    rid = rid.replace("\\", "\\\\")
                if writer is not None:
                    writer(out, rid, person, eff, parts, content, line)  # type: ignore[arg-type]
                elif direct is None:
                    out.append(f"{rid}\t{person}\t{eff}\t{data}\t{content}\t{line}\n")
                elif earlier is None:
                    out.append(f"{head}{rid}\t{person}\t{eff}\t{data}\t{content}{tail}")
                else:
                    diverted[key] = f"{rid}\t{person}\t{eff}\t{data}\t{content}\t{line}\n"
                if read >= per_chunk:
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
#
# Where the time goes (1M rows, 2 cores, measured for issue 4): Python validates and hashes at
# about 6 µs a row while the backend parses the COPY on the other core; writing the rows into the
# logged pool table with its indexes costs about as much again. So:
# - a first load of a category (no row of it in the pool) COPYs straight into the pool: the
#   backend inserts while Python validates the next chunk, and no staging table is written and
#   read back;
# - a re-import COPYs into a staging table, finds the new and changed rows with one hash join on
#   (source_record_id, content_hash), and writes only those: an unchanged re-import writes nothing
#   (an INSERT ... ON CONFLICT DO UPDATE ... WHERE would still lock, i.e. write, every row).
# Either way the whole import is one transaction: a failure leaves the pool as it was.

STAGE_COLUMNS = "source_record_id, person_hash, effective_date, data, content_hash, line"
DIRECT_COLUMNS = (
    "category, department, source_record_id, person_hash, effective_date, data, content_hash, "
    "job_id, updated_at"
)
POOL_TABLE = "eligibility_poolrecord"
# For the staging join's hash table (1M rows of record id + content hash: about 100 MB).
JOIN_WORK_MEM = "256MB"


def _create_stage(cursor: Any, stage: str) -> None:
    # "C" like the pool's key columns: the join compares bytes, not locale collation keys.
    cursor.execute(
        f'CREATE TEMPORARY TABLE {stage} (source_record_id text COLLATE "C", '
        'person_hash text COLLATE "C", effective_date date, data jsonb, content_hash text, '
        "line integer) ON COMMIT DROP"
    )


def stage_and_upsert(
    cursor: Any,
    stream: RowStream,
    *,
    category: Category,
    job_id: int,
    now: dt.datetime,
    copy_size: int = 1 << 20,
) -> ImportResult:
    """COPY the stream into the pool (first load) or a staging table (re-import) and apply it; run
    inside a transaction."""
    # An import can be re-run from its file (the job keeps it until done), so losing the last
    # moments of a committed import to a server crash is acceptable; not waiting for the WAL
    # flush of a few hundred MB at commit is what this buys. Local to this transaction.
    cursor.execute("SET LOCAL synchronous_commit = off")
    # One import of a category at a time: the "is this a first load" answer below holds until
    # commit, and two imports of one file cannot both insert the same records.
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"pool-import:{category.code}"])
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {POOL_TABLE} WHERE category = %s)",  # noqa: S608
        [category.code],
    )
    (exists,) = cursor.fetchone()
    if exists:
        result = _stage_and_merge(
            cursor, stream, category=category, job_id=job_id, now=now, copy_size=copy_size
        )
    else:
        result = _load_directly(
            cursor, stream, category=category, job_id=job_id, now=now, copy_size=copy_size
        )
    result.errors.sort()
    return result


def _load_directly(
    cursor: Any, stream: RowStream, *, category: Category, job_id: int, now: dt.datetime, copy_size: int
) -> ImportResult:
    stream.load_directly(category=category.code, job_id=job_id, now=now)
    cursor.copy_expert(f"COPY {POOL_TABLE} ({DIRECT_COLUMNS}) FROM STDIN", stream, copy_size)
    result = stream.result
    result.rows_inserted = stream.staged
    if stream.diverted:
        # A record id repeated in the file: its last row replaces the one already inserted.
        stage = f"pool_dups_{job_id}"
        _create_stage(cursor, stage)
        cursor.copy_expert(
            f"COPY {stage} ({STAGE_COLUMNS}) FROM STDIN", io.StringIO("".join(stream.diverted.values()))
        )
        cursor.execute(
            f"""
            UPDATE {POOL_TABLE} p SET person_hash = s.person_hash, effective_date = s.effective_date,
                   data = s.data, content_hash = s.content_hash
            FROM {stage} s
            WHERE p.category = %s AND p.source_record_id = s.source_record_id
            """,  # noqa: S608 - table names from constants and an integer id
            [category.code],
        )
    return result


def _stage_and_merge(
    cursor: Any, stream: RowStream, *, category: Category, job_id: int, now: dt.datetime, copy_size: int
) -> ImportResult:
    stage = f"pool_stage_{job_id}"
    changed = f"pool_changed_{job_id}"
    _create_stage(cursor, stage)
    # FREEZE: the table is new in this transaction, so its rows can be written frozen and the
    # ANALYZE and the join do not rewrite every page to set hint bits.
    cursor.copy_expert(f"COPY {stage} ({STAGE_COLUMNS}) FROM STDIN WITH (FREEZE)", stream, copy_size)
    result = stream.result
    if stream.superseded:
        cursor.execute(f"DELETE FROM {stage} WHERE line = ANY(%s)", [stream.superseded])  # noqa: S608
    good = stream.staged - len(stream.superseded)
    cursor.execute(f"SET LOCAL work_mem = '{JOIN_WORK_MEM}'")
    # Statistics for the planner: without them a temporary table looks tiny (a nested loop).
    cursor.execute(f"ANALYZE {stage}")
    # New rows (pool_id IS NULL) and changed ones, found in one pass over the category's keys.
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE {changed} ON COMMIT DROP AS
        SELECT s.*, p.id AS pool_id
        FROM {stage} s
        LEFT JOIN {POOL_TABLE} p ON p.category = %s AND p.source_record_id = s.source_record_id
        WHERE p.id IS NULL OR p.content_hash IS DISTINCT FROM s.content_hash
        """,  # noqa: S608 - table names from constants and an integer id
        [category.code],
    )
    cursor.execute(
        f"""
        UPDATE {POOL_TABLE} p SET
            department = %(department)s, person_hash = c.person_hash,
            effective_date = c.effective_date, data = c.data, content_hash = c.content_hash,
            job_id = %(job)s, updated_at = %(now)s
        FROM {changed} c
        WHERE c.pool_id IS NOT NULL AND p.id = c.pool_id
        """,  # noqa: S608
        {"department": category.department, "job": job_id, "now": now},
    )
    result.rows_updated = cursor.rowcount
    cursor.execute(
        f"""
        INSERT INTO {POOL_TABLE}
            (category, department, source_record_id, person_hash, effective_date, data,
             content_hash, job_id, updated_at)
        SELECT %(category)s, %(department)s, c.source_record_id, c.person_hash, c.effective_date,
               c.data, c.content_hash, %(job)s, %(now)s
        FROM {changed} c
        WHERE c.pool_id IS NULL
        """,  # noqa: S608
        {"category": category.code, "department": category.department, "job": job_id, "now": now},
    )
    result.rows_inserted = cursor.rowcount
    result.rows_unchanged = good - result.rows_inserted - result.rows_updated
    return result
