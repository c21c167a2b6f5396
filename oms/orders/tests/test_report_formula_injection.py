"""Formula injection (issue 17, item 9): text from an import file that a spreadsheet would run as a formula
is written to the error report (CSV and XLSX) as text, with a leading apostrophe."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from oms.core.domain.cells import FORMULA_STARTS, cell_safe, row_safe
from oms.orders.tests.test_file_import import ROWS, csv_bytes

ATTACKS = ["=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "+1+1", "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def _attack_rows() -> list[list[str]]:
    return [[ROWS[4][0], attack, *ROWS[4][2:]] for attack in ATTACKS]


def _cells(rows: list[list[Any]]) -> list[Any]:
    return [cell for row in rows[1:] for cell in row]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_error_report_writes_no_formula(tmall: Any, skus: Any, tmp_path: Path, suffix: str) -> None:
    source = tmp_path / "evil.csv"
    source.write_bytes(csv_bytes(_attack_rows()))
    report = tmp_path / f"report{suffix}"
    call_command("import_orders", str(source), "--no-progress", "--report", str(report))

    if suffix == ".csv":
        rows: list[list[Any]] = list(csv.reader(report.read_text(encoding="utf-8-sig").splitlines()))
    else:
        sheet = load_workbook(report, read_only=True).worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    cells = [c for c in _cells(rows) if isinstance(c, str)]
    written_ids = {row[1] for row in rows[1:]}
    # The reader strips the surrounding whitespace of a cell, so the tab and CR attacks arrive as "=1+1".
    assert written_ids == {"'" + a.strip() for a in ATTACKS}
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]


def test_cell_safe_keeps_numbers_and_plain_text() -> None:
    assert row_safe([3, -5, 1.5, None, "TB1001", "", "a=b"]) == [3, -5, 1.5, None, "TB1001", "", "a=b"]
    assert row_safe(["=1", "+1", "-1", "@A1", "\t1", "\r1"]) == ["'=1", "'+1", "'-1", "'@A1", "'\t1", "'\r1"]


@given(st.text())
def test_no_text_cell_starts_a_formula_and_the_text_is_kept(text: str) -> None:
    safe = cell_safe(text)
    assert not safe.startswith(FORMULA_STARTS)
    assert safe == text or safe == "'" + text
