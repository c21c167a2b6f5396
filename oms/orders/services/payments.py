"""Payments (O4): manual records and provider callbacks, idempotent on (method, transaction id, kind).

Callbacks arrive late, twice, or out of order. Every one is taken at most once; the order's payment
status is re-derived from all its records each time; a payment for an order that is already cancelled
or closed is kept and flagged for refund, and never reopens the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.domain.money import format_minor, parse_minor
from oms.core.errors import Conflict, NotFound, ValidationFailed
from oms.orders.domain.fields import MAX_AMOUNT_MINOR, FieldReader
from oms.orders.domain.payments import PaymentStatus, derive_payment_status
from oms.orders.domain.status import TERMINAL, Status
from oms.orders.lock_objects import order_lock
from oms.orders.models import Order, Payment, PaymentKind
from oms.orders.services.timeline import order_event_build, order_transition

PAYMENT_METHODS = ("alipay", "wechat_pay", "unionpay", "bank_transfer", "cod", "cash", "platform")


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    created: bool
    order: Order


def _refresh_totals(order: Order) -> None:
    sums = Payment.objects.filter(order=order).aggregate(
        received=Sum("amount_minor", filter=Q(kind=PaymentKind.PAYMENT)),
        refunded=Sum("amount_minor", filter=Q(kind=PaymentKind.REFUND)),
    )
    order.received_minor = sums["received"] or 0
    order.refunded_minor = sums["refunded"] or 0
    order.payment_status = derive_payment_status(
        payable_minor=order.payable_minor, received_minor=order.received_minor, refunded_minor=order.refunded_minor
    ).value


@transaction.atomic(durable=True)
def payment_record(
    *,
    order: Order,
    method: str,
    transaction_id: str,
    amount_minor: int,
    paid_at: datetime | None,
    actor: Any,
    kind: str = PaymentKind.PAYMENT,
    raw: dict[str, Any] | None = None,
) -> PaymentResult:
    """Record one payment or refund. A repeat of the same (method, transaction id, kind) for the same
    order and amount returns the first record; the same id with other figures is a 409."""
    if method not in PAYMENT_METHODS:
        raise ValidationFailed(f"Unknown payment method {method!r}.", code="unknown_payment_method")
    if amount_minor <= 0 or amount_minor > MAX_AMOUNT_MINOR:
        raise ValidationFailed("A payment amount must be greater than 0 and of a real size.", code="bad_amount")
    locked = order_lock(pk=order.pk)
    existing = Payment.objects.filter(method=method, transaction_id=transaction_id, kind=kind).first()
    if existing is not None:
        if existing.order_id != locked.pk or existing.amount_minor != amount_minor:
            raise Conflict(
                f"Transaction {method}:{transaction_id} was already recorded for another order or amount.",
                code="payment_conflict",
                extra={
                    "recorded_for": existing.order.number,
                    "recorded_amount": format_minor(existing.amount_minor, existing.currency),
                },
            )
        return PaymentResult(existing, False, locked)
    late = kind == PaymentKind.PAYMENT and Status(locked.status) in TERMINAL
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                order=locked,
                method=method,
                transaction_id=transaction_id,
                kind=kind,
                amount_minor=amount_minor,
                currency=locked.currency,
                paid_at=paid_at or timezone.now(),
                needs_refund=late,
                raw=raw,
            )
    except IntegrityError:
        raise Conflict(
            f"Transaction {method}:{transaction_id} is being recorded by another request.", code="payment_conflict"
        ) from None
    before = {"payment_status": locked.payment_status, "received": locked.received_minor}
    _refresh_totals(locked)
    if locked.payment_status == PaymentStatus.PAID.value and locked.paid_at is None:
        locked.paid_at = payment.paid_at
    locked.updated_at = timezone.now()
    locked.save(update_fields=["received_minor", "refunded_minor", "payment_status", "paid_at", "updated_at"])
    order_event_build(
        order=locked,
        kind="refund_recorded" if kind == PaymentKind.REFUND else ("payment_after_close" if late else "payment"),
        actor=actor,
        data={"method": method, "transaction_id": transaction_id, "amount_minor": amount_minor},
    ).save()
    audit_record(
        actor=actor,
        action="payment.record",
        obj=payment,
        before=before,
        after={"payment_status": locked.payment_status, "received": locked.received_minor, "needs_refund": late},
    )
    if locked.status == Status.PENDING_PAYMENT.value and locked.payment_status == PaymentStatus.PAID.value:
        order_transition(order=locked, to_status=Status.PENDING_REVIEW.value, actor=actor, reason="paid in full")
    return PaymentResult(payment, True, locked)


def payment_callback_receive(*, method: str, body: dict[str, Any]) -> PaymentResult | None:
    """A provider's status callback, already authenticated by its signature. ``trade_status``:
    success → a payment, refund → a refund, anything else (pending, failed) changes nothing."""
    reader = FieldReader()
    number = reader.text(body, "order_number", "", max_len=32, required=True)
    txn = reader.text(body, "transaction_id", "", max_len=64, required=True)
    trade_status = reader.text(body, "trade_status", "", max_len=16, required=True)
    paid_at = reader.when(body, "paid_at", "")
    if reader.errors:
        raise ValidationFailed(f"{len(reader.errors)} field(s) are invalid.", details=reader.errors)
    order = Order.objects.filter(number=number).first()
    if order is None:
        raise NotFound(f"No order {number}.", code="order_not_found")
    if trade_status not in ("success", "refund"):
        return None
    amount = parse_minor(body.get("amount"), order.currency, field="amount")
    if paid_at is not None and not timezone.is_aware(paid_at):
        paid_at = timezone.make_aware(paid_at)
    return payment_record(
        order=order,
        method=method,
        transaction_id=txn,
        amount_minor=amount,
        paid_at=paid_at,
        actor=f"callback:{method}",
        kind=PaymentKind.REFUND if trade_status == "refund" else PaymentKind.PAYMENT,
        raw=body,
    )
