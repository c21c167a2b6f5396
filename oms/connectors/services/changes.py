"""A platform order we already took in has changed: apply each part through the service that owns it.

Steps, each its own transaction and each idempotent, so a pull interrupted half-way converges when the
same version is pulled again: (1) money the platform took since (payment_record), (2) what may still change
on the order (order_platform_revise), (3) the platform closed it (order_cancel while that is allowed),
(4) refunds → refund requests (review), (5) a change we did not take over, or one after review → an
interception (review) so a person looks at it before the order ships.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.db import transaction

from oms.connectors.domain.mapped import MappedOrder, MappedRefund, Phase, RefundState, money_text
from oms.core.domain.money import parse_minor
from oms.orders.domain.status import TRANSITIONS, Status
from oms.orders.models import Order
from oms.orders.services.cancel import order_cancel
from oms.orders.services.payments import payment_record
from oms.orders.services.platform_revise import order_platform_revise
from oms.review.services import order_intercept, refund_request_close, refund_request_receive

# Interception reason code for a platform change that needs a person (an address changed after review …).
CHANGED_ON_PLATFORM = "platform_changed"


def _record_new_money(order: Order, mapped: MappedOrder, actor: Any) -> Order:
    payment = mapped.payload.get("payment")
    if not payment or mapped.phase is Phase.CLOSED:
        return order
    paid = parse_minor(payment["amount"], order.currency)
    if paid <= order.received_minor:
        return order
    base = str(payment["transaction_id"])
    # The first money keeps the platform's transaction id; a later top-up (presale balance) is named by the
    # total it brings the order to, so the same platform state recorded twice is the same payment.
    transaction_id = base if order.received_minor == 0 else f"{base}:{paid}"
    result = payment_record(
        order=order,
        method=str(payment["method"]),
        transaction_id=transaction_id,
        amount_minor=paid - order.received_minor,
        paid_at=None,
        actor=actor,
    )
    return result.order


def _close(order: Order, mapped: MappedOrder, actor: Any) -> Order:
    if mapped.phase is not Phase.CLOSED or Status.CANCELLED not in TRANSITIONS[Status(order.status)]:
        return order
    return order_cancel(
        order=order, actor=actor, reason=f"平台关闭订单 closed on the platform ({mapped.native_status})"
    )


class PlatformRefundHook(Protocol):
    """After-sales opens, settles or closes the case answering a platform refund, called after the refund request
    is recorded or closed (outside any transaction). Registered in `oms.wiring`."""

    def __call__(self, *, order: Order, refund: MappedRefund, actor: Any) -> object: ...


PLATFORM_REFUND_HOOKS: list[PlatformRefundHook] = []


def _refunds(order: Order, mapped: MappedOrder, actor: Any) -> None:
    """Open refunds hold the order (refund requests, review); refunds the platform closed or paid out close
    their request, and the hold goes when none is left open."""
    for refund in mapped.refunds:
        if refund.state is RefundState.OPEN:
            refund_request_receive(
                order=order,
                platform_refund_id=refund.platform_refund_id,
                amount_minor=refund.amount_minor,
                reason=refund.reason,
                actor=actor,
            )
        else:
            refund_request_close(
                order=order,
                platform_refund_id=refund.platform_refund_id,
                actor=actor,
                note=f"平台退款已结束 closed on the platform ({refund.reason})",
            )
        for hook in PLATFORM_REFUND_HOOKS:
            hook(order=order, refund=refund, actor=actor)


def _hold(order: Order, parts: list[str], actor: Any) -> None:
    with transaction.atomic(durable=True):
        order_intercept(
            order=order,
            reason_code=CHANGED_ON_PLATFORM,
            reason=f"平台订单已变更 changed on the platform: {', '.join(parts)}",
            actor=actor,
        )


def intake_payload(channel_code: str, mapped: MappedOrder) -> dict[str, Any]:
    """The mapped payload for the shop's channel. The platform's per-line figure goes to intake (which flags
    the order when it differs) only when there is no shipping: platforms divide goods money only, intake's
    line paid includes the line's shipping share. Either way `PulledOrder` compares the goods money."""
    payload = {**mapped.payload, "channel": channel_code}
    if mapped.line_shares and payload.get("shipping") in ("0.00", "0", None):
        shares = {s.platform_line_id: s.paid_minor for s in mapped.line_shares}
        currency = str(payload.get("currency") or "CNY")
        payload["lines"] = [
            {**ln, "platform_paid": money_text(shares[ln["platform_line_id"]], currency)}
            if ln.get("platform_line_id") in shares
            else ln
            for ln in payload["lines"]
        ]
    return payload


def pulled_order_change(*, order_id: int, mapped: MappedOrder, actor: Any) -> str:
    """Apply a newer platform version to our order; the outcome code for the pull record."""
    order = Order.objects.get(pk=order_id)
    order = _record_new_money(order, mapped, actor)
    revision = order_platform_revise(order=order, payload=intake_payload(order.channel.code, mapped),
                                     actor=actor)  # fmt: skip
    order = _close(revision.order, mapped, actor)
    _refunds(order, mapped, actor)
    needs_look = list(revision.unapplied)
    if order.reviewed_at is not None:
        needs_look += [p for p in revision.applied if p != "payment"]
    if needs_look and order.status != Status.CANCELLED:
        _hold(order, needs_look, actor)
        return "held"
    return "cancelled" if order.status == Status.CANCELLED else "revised"
