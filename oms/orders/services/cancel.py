"""Cancelling orders: by an operator with a reason, or automatically when payment never came (O3, O4, S2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oms.core.actors import SYSTEM, Actor
from oms.core.db_retry import retry_on_deadlock
from oms.core.domain.money import apportion
from oms.core.errors import ValidationFailed
from oms.orders.domain.status import Status
from oms.orders.lock_objects import order_lock
from oms.orders.models import Order, OrderLine, Payment, PaymentKind
from oms.orders.services.stock_link import order_lines_release
from oms.orders.services.timeline import order_event_record, order_transition


class OrderCancelHook(Protocol):
    """Contexts above orders undo their own state when an order is cancelled (fulfilment: open stockouts,
    an unshipped dispatch document) without orders importing them. Each runs in the cancel transaction,
    with the order locked. Registered in `oms.wiring`."""

    def __call__(self, *, order: Order, actor: Actor, reason: str) -> object: ...


ORDER_CANCEL_HOOKS: list[OrderCancelHook] = []


@transaction.atomic(savepoint=False)
def _cancel_locked(*, order: Order, actor: Actor, reason: str) -> Order:
    order_transition(order=order, to_status=Status.CANCELLED.value, actor=actor, reason=reason)
    line_ids = list(OrderLine.objects.filter(order=order, sku__isnull=False).values_list("pk", flat=True))
    order_lines_release(line_ids=line_ids, reason=f"order {order.number} cancelled: {reason}")
    for hook in ORDER_CANCEL_HOOKS:
        hook(order=order, actor=actor, reason=reason)
    if order.received_minor > order.refunded_minor:
        # Money already taken is owed back; finance refunds it through the payment method.
        flagged = _flag_for_refund(order)
        order_event_record(
            order=order,
            kind="refund_due",
            actor=actor,
            reason=reason,
            data={"amount_minor": order.received_minor - order.refunded_minor, "payments": flagged},
        )
    return order


@transaction.atomic(savepoint=False)
def order_cancel_locked(*, order: Order, actor: Actor, reason: str) -> Order:
    """``order_cancel`` inside the caller's transaction, the order already locked by it (an after-sales refund of
    every unit before shipment cancels the order with the case)."""
    return _cancel_locked(order=order, actor=actor, reason=reason[:500])


@retry_on_deadlock
@transaction.atomic(durable=True)
def order_cancel(*, order: Order, actor: Actor, reason: str) -> Order:
    """Cancel with a reason (required: it is what the buyer and the log see). Releases the order's
    stock reservations and flags payments for refund. 409 when the status forbids cancelling."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Give a reason for cancelling.", details=[], code="validation_error", extra={"field": "reason"}
        )
    locked = order_lock(pk=order.pk)
    return _cancel_locked(order=locked, actor=actor, reason=reason[:500])


def orders_cancel_unpaid(*, now: datetime | None = None, timeout_minutes: int | None = None) -> list[str]:
    """Cancel every order still pending payment past the timeout; returns their numbers.

    Each order is cancelled in its own transaction after re-checking under its row lock, so a payment
    that lands at the same moment wins and that order is left alone.
    """
    now = now or timezone.now()
    minutes = timeout_minutes if timeout_minutes is not None else settings.OMS["UNPAID_TIMEOUT_MINUTES"]
    cutoff = now - timedelta(minutes=minutes)
    candidates = list(
        Order.objects.filter(status=Status.PENDING_PAYMENT.value, placed_at__lt=cutoff)
        .order_by("placed_at", "pk")
        .values_list("pk", flat=True)
    )
    cancelled: list[str] = []
    for pk in candidates:
        with transaction.atomic():
            order = order_lock(pk=pk)
            if order.status != Status.PENDING_PAYMENT.value or order.placed_at >= cutoff:
                continue
            _cancel_locked(order=order, actor=SYSTEM, reason=f"unpaid for more than {minutes} minutes")
            cancelled.append(order.number)
    return cancelled


def _flag_for_refund(order: Order) -> int:
    """Flag the order's payments for refund, dividing what is owed back (received − refunded, less what was
    already flagged) over those not flagged yet by their amounts with `apportion`, each within its amount."""
    rows = list(Payment.objects.filter(order=order, kind=PaymentKind.PAYMENT).order_by("paid_at", "id"))
    open_rows = [p for p in rows if not p.needs_refund]
    owed = order.received_minor - order.refunded_minor - sum(p.refund_due_minor for p in rows if p.needs_refund)
    if not open_rows:
        return 0
    amounts = [p.amount_minor for p in open_rows]
    shares = apportion(min(max(owed, 0), sum(amounts)), amounts, caps=amounts)
    for payment, share in zip(open_rows, shares, strict=True):
        payment.needs_refund = True
        payment.refund_due_minor = share
    Payment.objects.bulk_update(open_rows, ["needs_refund", "refund_due_minor"])
    return len(open_rows)
