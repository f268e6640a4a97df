"""`manage.py import_pool` runs an import in-process and prints the counts and the first errors."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from assist_center.identity import make_id_number
from eligibility.models import ImportJob, PoolRecord

ID1 = make_id_number(region6="331022", birth=dt.date(1960, 5, 1), seq=11)


def test_the_command_imports_a_file_and_prints_counts_and_errors(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "存款.csv"
    path.write_bytes(
        f"id_number,record_id,effective_date,balance\n{ID1},C1,2026-01-01,5\n{ID1},C2,bad,5\n".encode(
            "gb18030"
        )
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("import_pool", "deposit", str(path), "--encoding", "gb18030", stdout=out, stderr=err)
    job = ImportJob.objects.get()
    assert (job.status, job.rows_inserted, job.rows_rejected, job.upload) == ("done", 1, 1, None)
    text = out.getvalue()
    assert "inserted 1" in text and "rejected 1" in text and "3," in text
    assert PoolRecord.objects.get().source_record_id == "C1"
    assert ID1 not in text and ID1 not in err.getvalue()


def test_the_command_reports_a_failed_header(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id_number,record_id,effective_date,balance,colour\n")
    with pytest.raises(CommandError, match="colour"):
        call_command("import_pool", "deposit", str(path), stdout=io.StringIO(), stderr=io.StringIO())
