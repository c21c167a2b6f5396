"""A file of tracking numbers (批量导入运单号): CSV or XLSX with one row per parcel — order number, courier,
tracking number — for merchants who ship without a WMS.

Rows of one order are applied together by `order_ship_by_hand` in one transaction: all of the order's parcels,
or none. A row without SKU and quantity ships everything the order has left; rows that name ``sku`` and
``quantity`` put those units in their tracking number's parcel (so one order can leave in several parcels).
A bad row never blocks the other orders: it is reported with its file row, its column and the problem's code
and parameters (the console renders them in the operator's language), and the other rows of its order are
reported as held back. Uploading the same file again ships nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from oms.core.actors import Actor
from oms.core.errors import ApplicationError
from oms.fulfillment.services.by_hand import ParcelIn, order_ship_by_hand
from oms.orders.models import Order
from oms.orders.services.file_import import read_table

# column -> accepted headers (English first, then what Chinese back-ends call it)
TRACKING_COLUMNS: dict[str, tuple[str, ...]] = {
    "order": ("order", "order_number", "订单号", "系统订单号", "订单编号"),
    "courier": ("courier", "快递公司", "物流公司", "快递"),
    "tracking_number": ("tracking_number", "运单号", "快递单号", "物流单号"),
    "sku": ("sku", "sku_code", "商家编码"),
    "quantity": ("quantity", "数量"),
    "weight_g": ("weight_g", "重量(g)", "重量"),
}
ALIASES = {alias: key for key, names in TRACKING_COLUMNS.items() for alias in names}
MAX_ROWS = 20_000
# The problems of a row itself (a service's refusal carries the service's code and message instead).
ROW_CODES = frozenset(
    {
        "required",
        "invalid_quantity",
        "sku_and_quantity",
        "invalid_weight",
        "courier_differs",
        "unknown_order",
        "held_back",
    }
)


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrackingImportSummary:
    rows: int = 0
    orders_shipped: int = 0
    parcels: int = 0
    repeated: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def orders_refused(self) -> int:
        return len({p.params.get("order", "") for p in self.problems})


@dataclass
class _OrderRows:
    number: str
    rows: list[int] = field(default_factory=list)
    cells: list[dict[str, str]] = field(default_factory=list)


def _whole(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def _row_problems(row: int, cells: dict[str, str]) -> list[RowProblem]:
    order = cells.get("order", "")
    out = [
        RowProblem(row, name, "required", f"{name} is required.", {"order": order})
        for name in ("order", "courier", "tracking_number")
        if not cells.get(name)
    ]
    sku, qty = cells.get("sku", ""), cells.get("quantity", "")
    if qty and (_whole(qty) is None or _whole(qty) == 0):
        out.append(RowProblem(row, "quantity", "invalid_quantity", "A whole number above 0.", {"order": order}))
    elif bool(sku) != bool(qty):
        missing = "quantity" if sku else "sku"
        out.append(RowProblem(row, missing, "sku_and_quantity", "Give SKU and quantity together.", {"order": order}))
    weight = cells.get("weight_g", "")
    if weight and _whole(weight) is None:
        out.append(RowProblem(row, "weight_g", "invalid_weight", "A whole number of grams.", {"order": order}))
    return out


def _group(rows: Iterable[tuple[int, dict[str, str]]], summary: TrackingImportSummary) -> list[_OrderRows]:
    groups: dict[str, _OrderRows] = {}
    for row, cells in rows:
        summary.rows += 1
        if summary.rows > MAX_ROWS:
            raise ValueError(f"At most {MAX_ROWS} rows per file.")
        number = cells.get("order", "")
        group = groups.setdefault(number, _OrderRows(number))
        group.rows.append(row)
        group.cells.append(cells)
    return list(groups.values())


def _parcels(group: _OrderRows) -> tuple[list[ParcelIn], list[int]]:
    """The order's parcels in file order, and the file row that opened each."""
    by_tracking: dict[str, tuple[int, list[dict[str, Any]] | None, int | None]] = {}
    for row, cells in zip(group.rows, group.cells, strict=True):
        tracking = cells["tracking_number"]
        first_row, lines, weight = by_tracking.get(tracking, (row, [], None))
        if lines is not None and cells.get("sku"):
            lines.append({"sku": cells["sku"], "quantity": _whole(cells["quantity"])})
        else:
            lines = None
        if cells.get("weight_g"):
            weight = (weight or 0) + (_whole(cells["weight_g"]) or 0)
        by_tracking[tracking] = (first_row, lines, weight)
    parcels = [ParcelIn(t, lines, weight) for t, (_row, lines, weight) in by_tracking.items()]
    return parcels, [first for first, _l, _w in by_tracking.values()]


_FIELD_OF_CODE = {
    "unknown_courier": "courier",
    "courier_mismatch": "courier",
    "tracking_in_use": "tracking_number",
    "tracking_mismatch": "tracking_number",
    "parcel_mismatch": "tracking_number",
    "over_shipment": "quantity",
    "invalid_lines": "sku",
}


def _refusal(group: _OrderRows, opened: list[int], exc: ApplicationError) -> list[RowProblem]:
    """Where a refusal points: the parcel's row when it names one, else every row of the order."""
    params = {**exc.extra, "order": group.number}
    parcel = exc.extra.get("parcel")
    for detail in exc.details:
        if detail.field.startswith("parcels[") and "]" in detail.field:
            index = int(detail.field[len("parcels[") : detail.field.index("]")])
            parcel = index
            break
    rows = [opened[parcel]] if isinstance(parcel, int) and 0 <= parcel < len(opened) else group.rows
    column = _FIELD_OF_CODE.get(exc.code, "order")
    return [RowProblem(row, column, exc.code, exc.message, params) for row in rows]


def _ship_group(group: _OrderRows, actor: Actor, summary: TrackingImportSummary) -> None:
    problems = [p for row, cells in zip(group.rows, group.cells, strict=True) for p in _row_problems(row, cells)]
    couriers = {c.get("courier", "") for c in group.cells}
    if not problems and len(couriers) > 1:
        first = group.cells[0].get("courier", "")
        problems = [
            RowProblem(row, "courier", "courier_differs", "One courier per order.", {"order": group.number})
            for row, cells in zip(group.rows, group.cells, strict=True)
            if cells.get("courier", "") != first
        ]
    order = Order.objects.filter(number=group.number).first() if group.number and not problems else None
    if not problems and order is None:
        problems = [
            RowProblem(row, "order", "unknown_order", f"No order {group.number}.", {"order": group.number})
            for row in group.rows
        ]
    if problems:
        bad = {p.row for p in problems}
        held = [
            RowProblem(row, "order", "held_back", "Another row of this order has a problem.", {"order": group.number})
            for row in group.rows
            if row not in bad
        ]
        summary.problems.extend([*problems, *held])
        return
    assert order is not None
    parcels, opened = _parcels(group)
    try:
        outcome = order_ship_by_hand(order=order, courier=group.cells[0]["courier"], parcels=parcels, actor=actor)
    except ApplicationError as exc:
        summary.problems.extend(_refusal(group, opened, exc))
        return
    if outcome.applied:
        summary.orders_shipped += 1
    summary.parcels += len(outcome.applied)
    summary.repeated += len(outcome.repeated)


def tracking_import_file(*, stream: IO[bytes], filename: str, actor: Actor) -> TrackingImportSummary:
    """Ship every order of the file that can ship (see the module docstring). ValueError (or its subclass
    `UnreadableFile`) when the file cannot be read at all: then nothing is shipped."""
    summary = TrackingImportSummary()
    groups = _group(read_table(stream, filename, ALIASES), summary)
    for group in groups:
        _ship_group(group, actor, summary)
    summary.problems.sort(key=lambda p: (p.row, p.column))
    return summary
