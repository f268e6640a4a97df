"""A dashboard figure as an Excel file: its title, its header and its rows, formula-escaped.

security.md: exports escape formula-leading cells. Department, township and category names are
typed by staff in the admin, so every text cell goes through the pool importer's escape_formula
(the same helper as the fund ledger's download).
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from eligibility.pool.importer import escape_formula

from .figures import Figure


def _cell(value: Any) -> Any:
    return escape_formula(value) if isinstance(value, str) else value


def figure_xlsx(figure: Figure, *, scope_label: str) -> bytes:
    book = Workbook(write_only=True)
    # A sheet title may not hold []:*?/\ and is at most 31 characters.
    sheet = book.create_sheet("".join(ch for ch in figure.key if ch.isalnum() or ch == "-")[:31] or "figure")
    sheet.append([_cell(figure.title)])
    sheet.append([_cell(scope_label)])
    if figure.note:
        sheet.append([_cell(figure.note)])
    sheet.append([])
    sheet.append([_cell(h) for h in figure.headers])
    for row in figure.rows:
        sheet.append([_cell(c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
