"""Data-pool import (issue 4): 1,000,000 CSV rows, against a plain COPY of the same file.

Targets: at least 100,000 rows/s, and at most 3x the seconds of `COPY` of the file into an
unlogged table of text columns. The framework's ratio assumes smaller is better, so the ratio here
is our seconds over COPY's seconds; `value` is rows per second.

The import is a first load of the category (the pool has no deposit row), which COPYs straight
into eligibility_poolrecord (importer.py, "database"). Where its time goes on this 2-core machine:
Python validates, hashes and formats about 6 µs a row (csv, the ID check, the HMAC blind index,
the md5 content hash, the canonical JSON) while the backend parses and writes on the other core;
the backend's share (logged heap, primary key, unique (category, source_record_id), job and
person indexes) is about as large: an INSERT ... SELECT of already-parsed rows into the pool table
alone takes about 4.5 s, and into a table with no index at all about 2.2 s. So the 3x-COPY ratio
(about 1.7 s) is out of reach for any load that writes a logged, indexed table; 100,000 rows/s
(10 s) is reached only when the machine is not shared with other busy processes.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from assist_center.identity import make_id_number
from bench.framework import Result, benchmark

ROWS = 1_000_000
CATEGORY = "deposit"
BANKS = ("中国农业银行三门支行", "中国工商银行", "浙江农商银行", "中国邮政储蓄银行")


def sample_file(rows: int = ROWS) -> Path:
    """Generate the file once (about 70 MB) under var/bench/ and reuse it."""
    path = Path(settings.BASE_DIR) / "var" / "bench" / f"pool_{CATEGORY}_{rows}.csv"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(4)
    base = dt.date(1940, 1, 1)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        f.write("id_number,record_id,effective_date,balance,bank\n")
        for i in range(rows):
            number = make_id_number(
                region6="331022",
                birth=base + dt.timedelta(days=rng.randrange(30000)),
                seq=rng.randrange(1000),
            )
            f.write(
                f"{number},D{i:08d},2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d},"
                f"{rng.randrange(0, 10_000_000) / 100:.2f},{BANKS[i % 4]}\n"
            )
    tmp.rename(path)
    return path


def _fresh_pool() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM eligibility_poolrecord WHERE category = %s", [CATEGORY])
        cursor.execute("VACUUM eligibility_poolrecord")


def _plain_copy_seconds(path: Path) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS bench_plain_copy; CREATE UNLOGGED TABLE bench_plain_copy "
            "(id_number text, record_id text, effective_date text, balance text, bank text)"
        )
        start = time.perf_counter()
        with path.open("rb") as f:
            cursor.copy_expert("COPY bench_plain_copy FROM STDIN WITH (FORMAT csv, HEADER true)", f)
        seconds = time.perf_counter() - start
        cursor.execute("DROP TABLE bench_plain_copy")
    return seconds


def _import_seconds(path: Path) -> tuple[float, int]:
    from eligibility.services.imports import pool_import_file

    start = time.perf_counter()
    job = pool_import_file(actor="bench", category=CATEGORY, path=path)
    seconds = time.perf_counter() - start
    assert job.status == "done", job.failure
    return seconds, job.rows_inserted + job.rows_updated + job.rows_unchanged


@benchmark("import_1m_rows_per_s")
def import_1m() -> Result:
    path = sample_file()
    connection.ensure_connection()
    baseline = min(_plain_copy_seconds(path) for _ in range(2))
    _fresh_pool()
    seconds, rows = _import_seconds(path)
    assert rows == ROWS
    rate = ROWS / seconds
    ratio = seconds / baseline
    return Result(
        value=round(rate, 1),
        unit="rows/s",
        baseline=round(baseline, 3),
        ratio=round(ratio, 3),
        target="<= 3x COPY and >= 100k rows/s",
        ok=ratio <= 3 and rate >= 100_000,
    )


@benchmark("pool_reimport_unchanged_1m_s")
def reimport_unchanged() -> Result:
    """The same file again (every row unchanged): seconds, against the same plain COPY."""
    path = sample_file()
    baseline = _plain_copy_seconds(path)
    seconds, _ = _import_seconds(path)
    return Result(
        value=round(seconds, 3),
        unit="s",
        baseline=round(baseline, 3),
        ratio=round(seconds / baseline, 3),
        target="ratio <= 3 (information)",
        ok=True,
    )


# --- where the time must go --------------------------------------------------------------------
# The 3x-COPY ratio compares the whole import with COPY of the raw file into an unlogged
# table of text columns. These two figures show what part of any import is the write itself: the
# rows the import produced (blind index, canonical JSON, content hash), exported and COPYed back,
# first into an unlogged table of the pool's shape without an index, then into a logged table with
# the pool's indexes. Neither validates, hashes or parses anything in Python.

_FINAL_COLUMNS = (
    "category, department, source_record_id, person_hash, effective_date, data, content_hash, "
    "updated_at, job_id"
)


def _final_rows_file() -> Path:
    """The category's rows as stored, in COPY text form (about 220 MB under var/bench/)."""
    from eligibility.models import PoolRecord

    if PoolRecord.objects.filter(category=CATEGORY).count() != ROWS:
        _fresh_pool()
        _import_seconds(sample_file())
    path = Path(settings.BASE_DIR) / "var" / "bench" / f"pool_{CATEGORY}_{ROWS}_final.tsv"
    with connection.cursor() as cursor, path.open("wb") as f:
        # Constants only (the column list and the bench's own category): nothing from outside.
        query = f"COPY (SELECT {_FINAL_COLUMNS} FROM eligibility_poolrecord WHERE category = '{CATEGORY}') TO STDOUT"  # noqa: S608, E501
        cursor.copy_expert(query, f)
    return path


def _copy_final_rows_seconds(path: Path, *, create: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS bench_final_copy; {create}")
        start = time.perf_counter()
        with path.open("rb") as f:
            cursor.copy_expert(f"COPY bench_final_copy ({_FINAL_COLUMNS}) FROM STDIN", f)
        seconds = time.perf_counter() - start
        cursor.execute("DROP TABLE bench_final_copy")
    return seconds


@benchmark("import_write_floor_unlogged_s")
def write_floor_unlogged() -> Result:
    """COPY of the final rows into an unlogged, unindexed table of the pool's shape, against the
    plain COPY of the source file: the least any import that stores these rows must spend."""
    final = _final_rows_file()
    baseline = min(_plain_copy_seconds(sample_file()) for _ in range(2))
    seconds = min(
        _copy_final_rows_seconds(
            final,
            create="CREATE UNLOGGED TABLE bench_final_copy "
            "(LIKE eligibility_poolrecord INCLUDING DEFAULTS INCLUDING IDENTITY)",
        )
        for _ in range(2)
    )
    final.unlink()
    return Result(
        value=round(seconds, 3),
        unit="s",
        baseline=round(baseline, 3),
        ratio=round(seconds / baseline, 3),
        target="information: the write alone",
        ok=True,
    )


@benchmark("import_1m_over_write_floor")
def import_over_write_floor() -> Result:
    """The whole import against COPY of its final rows into a logged table with the pool's indexes
    (what it must write): the cost of reading, validating and hashing on top of that write."""
    final = _final_rows_file()
    floor = _copy_final_rows_seconds(
        final,
        create="CREATE TABLE bench_final_copy (LIKE eligibility_poolrecord INCLUDING ALL)",
    )
    final.unlink()
    _fresh_pool()
    seconds, rows = _import_seconds(sample_file())
    assert rows == ROWS
    return Result(
        value=round(seconds, 3),
        unit="s",
        baseline=round(floor, 3),
        ratio=round(seconds / floor, 3),
        target="ratio <= 3 (information)",
        ok=seconds / floor <= 3,
    )
