"""A refund only (仅退款) before the goods leave: the refunded units must not ship.

Refunding every unit the buyer has cancels the order with the case (orders' cancel: its stock reservations
released exactly, an unshipped dispatch document withdrawn, its stockouts cancelled). Refunding part of an order
that has not gone to the warehouse yet holds it (an interception, 售后退款) until a person splits off or cancels
the refunded units: nothing ships meanwhile. Once the warehouse has it, review can no longer hold it.
"""

from __future__ import annotations

from collections.abc import Sequence

from oms.aftersales.models import Case
from oms.core.actors import Actor
from oms.orders.domain.status import TRANSITIONS, Status
from oms.orders.models import Order
from oms.orders.services.cancel import order_cancel_locked
from oms.review.services import order_intercept

# The interception reason code of a part of an unshipped order refunded by a case.
REFUNDED_UNITS_HOLD = "aftersales_refund"
UNSHIPPED = (
    Status.NEW,
    Status.PENDING_PAYMENT,
    Status.PENDING_REVIEW,
    Status.PENDING_SPLIT,
    Status.PENDING_DISPATCH,
    Status.PENDING_SHIPMENT,
)


def refund_before_shipment(*, order: Order, case: Case, kept: Sequence[int], actor: Actor) -> str:
    """What the refund of a locked, not yet shipped order does to it: ``cancelled``, ``held`` or ``""`` (shipped
    already, or nothing refunded). ``kept``: the units per line the buyer keeps after the case."""
    status = Status(order.status)
    if status not in UNSHIPPED:
        return ""
    reason = f"售后仅退款 {case.number}"
    if not any(kept) and Status.CANCELLED in TRANSITIONS[status]:
        order_cancel_locked(order=order, actor=actor, reason=reason)
        return "cancelled"
    held = order_intercept(order=order, reason_code=REFUNDED_UNITS_HOLD, reason=reason, actor=actor)
    return "held" if held is not None else ""
