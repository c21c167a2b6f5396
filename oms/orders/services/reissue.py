"""Reissue (补发, O1): a zero-money outbound order for units sent again, linked to its original.

Orders own the write. The reissue carries the original's platform order ids (so searching by the platform id
finds both) but not its intake key, which stays the original's alone; it reserves stock and goes through
review, allocation and dispatch like any order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record
from oms.orders import actions
from oms.orders.domain.split import LineAmounts
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderLine
from oms.orders.services.numbers import order_number_new
from oms.orders.services.rows import (
    NewLine,
    order_lines_build,
    order_lines_insert,
    order_payment_status_set,
    order_platform_refs_insert,
    orders_insert,
    replacement_order_build,
)
from oms.orders.services.stock_link import order_lines_reserve
from oms.orders.services.timeline import order_event_record
from oms.orders.services.updates import order_lines_mark_short


def _free_line(line: OrderLine, units: int) -> NewLine:
    return NewLine(
        amounts=LineAmounts(
            quantity=units,
            unit_price_minor=0,
            gross_minor=0,
            line_discount_minor=0,
            order_discount_minor=0,
            shipping_minor=0,
            paid_minor=0,
        ),
        sku_id=line.sku_id,
        platform_sku_code=line.platform_sku_code,
        platform_line_id=line.platform_line_id,
        name=line.name,
        promotions=[],
        is_gift=line.is_gift,
        is_presale=False,
        tax_rate_bp=line.tax_rate_bp,
    )


@transaction.atomic(savepoint=False)
def order_reissue_create(*, original: Order, units: Sequence[tuple[OrderLine, int]], source: str, actor: Any) -> Order:
    """The reissue of ``units`` of the original's lines, pending review, stock reserved (short lines flagged).
    The caller holds the original's lock."""
    now = timezone.now()
    lines = [_free_line(line, n) for line, n in units if n > 0]
    order = replacement_order_build(
        header_from=original,
        overrides={"order_type": "reissue", "is_cod": False, "is_presale": False, "paid_at": now},
        lines=lines,
        platform_order_ids=list(original.platform_order_ids),
        reviewed=False,
        at=now,
    )
    order.number = order_number_new(order_type="reissue", at=now)
    order_payment_status_set(order)
    orders_insert([order])
    rows = order_lines_build(order=order, lines=lines)
    order_lines_insert(rows)
    order_platform_refs_insert([order])
    order_event_record(
        order=order,
        kind="created",
        actor=actor,
        to_status=Status.PENDING_REVIEW.value,
        data={"reissue_of": original.number, "source": source},
    )
    order_event_record(order=original, kind="reissued", actor=actor, data={"order": order.number, "source": source})
    audit_record(
        actor=actor, action=actions.ORDER_REISSUE, obj=order, after={"reissue_of": original.number, "source": source}
    )
    shortages = order_lines_reserve(lines=rows, channel_ids={order.pk: order.channel_id}, refuse_when_short=False)
    if shortages:
        order_lines_mark_short(lines=rows, short_by_line={s.line_id: s.short for s in shortages})
    return order
