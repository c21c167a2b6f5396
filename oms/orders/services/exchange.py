"""Exchange orders (换货订单, O1): the outbound order of an after-sales exchange, linked to its original.

Orders own the write. The exchange order sells the replacement units at what the exchange priced them (each line
its list price less the discount it kept); it carries the original's platform order ids (not its intake key),
reserves stock and goes through review, allocation and dispatch like any order. The money the return freed on
the original pays for it (``payment_carry``); when the replacements cost more, it waits for the buyer to pay the
rest (pending payment, placed now so the unpaid timeout counts from the exchange).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record
from oms.catalog.models import Sku
from oms.orders import actions
from oms.orders.domain.split import LineAmounts
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderType
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


@dataclass(frozen=True)
class ExchangeLine:
    sku: Sku
    quantity: int
    unit_price_minor: int
    paid_minor: int  # what the exchange priced the units at (list price less the discount they keep)


def _line(x: ExchangeLine) -> NewLine:
    gross = x.unit_price_minor * x.quantity
    return NewLine(
        amounts=LineAmounts(
            quantity=x.quantity,
            unit_price_minor=x.unit_price_minor,
            gross_minor=gross,
            line_discount_minor=gross - x.paid_minor,
            order_discount_minor=0,
            shipping_minor=0,
            paid_minor=x.paid_minor,
        ),
        sku_id=x.sku.pk,
        sku=x.sku,
        platform_sku_code=x.sku.code,
        platform_line_id="",
        name=x.sku.name,
        promotions=[],
        is_gift=False,
        is_presale=False,
        tax_rate_bp=x.sku.tax_rate_bp,
    )


@transaction.atomic(savepoint=False)
def order_exchange_create(
    *, original: Order, lines: Sequence[ExchangeLine], owed_minor: int, source: str, actor: Any
) -> Order:
    """The exchange order for ``lines``, stock reserved (short lines flagged): pending payment while the buyer
    owes ``owed_minor``, else pending review once the original's money is carried to it. The caller holds the
    original's lock."""
    now = timezone.now()
    rows_in = [_line(x) for x in lines if x.quantity > 0]
    order = replacement_order_build(
        header_from=original,
        overrides={
            "order_type": OrderType.EXCHANGE.value,
            "is_cod": False,
            "is_presale": False,
            "placed_at": now,
            "paid_at": None,
        },
        lines=rows_in,
        platform_order_ids=list(original.platform_order_ids),
        reviewed=False,
        at=now,
    )
    order.number = order_number_new(order_type=OrderType.EXCHANGE.value, at=now)
    if owed_minor > 0:
        order.status = Status.PENDING_PAYMENT.value
    order_payment_status_set(order)
    orders_insert([order])
    rows = order_lines_build(order=order, lines=rows_in)
    order_lines_insert(rows)
    order_platform_refs_insert([order])
    data = {"exchange_of": original.number, "source": source, "owed_minor": owed_minor}
    order_event_record(order=order, kind="created", actor=actor, to_status=order.status, data=data)
    order_event_record(order=original, kind="exchanged", actor=actor, data={"order": order.number, "source": source})
    audit_record(actor=actor, action=actions.ORDER_EXCHANGE, obj=order, after=data)
    shortages = order_lines_reserve(lines=rows, channel_ids={order.pk: order.channel_id}, refuse_when_short=False)
    if shortages:
        order_lines_mark_short(lines=rows, short_by_line={s.line_id: s.short for s in shortages})
    return order
