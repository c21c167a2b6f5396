"""The order status machine (O3): the one transition table, and what the buyer is shown.

Pure: the services ask `transition_check` before every status change and the console/API render
`STATUS_LABELS`. Internal statuses (review, split, dispatch) fold into the buyer's "待发货".
"""

from __future__ import annotations

from enum import StrEnum

from oms.core.errors import Conflict


class Status(StrEnum):
    NEW = "new"
    PENDING_PAYMENT = "pending_payment"
    PENDING_REVIEW = "pending_review"
    PENDING_SPLIT = "pending_split"
    PENDING_DISPATCH = "pending_dispatch"
    PENDING_SHIPMENT = "pending_shipment"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    SIGNED = "signed"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    INVALID = "invalid"


# The Chinese labels operators know; English follows for the English console.
STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.NEW: ("新建", "New"),
    Status.PENDING_PAYMENT: ("待支付", "Pending payment"),
    Status.PENDING_REVIEW: ("待审核", "Pending review"),
    Status.PENDING_SPLIT: ("待拆单", "Pending split"),
    Status.PENDING_DISPATCH: ("待下发", "Pending dispatch"),
    Status.PENDING_SHIPMENT: ("待发货", "Pending shipment"),
    Status.PARTIALLY_SHIPPED: ("部分发货", "Partially shipped"),
    Status.SHIPPED: ("已发货", "Shipped"),
    Status.SIGNED: ("已签收", "Signed"),
    Status.CLOSED: ("已关闭", "Closed"),
    Status.CANCELLED: ("已取消", "Cancelled"),
    Status.REJECTED: ("已拒收", "Rejected"),
    Status.INVALID: ("无效订单", "Invalid"),
}

_CANCELLABLE = (Status.CANCELLED, Status.INVALID)
# A split or merge retires its original orders by closing them (原单关闭): kept, read-only, their lineage
# saying what replaced them. Only paid orders not yet with the warehouse can be split or merged.
_RETIRABLE = (Status.CLOSED,)

# from -> allowed next statuses. Cancelling is possible until the parcel leaves the warehouse;
# afterwards only the carrier's outcome (signed / rejected) and closing remain. A warehouse that ships some
# parcels of an order leaves it partially shipped (部分发货) until every unit has left or the rest is cancelled
# (both end in shipped): the order itself can no longer be cancelled or sent back to review.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.NEW: (Status.PENDING_PAYMENT, Status.PENDING_REVIEW, *_CANCELLABLE),
    Status.PENDING_PAYMENT: (Status.PENDING_REVIEW, *_CANCELLABLE),
    Status.PENDING_REVIEW: (Status.PENDING_SPLIT, Status.PENDING_DISPATCH, *_CANCELLABLE, *_RETIRABLE),
    Status.PENDING_SPLIT: (Status.PENDING_REVIEW, Status.PENDING_DISPATCH, *_CANCELLABLE, *_RETIRABLE),
    Status.PENDING_DISPATCH: (Status.PENDING_REVIEW, Status.PENDING_SHIPMENT, *_CANCELLABLE, *_RETIRABLE),
    Status.PENDING_SHIPMENT: (Status.PENDING_REVIEW, Status.PARTIALLY_SHIPPED, Status.SHIPPED, Status.CANCELLED),
    Status.PARTIALLY_SHIPPED: (Status.SHIPPED,),
    Status.SHIPPED: (Status.SIGNED, Status.REJECTED),
    Status.SIGNED: (Status.CLOSED,),
    Status.REJECTED: (Status.CLOSED,),
    Status.CLOSED: (),
    Status.CANCELLED: (),
    Status.INVALID: (),
}

TERMINAL: frozenset[Status] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)

# What the buyer sees for each status: internal steps read as "待发货" (awaiting shipment) so the
# buyer is never shown review or warehouse mechanics. None: the buyer never sees the order at all.
BUYER_STATUS: dict[Status, str | None] = {
    Status.NEW: None,
    Status.PENDING_PAYMENT: "待付款",
    Status.PENDING_REVIEW: "待发货",
    Status.PENDING_SPLIT: "待发货",
    Status.PENDING_DISPATCH: "待发货",
    Status.PENDING_SHIPMENT: "待发货",
    Status.PARTIALLY_SHIPPED: "部分发货",
    Status.SHIPPED: "已发货",
    Status.SIGNED: "已签收",
    Status.CLOSED: "交易完成",
    Status.CANCELLED: "已取消",
    Status.REJECTED: "已拒收",
    Status.INVALID: None,
}

BUYER_VISIBLE: frozenset[Status] = frozenset(s for s, shown in BUYER_STATUS.items() if shown is not None)


def status_label(status: str) -> str:
    return STATUS_LABELS[Status(status)][0]


def allowed_next(status: str) -> tuple[Status, ...]:
    return TRANSITIONS[Status(status)]


def transition_check(current: str, target: str) -> None:
    """Refuse an illegal move with a 409 that names where the order is and where it may go."""
    cur, nxt = Status(current), Status(target)
    allowed = TRANSITIONS[cur]
    if nxt not in allowed:
        names = ", ".join(f"{s.value} ({status_label(s)})" for s in allowed) or "none: it is final"
        raise Conflict(
            f"An order in status {cur.value} ({status_label(cur)}) cannot move to {nxt.value} "
            f"({status_label(nxt)}). Allowed next: {names}.",
            code="illegal_transition",
            extra={"current_status": cur.value, "requested_status": nxt.value, "allowed": [s.value for s in allowed]},
        )
