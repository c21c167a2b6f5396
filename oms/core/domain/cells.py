"""Cells we write into CSV and XLSX files (import error reports, exports) must not run as formulas.

A spreadsheet treats a cell whose text starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and a leading
tab or carriage return can smuggle one past a filter), so text copied from an order — a remark, a platform
order id, an error message quoting the input — could run ``=cmd|' /C calc'!A0`` or leak data through
``=HYPERLINK(…)`` when an operator opens the file (CSV/formula injection, OWASP). Every such cell is written
with a leading apostrophe, which spreadsheets show as text and do not evaluate. Numbers, dates and other
non-text values are written as they are. `cell_safe` is the one way to do it; `row_safe` maps a row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(value: Any) -> Any:
    """The value to write into a cell: text that a spreadsheet would take as a formula gets a leading
    apostrophe; anything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def row_safe(values: Iterable[Any]) -> list[Any]:
    return [cell_safe(v) for v in values]
