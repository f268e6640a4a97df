"""The data-pool import pipeline: counts, idempotent re-import, bad rows, encodings, formats, claims."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import openpyxl
from django.db import connection
from django.utils.translation import gettext as _
from hypothesis import given, settings
from hypothesis import strategies as st

from assist_center.identity import ERROR_MESSAGES, InvalidIdNumber, make_id_number, parse_id_number
from assist_center.pii import id_number_index
from eligibility.models import ImportJob, PoolRecord
from eligibility.pool.fastid import make_fast_check
from eligibility.pool.selectors import records_for_persons
from eligibility.services.imports import pool_import_run, pool_import_start

ID1 = make_id_number(region6="331022", birth=dt.date(1960, 5, 1), seq=11)
ID2 = make_id_number(region6="331022", birth=dt.date(1975, 2, 28), seq=22)
ID3 = make_id_number(region6="331022", birth=dt.date(1990, 12, 31), seq=33)
HEADER = "id_number,record_id,effective_date,balance,bank\n"


def run(data: bytes, category: str = "deposit", **kwargs: Any) -> ImportJob:
    job = pool_import_start(actor="test", category=category, file_name="f.csv", data=data)
    return pool_import_run(job_id=job.pk, **kwargs)


def report(job: ImportJob) -> list[tuple[int, str]]:
    rows = list(csv.reader(io.StringIO(job.error_report)))
    assert rows[0] == ["line", "reason"]
    return [(int(line), reason) for line, reason in rows[1:]]


def deposit_file(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


GOOD = (f"{ID1},D1,2026-01-01,1000.5,农行", f"{ID2},D2,2026/01/02,20000,", f"{ID3},D3,20260103,0.01,工行")


def counts(job: ImportJob) -> tuple[int, int, int, int, int]:
    return job.rows_read, job.rows_inserted, job.rows_updated, job.rows_unchanged, job.rows_rejected


def test_a_new_file_inserts_every_row_keyed_by_the_blind_index(db: Any) -> None:
    job = run(deposit_file(*GOOD))
    assert job.status == ImportJob.Status.DONE
    assert counts(job) == (3, 3, 0, 0, 0)
    assert job.upload is None and job.error_report == ""
    rec = PoolRecord.objects.get(category="deposit", source_record_id="D1")
    assert rec.person_hash == id_number_index(ID1)
    assert rec.department == "finance" and rec.job_id == job.pk
    assert rec.effective_date == dt.date(2026, 1, 1)
    assert rec.data == {"balance": "1000.50", "bank": "农行"}
    assert PoolRecord.objects.get(source_record_id="D2").data == {"balance": "20000.00", "bank": None}


def test_reimporting_the_same_file_changes_nothing(db: Any) -> None:
    first = run(deposit_file(*GOOD))
    before = {r.source_record_id: (r.updated_at, r.job_id) for r in PoolRecord.objects.all()}
    again = run(deposit_file(*GOOD))
    assert counts(again) == (3, 0, 0, 3, 0)
    after = {r.source_record_id: (r.updated_at, r.job_id) for r in PoolRecord.objects.all()}
    assert after == before and all(job == first.pk for _, job in after.values())


def test_a_corrected_file_updates_only_the_changed_rows(db: Any) -> None:
    run(deposit_file(*GOOD))
    # The same amount written differently ("1000.50" for "1000.5") is not a change.
    corrected = run(
        deposit_file(
            f"{ID1},D1,2026-01-01,1000.50,农行",
            f"{ID2},D2,2026-01-02,19999,",
            GOOD[2],
            f"{ID1},D4,2026-02-01,5,",
        )
    )
    assert counts(corrected) == (4, 1, 1, 2, 0)
    assert set(PoolRecord.objects.filter(job_id=corrected.pk).values_list("source_record_id", flat=True)) == {
        "D2",
        "D4",
    }
    assert PoolRecord.objects.get(source_record_id="D2").data["balance"] == "19999.00"


def test_bad_rows_are_reported_by_line_without_values_and_good_rows_still_import(db: Any) -> None:
    wrong_check = ID1[:17] + ("0" if ID1[17] != "0" else "1")
    bad_month = make_id_number(region6="331022", birth=dt.date(1990, 1, 1), seq=1)
    bad_month = bad_month[:10] + "13" + bad_month[12:]
    bad_month = bad_month[:17] + _check(bad_month[:17])
    future = make_id_number(region6="331022", birth=dt.date(2099, 1, 1), seq=1)
    province = make_id_number(region6="991022", birth=dt.date(1990, 1, 1), seq=1).replace("9", "7", 1)
    province = province[:17] + _check(province[:17])
    rows = [
        GOOD[0],  # line 2
        f"{wrong_check},B1,2026-01-01,1,",  # 3
        f"{bad_month},B2,2026-01-01,1,",  # 4
        f"{future},B3,2026-01-01,1,",  # 5
        "12345,B4,2026-01-01,1,",  # 6
        f"{province},B5,2026-01-01,1,",  # 7
        f"{ID2},B6,2026-01-01,1,,extra",  # 8: one cell more than the header
        f"{ID2},B7,2026-01-01,12.345,",  # 9
        f"{ID2},B8,2026-13-01,1,",  # 10
        f"{ID2},B9,2026-01-01,,",  # 11: balance is required
        f"{ID2},DUP,2026-01-01,1,",  # 12: replaced by line 14
        GOOD[2],  # 13
        f"{ID3},DUP,2026-01-01,2,",  # 14
        "=cmd|' /C calc'!A0,B10,2026-01-01,1,",  # 15
    ]
    job = run(deposit_file(*rows))
    assert job.status == ImportJob.Status.DONE
    assert counts(job) == (14, 3, 0, 0, 11)
    idp = _("id_number: %(problem)s")
    expected = {
        3: idp % {"problem": ERROR_MESSAGES["checksum"]},
        4: idp % {"problem": ERROR_MESSAGES["date"]},
        5: idp % {"problem": ERROR_MESSAGES["future"]},
        6: idp % {"problem": ERROR_MESSAGES["length"]},
        7: idp % {"problem": ERROR_MESSAGES["province"]},
        8: _("unknown column at position %(position)d (the header has %(count)d columns)")
        % {"position": 6, "count": 5},
        9: _("%(column)s is not a number with at most 2 decimal places") % {"column": "balance"},
        10: _("effective_date is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)"),
        11: _("%(column)s (%(label)s) is required") % {"column": "balance", "label": "余额"},
        12: _("record_id appears again at line %(line)d, which replaces this row") % {"line": 14},
        15: idp % {"problem": ERROR_MESSAGES["characters"]},
    }
    assert dict(report(job)) == expected
    for secret in (wrong_check, bad_month, future, province, "12.345", "2026-13-01", "cmd"):
        assert secret not in job.error_report
    assert set(PoolRecord.objects.values_list("source_record_id", flat=True)) == {"D1", "D3", "DUP"}
    assert PoolRecord.objects.get(source_record_id="DUP").person_hash == id_number_index(ID3)


def _check(body: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def test_an_unknown_header_column_fails_the_job_naming_the_column(db: Any) -> None:
    job = run(b"id_number,record_id,effective_date,balance,colour\n" + GOOD[0].encode() + b"\n")
    assert job.status == ImportJob.Status.FAILED
    assert "colour" in job.failure
    assert not PoolRecord.objects.exists()


def test_gb18030_bom_and_quoted_multiline_files(db: Any) -> None:
    text = (
        HEADER
        + f"{ID1},G1,2026-01-01,1,中国农业银行三门支行\n"
        + f'{ID2},G2,2026-01-01,2,"多行\n备注"\n{ID3},G3,2026-01-01,x,\n'
    )
    job = run(text.encode("gb18030"))
    assert counts(job) == (3, 2, 0, 0, 1)
    assert report(job) == [
        (5, _("%(column)s is not a number with at most 2 decimal places") % {"column": "balance"})
    ]
    assert PoolRecord.objects.get(source_record_id="G1").data["bank"] == "中国农业银行三门支行"
    assert PoolRecord.objects.get(source_record_id="G2").data["bank"] == "多行\n备注"
    bom = run(b"\xef\xbb\xbf" + deposit_file(GOOD[0]))
    assert counts(bom) == (1, 1, 0, 0, 0)


def test_an_xlsx_file_imports_like_a_csv(db: Any) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        ["record_id", "id_number", "effective_date", "plate_kind", "vehicle_type", "status", "purchase_price"]
    )
    sheet.append(["V1", ID1, dt.datetime(2026, 3, 1), "小型汽车", "小型轿车", "正常", 85000.5])
    sheet.append(["V2", ID2, "2026-03-02", "普通摩托车", "二轮摩托车", "注销", None])
    sheet.append(["V3", "not an id", "2026-03-02", "小型汽车", "小型轿车", "正常", 1])
    buffer = io.BytesIO()
    book.save(buffer)
    job = run(buffer.getvalue(), category="vehicle")
    assert job.status == ImportJob.Status.DONE, job.failure
    assert counts(job) == (3, 2, 0, 0, 1)
    assert [line for line, _reason in report(job)] == [4]
    assert PoolRecord.objects.get(source_record_id="V1").data == {
        "plate_kind": "小型汽车",
        "purchase_price": "85000.50",
        "status": "正常",
        "vehicle_type": "小型轿车",
    }
    assert PoolRecord.objects.get(source_record_id="V1").effective_date == dt.date(2026, 3, 1)


def test_the_pool_holds_no_plaintext_id_number(db: Any) -> None:
    run(deposit_file(*GOOD))
    with connection.cursor() as cursor:
        cursor.execute("SELECT eligibility_poolrecord::text FROM eligibility_poolrecord")
        dump = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT count(*) FROM eligibility_importjob WHERE upload IS NOT NULL")
        assert cursor.fetchone()[0] == 0
    assert dump
    for number in (ID1, ID2, ID3):
        assert number not in dump and number[:14] not in dump


def test_the_task_claims_the_job_once(db: Any) -> None:
    from eligibility.tasks import pool_import_run as task

    job = pool_import_start(actor="test", category="deposit", file_name="f.csv", data=deposit_file(*GOOD))
    task(job.pk)
    task(job.pk)  # a redelivered task: the job is done, nothing happens
    job.refresh_from_db()
    assert counts(job) == (3, 3, 0, 0, 0)
    assert PoolRecord.objects.count() == 3


def test_progress_is_reported_while_streaming(db: Any) -> None:
    rows = [f"{ID1},P{i},2026-01-01,{i}," for i in range(25)]
    seen: list[tuple[int, int]] = []
    job = pool_import_start(actor="test", category="deposit", file_name="f.csv", data=deposit_file(*rows))
    job = pool_import_run(
        job_id=job.pk, progress=lambda b, r: seen.append((b, r)), rows_per_chunk=5, progress_rows=5
    )
    assert job.rows_inserted == 25
    assert [r for _b, r in seen] == [5, 10, 15, 20, 25, 25]
    assert seen[-1][0] == job.total_bytes


def test_records_for_persons_reads_every_requested_person(db: Any) -> None:
    run(deposit_file(*GOOD, f"{ID1},D9,2027-01-01,1,"))
    h1, h2 = id_number_index(ID1), id_number_index(ID2)
    out = records_for_persons([h1, h2, "0" * 64])
    assert [r.source_record_id for r in out[h1]] == ["D1", "D9"]
    assert [r.source_record_id for r in out[h2]] == ["D2"] and out["0" * 64] == []
    assert [r.source_record_id for r in records_for_persons([h1], as_of=dt.date(2026, 6, 1))[h1]] == ["D1"]
    assert records_for_persons([h1], categories=["vehicle"])[h1] == []


TODAY = dt.date(2026, 11, 30)
FAST = make_fast_check(TODAY)


def _verdict(raw: str) -> str | None:
    try:
        return parse_id_number(raw, today=TODAY).number
    except InvalidIdNumber:
        return None


valid_ids = st.builds(
    lambda region, days, seq: make_id_number(
        region6=region, birth=dt.date(1900, 1, 1) + dt.timedelta(days=days), seq=seq
    ),
    st.sampled_from(["331022", "110105", "810000", "910156", "710000", "999999", "000000"]),
    st.integers(0, 50_000),
    st.integers(0, 999),
)


@settings(max_examples=500, deadline=None)
@given(valid_ids, st.integers(0, 17), st.sampled_from("0123456789Xx１ "), st.booleans())
def test_the_fast_id_check_agrees_with_parse_id_number(number: str, at: int, char: str, mutate: bool) -> None:
    raw = number[:at] + char + number[at + 1 :] if mutate else number
    fast = FAST(raw)
    if fast is not None:
        assert fast == _verdict(raw)
    elif len(raw) == 18 and raw.isascii() and " " not in raw:
        assert _verdict(raw) is None


# --- the two load paths: a first load COPYs into the pool, a re-import merges from a staging table


def test_a_record_id_repeated_in_a_first_load_keeps_its_last_row(db: Any) -> None:
    job = run(
        deposit_file(
            f"{ID1},R,2026-01-01,1,",  # line 2: replaced by line 3
            f"{ID2},R,2026-01-02,2,",  # 3: replaced by line 5
            GOOD[0],  # 4
            f"{ID3},R,2026-01-03,3,建行",  # 5: the last one wins
        )
    )
    assert counts(job) == (4, 2, 0, 0, 2)
    assert [line for line, _reason in report(job)] == [2, 3]
    rec = PoolRecord.objects.get(source_record_id="R")
    assert rec.person_hash == id_number_index(ID3)
    assert (rec.effective_date, rec.data) == (dt.date(2026, 1, 3), {"balance": "3.00", "bank": "建行"})
    assert rec.job_id == job.pk
    # The row's content hash is the last row's: importing that row alone again changes nothing.
    again = run(deposit_file(f"{ID3},R,2026-01-03,3,建行"))
    assert counts(again) == (1, 0, 0, 1, 0)


def test_a_record_id_repeated_in_a_reimport_keeps_its_last_row(db: Any) -> None:
    run(deposit_file(*GOOD))
    job = run(
        deposit_file(f"{ID1},D1,2026-01-01,7,", GOOD[0], f"{ID1},N1,2026-01-01,8,", f"{ID2},N1,2026-01-01,9,")
    )
    # D1 ends as it was (unchanged); N1 is new, from its last row.
    assert counts(job) == (4, 1, 0, 1, 2)
    assert PoolRecord.objects.get(source_record_id="D1").data["balance"] == "1000.50"
    n1 = PoolRecord.objects.get(source_record_id="N1")
    assert (n1.person_hash, n1.data["balance"], n1.job_id) == (id_number_index(ID2), "9.00", job.pk)


def test_a_reimport_with_a_changed_person_or_date_updates_the_row(db: Any) -> None:
    run(deposit_file(*GOOD))
    job = run(deposit_file(f"{ID3},D1,2026-01-01,1000.5,农行", f"{ID2},D2,2026-03-02,20000,"))
    assert counts(job) == (2, 0, 2, 0, 0)
    assert PoolRecord.objects.get(source_record_id="D1").person_hash == id_number_index(ID3)
    assert PoolRecord.objects.get(source_record_id="D2").effective_date == dt.date(2026, 3, 2)


def test_another_category_s_records_do_not_make_a_load_a_reimport(db: Any) -> None:
    run(deposit_file(*GOOD))
    vehicle_like = PoolRecord.objects.get(source_record_id="D1")
    PoolRecord.objects.filter(pk=vehicle_like.pk).update(category="elsewhere")
    job = run(deposit_file(*GOOD))
    # D2 and D3 exist in "deposit": a re-import; D1 of the other category is not a match.
    assert counts(job) == (3, 1, 0, 2, 0)
    assert PoolRecord.objects.filter(source_record_id="D1").count() == 2


def test_a_failure_during_a_first_load_changes_no_record(db: Any) -> None:
    rows = [f"{ID1},F{i},2026-01-01,{i}," for i in range(20)]
    job = pool_import_start(actor="test", category="deposit", file_name="f.csv", data=deposit_file(*rows))

    def broken(_bytes: int, read: int) -> None:
        if read >= 10:
            raise RuntimeError("the worker died")

    job = pool_import_run(job_id=job.pk, progress=broken, rows_per_chunk=5, progress_rows=5)
    assert job.status == ImportJob.Status.FAILED
    assert PoolRecord.objects.count() == 0


def test_the_person_lookup_is_served_by_the_person_index(db: Any) -> None:
    run(deposit_file(*GOOD))
    hashes = [id_number_index(n) for n in (ID1, ID2, ID3)] + ["f" * 64]
    qs = PoolRecord.objects.filter(person_hash__in=hashes, effective_date__lte=dt.date(2026, 12, 31))
    with connection.cursor() as cursor:
        # A three-row table is read sequentially; the question is whether the index serves the
        # lookup once the table is large (then the planner prefers it).
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "pool_person_hash_idx" in plan


def test_decimal_and_text_cells_convert_the_same_on_the_fast_path_and_the_pattern() -> None:
    from eligibility.pool.categories import CATEGORIES
    from eligibility.pool.importer import _BadCell, _converter

    specs = {s.name: s for s in CATEGORIES["deposit"].fields}
    balance, bank = _converter(specs["balance"]), _converter(specs["bank"])
    cases = {
        "1234.5": '"1234.50"', "20000": '"20000.00"', "1.": '"1.00"', "0.01": '"0.01"',
        "007.10": '"7.10"', " 12.3 ": '"12.30"', "-0.00": '"0.00"', "-5": '"-5.00"', "+5.1": '"5.10"',
        "1,000.5": '"1000.50"',
    }  # fmt: skip
    for raw, expected in cases.items():
        assert balance(raw) == expected, raw
    for raw in ("1.234", "１2", "²", ".5", "1.5.5", "1.x", "abc", ""):
        try:
            balance(raw)
        except _BadCell:
            continue
        raise AssertionError(raw)
    # A cached text value is the same fragment as a fresh one.
    assert [bank(" 农行 "), bank(" 农行 "), bank('a"b'), bank('a"b'), bank("")] == [
        '"农行"',
        '"农行"',
        '"a\\"b"',
        '"a\\"b"',
        "null",
    ]
