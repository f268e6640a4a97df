"""Files of the 户籍, death, existing-recipient and payment categories, and their import."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from assist_center.identity import make_id_number
from eligibility.models import ImportJob
from eligibility.services.imports import pool_import_run, pool_import_start

_seq = iter(range(100, 10**6))


def new_id(birth: dt.date = dt.date(1970, 3, 4)) -> str:
    return make_id_number(region6="331022", birth=birth, seq=next(_seq) % 1000)


HUKOU = (
    "id_number",
    "record_id",
    "effective_date",
    "household_number",
    "relation",
    "status",
    "name",
    "village_code",
    "address",
)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode()


def run(category: str, data: bytes) -> ImportJob:
    job = pool_import_start(actor="test", category=category, file_name=f"{category}.csv", data=data)
    done = pool_import_run(job_id=job.pk)
    assert done.status == ImportJob.Status.DONE, done.failure
    return done


def report(job: ImportJob) -> list[tuple[int, str]]:
    rows = list(csv.reader(io.StringIO(job.error_report)))
    return [(int(line), reason) for line, reason in rows[1:] if line]
