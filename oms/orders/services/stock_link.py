"""The orders side of stock: reserve order lines on intake, release them on cancel (C3, S2).

The reservation ledger and counters belong to inventory; this module only translates order lines
into its requests. Unmapped lines (no SKU yet) reserve nothing until they are mapped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from oms.inventory.services.reservations import ReserveRequest, channel_reserve, reservations_release
from oms.orders.models import OrderLine

REF_TYPE = "order_line"


@dataclass(frozen=True)
class LineShortage:
    line_id: int
    short: int


def order_lines_reserve(
    *, lines: Sequence[OrderLine], channel_ids: dict[int, int], refuse_when_short: bool
) -> list[LineShortage]:
    """Reserve every mapped line in one call; returns the lines that came up short.

    With ``refuse_when_short`` inventory raises Conflict(code="insufficient_stock") naming the SKUs
    and reserves nothing. Must run inside the intake transaction.
    """
    requests = [
        ReserveRequest(
            ref_type=REF_TYPE,
            ref_id=line.pk,
            channel_id=channel_ids[line.order_id],
            sku_id=line.sku_id,
            quantity=line.quantity,
        )
        for line in lines
        if line.sku_id is not None
    ]
    if not requests:
        return []
    outcomes = channel_reserve(requests=requests, refuse_when_short=refuse_when_short)
    return [LineShortage(o.ref_id, o.short) for o in outcomes if o.short > 0]


def order_lines_release(*, line_ids: Sequence[int], reason: str) -> int:
    if not line_ids:
        return 0
    return int(reservations_release(ref_type=REF_TYPE, ref_ids=list(line_ids), reason=reason))
