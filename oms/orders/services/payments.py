"""Payments (O4): manual records and provider callbacks, idempotent on (method, transaction id, kind).

Callbacks arrive late, twice, or out of order. Every one is taken at most once; the order's payment
status is re-derived from all its records each time; a payment for an order that is already cancelled
or closed is kept and flagged for refund, and never reopens the order.

An order replaced by a split or merge (retired, closed) hands on what is paid or refunded under its name:
the record stays on it (that is where the cash is), and its living successors get their share as carried
bookkeeping rows — a payment in proportion to what each still owes (anything beyond is flagged for refund),
a refund in proportion to what each holds. The timeline of each says who got what.

A refund settles what is owed back (``refund_due_minor``): first on the order it names — the payment it
names by transaction id, then that order's other payments with refund due, oldest first — and only then is
the rest routed on from a retired order; a carried share settles its successor's dues the same way. Each
settlement is a ``RefundSettlement`` row; what a refund exceeds the dues by is still a refund.

A refund beyond what the order still holds (received less refunded) is recorded, but that part
(``excess_minor``) is an anomaly: it settles nothing, is routed nowhere, is logged as
``payment.refund_excess`` and shown apart in cash totals. Every refund is handed to the contexts that hold
orders before they leave (`REFUND_RECORDED_HOOKS`: review intercepts the order).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.actors import Actor, callback_actor
from oms.core.domain.limits import MAX_AMOUNT_MINOR
from oms.core.domain.money import apportion, format_minor, parse_minor
from oms.core.errors import Conflict, NotFound, ValidationFailed
from oms.orders import actions
from oms.orders.domain.fields import FieldReader
from oms.orders.domain.payments import (
    CARRIED_METHOD,
    PaymentStatus,
    derive_payment_status,
    refund_excess,
    refund_settle,
)
from oms.orders.domain.status import TERMINAL, Status
from oms.orders.lock_objects import order_lock, orders_for_update
from oms.orders.models import Order, Payment, PaymentKind, RefundSettlement
from oms.orders.selectors import order_living_successors
from oms.orders.services.timeline import order_event_record, order_transition

PAYMENT_METHODS = ("alipay", "wechat_pay", "unionpay", "bank_transfer", "cod", "cash", "platform")


class RefundRecordedHook(Protocol):
    def __call__(self, *, order: Order, refund: Payment, actor: Any) -> None: ...


# Contexts above orders react to a refund recorded on an order (review: hold it before it leaves, 退款拦截)
# without orders importing them. Each runs in the recording transaction with the order locked; a refund
# carried on to a split or merge successor is handed on for the successor too.
REFUND_RECORDED_HOOKS: list[RefundRecordedHook] = []


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    created: bool
    order: Order
    # For a retired order: (successor, share) that the payment or refund was carried on to.
    routed: list[tuple[Order, int]] = field(default_factory=list)
    # For a new refund: (payment, amount) of what was owed back that it paid off on the order it names.
    settled: list[tuple[Payment, int]] = field(default_factory=list)


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
    actor: Actor,
    kind: str = PaymentKind.PAYMENT,
    raw: dict[str, Any] | None = None,
    refund_of: str = "",
) -> PaymentResult:
    """Record one payment or refund. A repeat of the same (method, transaction id, kind) for the same
    order and amount returns the first record (and settles nothing again); the same id with other figures
    is a 409. A refund names the payment it pays back by ``refund_of`` (its transaction id), else by sharing
    its own method and transaction id; it settles that payment's refund due first, then the order's others
    oldest first."""
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
    settle_plan: list[tuple[Payment, int]] = []
    excess = 0
    if kind == PaymentKind.REFUND:
        excess = refund_excess(
            received_minor=locked.received_minor,
            refunded_before_minor=_refunded_held(locked),
            amount_minor=amount_minor,
        )
        named = (refund_of, None) if refund_of else (transaction_id, method)
        settle_plan = _settle_plan(locked, amount_minor - excess, named=named)
    settled_here = sum(take for _p, take in settle_plan)
    routes: list[tuple[Order, int]] = []
    if locked.status == Status.CLOSED.value and amount_minor - excess > settled_here:
        routes = _routes(_successors_locked(locked), kind=kind, amount_minor=amount_minor - excess - settled_here)
    unrouted = amount_minor - sum(share for _o, share in routes)
    late = kind == PaymentKind.PAYMENT and Status(locked.status) in TERMINAL and unrouted > 0
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
                refund_due_minor=unrouted if late else 0,
                excess_minor=excess,
                raw=raw,
            )
    except IntegrityError:
        raise Conflict(
            f"Transaction {method}:{transaction_id} is being recorded by another request.", code="payment_conflict"
        ) from None
    _settle_save(payment, settle_plan)
    before = {"payment_status": locked.payment_status, "received": locked.received_minor}
    _refresh_totals(locked)
    if locked.payment_status == PaymentStatus.PAID.value and locked.paid_at is None:
        locked.paid_at = payment.paid_at
    locked.updated_at = timezone.now()
    locked.save(update_fields=["received_minor", "refunded_minor", "payment_status", "paid_at", "updated_at"])
    data: dict[str, Any] = {"method": method, "transaction_id": transaction_id, "amount_minor": amount_minor}
    if routes:
        event_kind = "refund_routed" if kind == PaymentKind.REFUND else "payment_routed"
        data["routed"] = [{"order": o.number, "amount_minor": share} for o, share in routes]
        data["not_routed_minor"] = unrouted
    else:
        event_kind = "refund_recorded" if kind == PaymentKind.REFUND else ("payment_after_close" if late else "payment")
    if settle_plan:
        data["settled"] = _settled_out(settle_plan)
    if excess:
        data["excess_minor"] = excess
    order_event_record(order=locked, kind=event_kind, actor=actor, data=data)
    audit_record(
        actor=actor,
        action=actions.PAYMENT_RECORD,
        obj=payment,
        before=before,
        after={
            "payment_status": locked.payment_status,
            "received": locked.received_minor,
            "needs_refund": late,
            "refund_due_minor": unrouted if late else 0,
            **({"routed": {o.number: share for o, share in routes}, "not_routed_minor": unrouted} if routes else {}),
            **({"settled": _settled_out(settle_plan)} if settle_plan else {}),
        },
    )
    if excess:
        _excess_record(payment, order=locked, actor=actor)
    for successor, share in routes:
        _carry(successor, share, payment=payment, source=locked, actor=actor)
    if kind == PaymentKind.REFUND:
        for hook in REFUND_RECORDED_HOOKS:
            hook(order=locked, refund=payment, actor=actor)
    if locked.status == Status.PENDING_PAYMENT.value and locked.payment_status == PaymentStatus.PAID.value:
        order_transition(order=locked, to_status=Status.PENDING_REVIEW.value, actor=actor, reason="paid in full")
    return PaymentResult(payment, True, locked, routes, settle_plan)


def _refunded_held(order: Order) -> int:
    """What the order's refunds so far gave back of money it held: their amounts less their excess."""
    refunds = Payment.objects.filter(order=order, kind=PaymentKind.REFUND)
    return int(refunds.aggregate(held=Sum(F("amount_minor") - F("excess_minor")))["held"] or 0)


def _excess_record(refund: Payment, *, order: Order, actor: Any) -> None:
    """The anomaly of a refund beyond what the order held: on the timeline and in the operation log under its
    own action, so finance can search for it."""
    held = refund.amount_minor - refund.excess_minor
    data = {"payment": f"{refund.method}:{refund.transaction_id}", "excess_minor": refund.excess_minor}
    order_event_record(order=order, kind="refund_excess", actor=actor, data={**data, "held_minor": held})
    audit_record(
        actor=actor,
        action=actions.PAYMENT_REFUND_EXCESS,
        obj=refund,
        after={**data, "amount_minor": refund.amount_minor, "received_minor": order.received_minor},
    )


def _settle_plan(order: Order, amount_minor: int, *, named: tuple[str, str | None] | None) -> list[tuple[Payment, int]]:
    """What a refund of ``amount_minor`` on ``order`` pays off of each of its payments still owed back: the one
    it names (transaction id, and method unless None) first, then oldest first. Locks those payment rows in
    primary-key order; the caller holds the order's lock, which every writer of ``refund_due_minor`` takes
    first, so two refunds on one order cannot both take the same due."""
    owing = list(
        Payment.objects.select_for_update()
        .filter(order=order, kind=PaymentKind.PAYMENT, refund_due_minor__gt=0)
        .order_by("pk")
    )

    def is_named(p: Payment) -> bool:
        return named is not None and p.transaction_id == named[0] and named[1] in (None, p.method)

    owing.sort(key=lambda p: (not is_named(p), p.paid_at, p.pk))
    applied = refund_settle(amount_minor=amount_minor, dues_minor=[p.refund_due_minor for p in owing])
    return [(p, take) for p, take in zip(owing, applied, strict=True) if take > 0]


def _settle_save(refund: Payment, plan: list[tuple[Payment, int]]) -> None:
    """Take what the refund paid off each payment's refund due (never below 0); the flag clears at 0."""
    for payment, take in plan:
        payment.refund_due_minor -= take
        payment.needs_refund = payment.refund_due_minor > 0
    Payment.objects.bulk_update([p for p, _take in plan], ["refund_due_minor", "needs_refund"])
    RefundSettlement.objects.bulk_create(
        [RefundSettlement(refund=refund, payment=p, amount_minor=take) for p, take in plan]
    )


def _settled_out(plan: list[tuple[Payment, int]]) -> list[dict[str, Any]]:
    return [
        {"payment": f"{p.method}:{p.transaction_id}", "amount_minor": take, "refund_due_minor": p.refund_due_minor}
        for p, take in plan
    ]


def payments_owe_back(*, order: Order, amount_minor: int) -> list[tuple[Payment, int]]:
    """Flag ``amount_minor`` more of an order's money as owed back (part of an order cancelled after payment,
    e.g. the rest of a partially shipped order): what it can still owe is received − refunded − what is
    already flagged; the amount (capped there) is divided over its payments by what each has not yet been
    flagged for (`apportion`, each within its amount), so a later refund settles it like any refund due.
    The caller holds the order's lock. Returns (payment, share) for the shares above zero."""
    rows = list(Payment.objects.select_for_update().filter(order=order, kind=PaymentKind.PAYMENT).order_by("pk"))
    room = [p.amount_minor - p.refund_due_minor for p in rows]
    owed = min(amount_minor, order.received_minor - order.refunded_minor - sum(p.refund_due_minor for p in rows))
    if owed <= 0 or not rows:
        return []
    shares = apportion(min(owed, sum(room)), room, caps=room)
    flagged = [(p, share) for p, share in zip(rows, shares, strict=True) if share > 0]
    for payment, share in flagged:
        payment.refund_due_minor += share
        payment.needs_refund = True
    Payment.objects.bulk_update([p for p, _share in flagged], ["refund_due_minor", "needs_refund"])
    return flagged


def _successors_locked(order: Order) -> list[Order]:
    """The living successors of a retired order, locked (they cannot be split or merged meanwhile): read,
    lock, read again until the set holds still. Successors are newer than the order, so the locks follow
    the order's own in primary-key order."""
    wanted: list[int] = []
    for _attempt in range(3):
        found = sorted(o.pk for o in order_living_successors(order_ids=[order.pk]).get(order.pk, []))
        if found == wanted:
            break
        wanted = found
        list(orders_for_update(pks=wanted))
    return list(Order.objects.filter(pk__in=wanted).order_by("pk"))


def _routes(successors: list[Order], *, kind: str, amount_minor: int) -> list[tuple[Order, int]]:
    """A payment goes to the successors still open, by what each still owes (never more); a refund to those
    holding money, by what each holds (never more). Exact to the cent through the one ``apportion``."""
    if kind == PaymentKind.PAYMENT:
        room = [
            max(0, o.payable_minor - o.received_minor) if Status(o.status) not in TERMINAL else 0 for o in successors
        ]
    else:
        room = [max(0, o.received_minor - o.refunded_minor) for o in successors]
    total = min(amount_minor, sum(room))
    if total <= 0:
        return []
    shares = apportion(total, room, caps=room)
    return [(o, share) for o, share in zip(successors, shares, strict=True) if share > 0]


def _carry(order: Order, share: int, *, payment: Payment, source: Order, actor: Actor) -> None:
    """The successor's share of a payment or refund recorded on a retired order, as a carried row."""
    digest = hashlib.sha256(f"{payment.method}|{payment.transaction_id}|{payment.kind}".encode()).hexdigest()[:20]
    settle_plan: list[tuple[Payment, int]] = []
    if payment.kind == PaymentKind.REFUND:
        settle_plan = _settle_plan(order, share, named=None)
    carried = Payment.objects.create(
        order=order,
        method=CARRIED_METHOD,
        transaction_id=f"r:{digest}:{order.number}",
        kind=payment.kind,
        amount_minor=share,
        currency=order.currency,
        paid_at=payment.paid_at,
        raw={
            "routed_from": source.number,
            "method": payment.method,
            "transaction_id": payment.transaction_id,
        },
    )
    _settle_save(carried, settle_plan)
    _refresh_totals(order)
    if order.payment_status == PaymentStatus.PAID.value and order.paid_at is None:
        order.paid_at = payment.paid_at
    order.updated_at = timezone.now()
    order.save(update_fields=["received_minor", "refunded_minor", "payment_status", "paid_at", "updated_at"])
    order_event_record(
        order=order,
        kind="refund_carried" if payment.kind == PaymentKind.REFUND else "payment_carried",
        actor=actor,
        data={
            "from": source.number,
            "method": payment.method,
            "transaction_id": payment.transaction_id,
            "amount_minor": share,
            **({"settled": _settled_out(settle_plan)} if settle_plan else {}),
        },
    )
    if payment.kind == PaymentKind.REFUND:
        for hook in REFUND_RECORDED_HOOKS:
            hook(order=order, refund=carried, actor=actor)
    if order.status == Status.PENDING_PAYMENT.value and order.payment_status == PaymentStatus.PAID.value:
        order_transition(order=order, to_status=Status.PENDING_REVIEW.value, actor=actor, reason="paid in full")


def payment_callback_receive(*, method: str, body: dict[str, Any]) -> PaymentResult | None:
    """A provider's status callback, already authenticated by its signature. ``trade_status``:
    success → a payment, refund → a refund (``refund_of``: the transaction id of the payment it pays back,
    when it differs from the refund's own), anything else (pending, failed) changes nothing."""
    reader = FieldReader()
    number = reader.text(body, "order_number", "", max_len=32, required=True)
    txn = reader.text(body, "transaction_id", "", max_len=64, required=True)
    trade_status = reader.text(body, "trade_status", "", max_len=16, required=True)
    paid_at = reader.when(body, "paid_at", "")
    refund_of = reader.text(body, "refund_of", "", max_len=64)
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
        actor=callback_actor(method),
        kind=PaymentKind.REFUND if trade_status == "refund" else PaymentKind.PAYMENT,
        raw=body,
        refund_of=refund_of,
    )


@transaction.atomic(savepoint=False)
def payment_carry(*, source: Order, target: Order, amount_minor: int, reference: str, actor: Actor) -> bool:
    """Carry ``amount_minor`` of what ``source`` holds to ``target``, which stands for part of it (an exchange
    order paid from the money its return freed): a carried refund on the source, a carried payment on the
    target, each order's totals re-derived, both timelines and the log. No money moves outside and nothing is
    owed back, so nothing is settled and the refund hooks are not called. Once per (reference, target): a
    repeat changes nothing (False). The caller holds both orders' locks."""
    if amount_minor <= 0:
        return False
    if amount_minor > source.received_minor - source.refunded_minor:
        raise ValidationFailed("An order cannot carry on more than it holds.", code="bad_amount")
    transaction_id = f"x:{reference}:{target.number}"[:64]
    if Payment.objects.filter(method=CARRIED_METHOD, transaction_id=transaction_id).exists():
        return False
    now = timezone.now()
    for order, kind, other in ((source, PaymentKind.REFUND, target), (target, PaymentKind.PAYMENT, source)):
        Payment.objects.create(
            order=order,
            method=CARRIED_METHOD,
            transaction_id=transaction_id,
            kind=kind,
            amount_minor=amount_minor,
            currency=order.currency,
            paid_at=now,
            raw={"carried_to" if kind == PaymentKind.REFUND else "carried_from": other.number, "reference": reference},
        )
        _refresh_totals(order)
        if order.payment_status == PaymentStatus.PAID.value and order.paid_at is None:
            order.paid_at = now
        order.updated_at = now
        order.save(update_fields=["received_minor", "refunded_minor", "payment_status", "paid_at", "updated_at"])
        order_event_record(
            order=order,
            kind="refund_carried_out" if kind == PaymentKind.REFUND else "payment_carried",
            actor=actor,
            data={"to" if kind == PaymentKind.REFUND else "from": other.number, "amount_minor": amount_minor},
        )
    audit_record(
        actor=actor,
        action=actions.PAYMENT_CARRY,
        obj=target,
        after={"from": source.number, "to": target.number, "amount_minor": amount_minor, "reference": reference},
    )
    if target.status == Status.PENDING_PAYMENT.value and target.payment_status == PaymentStatus.PAID.value:
        order_transition(order=target, to_status=Status.PENDING_REVIEW.value, actor=actor, reason="paid in full")
    return True
