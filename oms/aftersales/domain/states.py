"""After-sales cases (售后单): their kinds, statuses, reasons and the one state machine, as data.

Pure. Each kind has its own path through the statuses; an action is allowed only from the statuses its
row lists, and the service asks `action_check` before every change, so the table is the whole machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from oms.core.errors import Conflict

REFUND_ONLY = "refund_only"  # 仅退款
RETURN_REFUND = "return_refund"  # 退货退款
EXCHANGE = "exchange"  # 换货
REISSUE = "reissue"  # 补发
REJECTED = "rejected"  # 拒收 coming back
KINDS = (REFUND_ONLY, RETURN_REFUND, EXCHANGE, REISSUE, REJECTED)
# Kinds whose goods come back to a warehouse.
RETURNING_KINDS = (RETURN_REFUND, EXCHANGE, REJECTED)

REQUESTED = "requested"
APPROVED = "approved"
REFUSED = "refused"
AWAITING_RETURN = "awaiting_return"
RECEIVED = "received"
INSPECTED = "inspected"
REFUNDING = "refunding"
REFUNDED = "refunded"
CLOSED = "closed"
STATUSES = (REQUESTED, APPROVED, REFUSED, AWAITING_RETURN, RECEIVED, INSPECTED, REFUNDING, REFUNDED, CLOSED)
# Ended cases no longer hold units: another case may claim them.
ENDED = (REFUSED, CLOSED)
FINAL = (REFUSED, REFUNDED, CLOSED)

REASONS = ("quality", "no_reason_7_days", "wrong_item", "missing_item", "damaged_in_transit", "rejected", "other")

APPROVE = "approve"
REFUSE = "refuse"
RECEIVE = "receive"
INSPECT = "inspect"
REFUND = "refund"
CLOSE = "close"
SETTLE = "settle"  # internal: the inspected goods are in stock and the refund is fixed
ACTIONS = (APPROVE, REFUSE, RECEIVE, INSPECT, REFUND, CLOSE)

# The permission each action needs ("aftersales.<codename>"): customer service creates and approves,
# the warehouse receives and inspects, finance refunds.
ACTION_PERMISSIONS = {
    APPROVE: "aftersales.approve_case",
    REFUSE: "aftersales.approve_case",
    RECEIVE: "aftersales.receive_return",
    INSPECT: "aftersales.inspect_return",
    REFUND: "aftersales.refund_case",
    CLOSE: "aftersales.approve_case",
}


@dataclass(frozen=True)
class Move:
    from_statuses: tuple[str, ...]
    to_status: str


_COMMON = {
    REFUSE: Move((REQUESTED,), REFUSED),
    CLOSE: Move((REQUESTED, APPROVED, AWAITING_RETURN), CLOSED),
}
_RETURNING = {
    APPROVE: Move((REQUESTED,), AWAITING_RETURN),
    RECEIVE: Move((AWAITING_RETURN,), RECEIVED),  # partial receipts stay awaiting_return
    INSPECT: Move((RECEIVED,), INSPECTED),
    SETTLE: Move((INSPECTED,), REFUNDING),  # the goods are in stock; the refund is fixed and owed back
    REFUND: Move((REFUNDING,), REFUNDED),
}
MACHINE: dict[str, dict[str, Move]] = {
    REFUND_ONLY: {**_COMMON, APPROVE: Move((REQUESTED,), REFUNDING), REFUND: Move((REFUNDING,), REFUNDED)},
    RETURN_REFUND: {**_COMMON, **_RETURNING},
    REJECTED: {**_COMMON, **_RETURNING},
    EXCHANGE: {**_COMMON, **_RETURNING},
    REISSUE: {**_COMMON, APPROVE: Move((REQUESTED,), APPROVED)},
}


def action_check(kind: str, status: str, action: str) -> str:
    """The status ``action`` leads to from ``status`` for a case of ``kind``; a 409 naming both otherwise."""
    move = MACHINE.get(kind, {}).get(action)
    if move is None or status not in move.from_statuses:
        allowed = sorted(a for a, m in MACHINE.get(kind, {}).items() if status in m.from_statuses)
        raise Conflict(
            f"A {kind} case that is {status} cannot be {action}d; allowed now: {', '.join(allowed) or 'nothing'}.",
            code="case_action_not_allowed",
            extra={"status": status, "action": action, "allowed": allowed},
        )
    return move.to_status


def actions_allowed(kind: str, status: str) -> list[str]:
    return [a for a in ACTIONS if status in MACHINE.get(kind, {}).get(a, Move((), "")).from_statuses]
