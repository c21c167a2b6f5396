"""Writing rows to CSV or XLSX as they stream in: memory stays bounded whatever the number of rows.

CSV is UTF-8 with a byte-order mark (so Excel opens Chinese text right). XLSX is written by openpyxl's
write-only workbook, which streams each row to disk; past a sheet's 1,048,576 rows it goes on in a new sheet
with the headers again. Every cell goes through ``cell_safe``: text that a spreadsheet would run as a
formula is written as text."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from oms.core.domain.cells import cell_safe, row_safe

SHEET_ROWS = 1_048_576
FORMATS = ("csv", "xlsx")


def write_csv(path: Path, headers: list[str], rows: Iterable[list[Any]]) -> int:
    n = 0
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(row_safe(headers))
        for row in rows:
            writer.writerow(row_safe(row))
            n += 1
    return n


def write_xlsx(path: Path, headers: list[str], rows: Iterable[list[Any]], *, title: str = "Sheet") -> int:
    workbook = Workbook(write_only=True)
    sheet, in_sheet, sheets, n = None, SHEET_ROWS, 0, 0
    safe_headers = row_safe(headers)
    for row in rows:
        if in_sheet >= SHEET_ROWS:
            sheets += 1
            sheet = workbook.create_sheet(title=title[:28] if sheets == 1 else f"{title[:24]} ({sheets})")
            sheet.append(safe_headers)
            in_sheet = 1
        assert sheet is not None
        sheet.append([cell_safe(v) for v in row])
        in_sheet += 1
        n += 1
    if sheet is None:
        workbook.create_sheet(title=title[:28]).append(safe_headers)
    workbook.save(str(path))
    return n


def write_rows(fmt: str, path: Path, headers: list[str], rows: Iterable[list[Any]], *, title: str) -> int:
    if fmt == "xlsx":
        return write_xlsx(path, headers, rows, title=title)
    return write_csv(path, headers, rows)
