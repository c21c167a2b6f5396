"""The rest of a partially shipped order (部分发货): an operator cancels the units the warehouse has not
shipped. Only their reservations are released (the parcels that left keep theirs consumed), open stockouts
are cancelled, the WMS is told to stop (``wms.cancel.<warehouse>`` naming the lines and units withdrawn) and
the order is shipped (已发货) with what left, so the carrier's outcome (signed / rejected) can follow — or
closes at once when every parcel that left was already signed for or rejected.

Money is not moved here: what the cancelled units were paid (each line divided like a split by quantity) is
flagged as owed back on the order's payments (``refund_due``, `payments_owe_back`), so the refund finance
records later settles it, and a ``refund_due`` event on the timeline names the amount, lines and payments.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from oms.audit.services import audit_record
from oms.core.actors import Actor
from oms.core.errors import Conflict, FieldError, ValidationFailed
from oms.fulfillment import actions
from oms.fulfillment.domain.parcels import Outstanding
from oms.fulfillment.models import Shipment, ShipmentState
from oms.fulfillment.services.common import REF_TYPE, lock_orders
from oms.fulfillment.services.delivery import close_if_every_parcel_settled
from oms.fulfillment.services.shipping import outstanding_lines
from oms.fulfillment.services.stockouts import stockouts_cancel
from oms.inventory.services.reservations import reservations_release
from oms.orders.domain.split import LineAmounts, split_line_amounts
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderLine
from oms.orders.services.payments import payments_owe_back
from oms.orders.services.timeline import order_event_record, orders_transition
from oms.outbox.services import outbox_publish


@transaction.atomic(durable=True)
def order_remainder_cancel(*, order: Order, actor: Actor, reason: str) -> dict[str, Any]:
    """Cancel what a partially shipped order has left to ship; returns the lines and units withdrawn.

    422 without a reason; 409 unless the order is partially shipped (nothing changes)."""
    reason = (reason or "").strip()[:300]
    if not reason:
        raise ValidationFailed(
            "Give a reason for cancelling the rest.", details=[FieldError("reason", "Required.", "required")]
        )
    locked = lock_orders([order.pk])[order.pk]
    if locked.status != Status.PARTIALLY_SHIPPED:
        raise Conflict(
            f"Order {locked.number} is {locked.status}: only a partially shipped order has a rest to cancel.",
            code="not_partially_shipped",
        )
    shipment = (
        Shipment.objects.select_for_update().select_related("warehouse").get(order=locked, state=ShipmentState.PARTIAL)
    )
    _lines, outstanding = outstanding_lines(locked)
    withdrawn: list[dict[str, Any]] = [
        {"line": o.line_no, "sku": o.sku, "quantity": o.left} for o in outstanding if o.left > 0
    ]
    released = reservations_release(
        ref_type=REF_TYPE,
        ref_ids=[o.line_id for o in outstanding],
        reason=f"order {locked.number}: rest cancelled after partial shipment: {reason}",
    )
    stockouts = stockouts_cancel(order_ids=[locked.pk], reason=reason, actor=actor)
    shipment.state = ShipmentState.SHIPPED
    shipment.save(update_fields=["state"])
    outbox_publish(
        topic=f"wms.cancel.{shipment.warehouse.code}",
        aggregate=shipment,
        payload={"shipment": shipment.number, "order": locked.number, "reason": reason, "lines": withdrawn},
    )
    units = sum(w["quantity"] for w in withdrawn)
    orders_transition(
        orders=[locked],
        to_status=Status.SHIPPED.value,
        actor=actor,
        reason=f"rest cancelled ({units} unit(s)): {reason}",
        data={locked.pk: {"cancelled_lines": withdrawn}},
    )
    flagged = payments_owe_back(order=locked, amount_minor=_cancelled_paid(outstanding))
    if flagged:
        order_event_record(
            order=locked,
            kind="refund_due",
            actor=actor,
            reason=reason,
            data={
                "amount_minor": sum(share for _p, share in flagged),
                "lines": withdrawn,
                "payments": [{"payment": f"{p.method}:{p.transaction_id}", "amount_minor": s} for p, s in flagged],
            },
        )
    outbox_publish(
        topic="order.remainder_cancelled",
        aggregate=locked,
        payload={"order": locked.number, "shipment": shipment.number, "lines": withdrawn, "reason": reason},
    )
    audit_record(
        actor=actor,
        action=actions.ORDER_CANCEL_REMAINDER,
        obj=locked,
        before={"status": Status.PARTIALLY_SHIPPED.value},
        after={"status": Status.SHIPPED.value, "cancelled_lines": withdrawn},
        reason=reason,
    )
    closed = close_if_every_parcel_settled(order=locked, shipment=shipment, actor=actor)
    return {
        "lines": withdrawn,
        "units": units,
        "reservations_released": released,
        "stockouts_cancelled": stockouts,
        "signed": closed == Status.SIGNED,
        "closed": closed,
    }


def _cancelled_paid(outstanding: list[Outstanding]) -> int:
    """What the cancelled units were paid: each line divided into shipped and cancelled units by the same
    `split_line_amounts` a split by quantity uses (apportioned to the cent, the residue by the one rule), so
    the two parts add up to the line exactly."""
    fields = ("quantity", "unit_price_minor", "gross_minor", "line_discount_minor", "order_discount_minor")
    rows = {
        pk: LineAmounts(*rest)
        for pk, *rest in OrderLine.objects.filter(pk__in=[o.line_id for o in outstanding if o.left > 0]).values_list(
            "pk", *fields, "shipping_minor", "paid_minor"
        )
    }
    due = 0
    for o in outstanding:
        if o.left <= 0 or o.line_id not in rows:
            continue
        line = rows[o.line_id]
        parts = [line.quantity - o.left, o.left] if line.quantity > o.left else [o.left]
        due += split_line_amounts(line, parts)[-1].paid_minor
    return due
