"""Dispatch (下发): orders pending dispatch become shipments whose dispatch document goes to the shipping
warehouse's WMS as a signed webhook (outbox topic ``wms.dispatch.<warehouse code>``), in the same
transaction as the shipment row, so a document exists exactly when its shipment does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.actors import Actor
from oms.core.domain.money import format_minor
from oms.core.errors import Conflict
from oms.fulfillment import actions
from oms.fulfillment.models import Courier, Shipment, ShipmentState
from oms.fulfillment.services.common import lock_orders, open_holds, order_lines
from oms.inventory.models import Warehouse
from oms.orders.domain.payments import refunded_in_full
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderEvent, OrderLine
from oms.orders.services.timeline import order_event_build, order_events_save
from oms.outbox.services import outbox_publish


def dispatch_document(
    *, shipment: Shipment, order: Order, lines: Sequence[OrderLine], warehouse_code: str
) -> dict[str, Any]:
    """The document the WMS receives: what to pick, who receives it, which courier, and the numbers to quote
    back in its callbacks (``shipment``)."""
    return {
        "shipment": shipment.number,
        "order": order.number,
        "platform_order_ids": list(order.platform_order_ids or []),
        "channel": order.channel.code,
        "warehouse": warehouse_code,
        "courier": shipment.courier.code,
        "receiver": {
            "name": order.receiver_name,
            "phone": order.receiver_phone,
            "province": order.receiver_province,
            "city": order.receiver_city,
            "district": order.receiver_district,
            "address": order.receiver_address,
            "postcode": order.receiver_postcode,
        },
        "cod_amount": format_minor(order.payable_minor - order.received_minor, order.currency)
        if order.is_cod
        else None,
        "currency": order.currency,
        "buyer_remark": order.buyer_remark,
        "seller_remark": order.seller_remark,
        "lines": [
            {"line": ln.line_no, "sku": ln.sku.code if ln.sku else "", "name": ln.name, "quantity": ln.quantity}
            for ln in lines
        ],
    }


def dispatchable(order: Order) -> bool:
    """Pending dispatch with a warehouse and a courier, and not refunded in full (whatever holds were
    released: the last guard before goods leave)."""
    return (
        order.status == Status.PENDING_DISPATCH
        and order.final_warehouse_id is not None
        and order.courier_id is not None
        and not refunded_in_full(order.payment_status)
    )


@transaction.atomic(savepoint=False)
def dispatch_locked(*, orders: Sequence[Order], actor: Actor) -> list[Shipment]:
    """Send the locked, checked orders (no hold, no live shipment) to their warehouses."""
    if not orders:
        return []
    refunded = [o.number for o in orders if refunded_in_full(o.payment_status)]
    if refunded:
        raise Conflict(f"Orders {refunded} are refunded in full; they cannot be dispatched.", code="order_refunded")
    ids = [o.pk for o in orders]
    lines = order_lines(ids)
    warehouses = {w.pk: w for w in Warehouse.objects.filter(pk__in={o.final_warehouse_id for o in orders})}
    couriers = {c.pk: c for c in Courier.objects.filter(pk__in={o.courier_id for o in orders})}
    sent_before: dict[int, int] = {}
    for order_id in Shipment.objects.filter(order_id__in=ids).values_list("order_id", flat=True):
        sent_before[order_id] = sent_before.get(order_id, 0) + 1
    now = timezone.now()
    shipments: list[Shipment] = []
    for order in orders:
        wh = warehouses[order.final_warehouse_id]  # type: ignore[index]
        shipment = Shipment(
            number=f"{order.number}-{sent_before.get(order.pk, 0) + 1}",
            order=order,
            warehouse=wh,
            subsidiary_id=wh.subsidiary_id,
            courier=couriers[order.courier_id],  # type: ignore[index]
            created_at=now,
        )
        shipments.append(shipment)
    Shipment.objects.bulk_create(shipments)
    events: list[OrderEvent] = []
    for shipment in shipments:
        order = shipment.order
        doc = dispatch_document(
            shipment=shipment, order=order, lines=lines.get(order.pk, []), warehouse_code=shipment.warehouse.code
        )
        shipment.document = doc
        outbox_publish(topic=f"wms.dispatch.{shipment.warehouse.code}", aggregate=shipment, payload=doc)
        events.append(
            order_event_build(
                order=order,
                kind="dispatched",
                actor=actor,
                data={"shipment": shipment.number, "warehouse": doc["warehouse"]},
            )
        )
        audit_record(actor=actor, action=actions.ORDER_DISPATCH, obj=order, after={"shipment": shipment.number})
    Shipment.objects.bulk_update(shipments, ["document"])
    order_events_save(events)
    return shipments


def _live_shipments(order_ids: Sequence[int]) -> set[int]:
    return set(
        Shipment.objects.filter(order_id__in=list(order_ids))
        .exclude(state=ShipmentState.CANCELLED)
        .values_list("order_id", flat=True)
    )


@transaction.atomic(durable=True)
def orders_dispatch(*, orders: Sequence[Order], actor: Actor) -> list[Shipment]:
    """Dispatch every order that is due (pending dispatch, warehouse and courier set, no open hold, not sent
    yet); others are left alone."""
    locked = lock_orders(o.pk for o in orders)
    ids = list(locked)
    blocked = open_holds(ids) | _live_shipments(ids)
    return dispatch_locked(orders=[o for o in locked.values() if dispatchable(o) and o.pk not in blocked], actor=actor)


@transaction.atomic(durable=True)
def order_dispatch(*, order: Order, actor: Actor) -> Shipment:
    locked = lock_orders([order.pk])[order.pk]
    if refunded_in_full(locked.payment_status):
        raise Conflict(f"Order {locked.number} is refunded in full; it cannot be dispatched.", code="order_refunded")
    if not dispatchable(locked):
        raise Conflict(
            f"Order {locked.number} is not ready for dispatch (status {locked.status}).", code="not_dispatchable"
        )
    if open_holds([locked.pk]):
        raise Conflict(f"Order {locked.number} has an open interception.", code="order_held")
    if _live_shipments([locked.pk]):
        raise Conflict(f"Order {locked.number} was already sent to the warehouse.", code="already_dispatched")
    return dispatch_locked(orders=[locked], actor=actor)[0]
