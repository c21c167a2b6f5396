"""Parcels (包裹) of a partial shipment: which order lines, and how many units, a WMS "shipped" callback
puts in one parcel. Pure: the WMS service hands in what each line still has to ship.

A callback names lines either by ``line`` (the line number of the dispatch document) or by ``sku`` (its code;
several lines with the same SKU are filled in line order). Without ``lines`` the parcel carries everything
still outstanding. Asking for more than is outstanding is refused as a whole (nothing is shipped).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from oms.core.errors import Conflict, FieldError, ValidationFailed


@dataclass(frozen=True)
class Outstanding:
    line_id: int
    line_no: int
    sku: str
    ordered: int
    shipped: int

    @property
    def left(self) -> int:
        return self.ordered - self.shipped


def parcel_plan(lines: Sequence[Outstanding], reported: Any) -> dict[int, int]:
    """Line id → units in this parcel (only lines with units). ``reported`` is the callback's ``lines``
    (None: everything outstanding). ValidationFailed for malformed items, Conflict ``over_shipment`` when
    any line or SKU would ship more than it has left."""
    if reported is None:
        return {ln.line_id: ln.left for ln in lines if ln.left > 0}
    if not isinstance(reported, list) or not reported:
        raise ValidationFailed(
            "lines is a non-empty list of {line or sku, quantity}.",
            details=[FieldError("lines", "A non-empty list of {line or sku, quantity}.", "invalid")],
            code="invalid_lines",
        )
    by_no = {ln.line_no: ln for ln in lines}
    by_line: dict[int, int] = defaultdict(int)
    by_sku: dict[str, int] = defaultdict(int)
    errors: list[FieldError] = []
    for i, item in enumerate(reported):
        qty = item.get("quantity") if isinstance(item, dict) else None
        if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
            errors.append(FieldError(f"lines[{i}].quantity", "A whole number of units above 0.", "invalid"))
            continue
        assert isinstance(item, dict)
        if item.get("line") is not None:
            no = item["line"]
            if not isinstance(no, int) or isinstance(no, bool):
                errors.append(FieldError(f"lines[{i}].line", "The line number of the dispatch document.", "invalid"))
            elif no not in by_no:
                errors.append(FieldError(f"lines[{i}].line", f"The order has no line {no}.", "unknown"))
            else:
                by_line[no] += qty
        elif item.get("sku"):
            by_sku[str(item["sku"])] += qty
        else:
            errors.append(FieldError(f"lines[{i}]", "Name the line (line number) or the SKU (sku).", "required"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors, code="invalid_lines")
    plan: dict[int, int] = {}
    over: dict[str, dict[str, int]] = {}
    for no, qty in sorted(by_line.items()):
        ln = by_no[no]
        if qty > ln.left:
            over[f"line {no}"] = {"requested": qty, "outstanding": ln.left}
        else:
            plan[ln.line_id] = qty
    for sku, qty in sorted(by_sku.items()):
        candidates = [ln for ln in lines if ln.sku == sku]
        free = sum(ln.left - plan.get(ln.line_id, 0) for ln in candidates)
        if qty > free:
            over[sku] = {"requested": qty, "outstanding": free}
            continue
        for ln in candidates:
            take = min(qty, ln.left - plan.get(ln.line_id, 0))
            if take > 0:
                plan[ln.line_id] = plan.get(ln.line_id, 0) + take
                qty -= take
    if over:
        raise Conflict(
            "Shipped more than is left to ship: "
            + ", ".join(f"{k} shipped {v['requested']}, outstanding {v['outstanding']}" for k, v in over.items()),
            code="over_shipment",
            extra={"over": over},
        )
    return {k: v for k, v in plan.items() if v > 0}
