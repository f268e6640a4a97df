"""The public fund ledger as CSV and Excel: the same columns as the page, formula-escaped.

security.md: exports escape formula-leading cells; the ledger's free text (purpose, correction
note, a donor's name) is typed by organisations, so every text cell goes through escape_formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook

from eligibility.pool.importer import escape_formula

from .models import FundEntry

HEADER = [
    "编号",
    "日期",
    "组织",
    "项目",
    "类型",
    "金额（元）",
    "捐赠人",
    "用途/说明",
    "承诺到账日期",
    "状态",
    "更正说明",
    "更正的记录",
]


def _status(entry: FundEntry) -> str:
    if getattr(entry, "is_corrected", False):
        return "已被更正"
    if entry.corrects_id is not None:
        return "更正记录"
    return "有效"


def row_of(entry: FundEntry) -> list[Any]:
    """One ledger line as the public sees it (donor named only with consent)."""
    donor = entry.public_donor if entry.kind in (FundEntry.Kind.PLEDGE, FundEntry.Kind.RECEIPT) else ""
    return [
        entry.public_id,
        entry.occurred_on.isoformat(),
        entry.organisation.name,
        entry.project.title if entry.project is not None else "",
        entry.get_kind_display(),
        entry.amount,
        donor,
        entry.purpose,
        entry.due_on.isoformat() if entry.due_on else "",
        _status(entry),
        entry.correction_note,
        entry.corrects.public_id if entry.corrects is not None else "",
    ]


def _escaped(row: list[Any]) -> list[Any]:
    return [escape_formula(c) if isinstance(c, str) else c for c in row]


def ledger_csv(entries: Iterable[FundEntry]) -> bytes:
    """UTF-8 with a BOM, which Excel on Chinese Windows needs to read the file as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for entry in entries:
        writer.writerow(_escaped(row_of(entry)))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def ledger_xlsx(entries: Iterable[FundEntry]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("资金台账")
    sheet.append(HEADER)
    for entry in entries:
        sheet.append(_escaped(row_of(entry)))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
