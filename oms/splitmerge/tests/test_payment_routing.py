"""Payments and refunds that name a retired order (split parent, merged source) reach its living successors:
a payment by what each still owes (the rest flagged for refund), a refund by what each holds; the callback
stays idempotent on its transaction id."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from oms.audit.models import OperationLog
from oms.core.domain.money import format_minor
from oms.orders.models import Order, OrderEvent, Payment
from oms.orders.services.payments import _routes, payment_record
from oms.outbox.domain.signing import signature_headers
from oms.splitmerge.services.merge import orders_merge
from oms.splitmerge.services.split import order_split
from oms.testing.fulfillment import World

SECRET = "alipay-routing-secret"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_PAYMENT_SECRET_ALIPAY", SECRET)


def callback(order: Order, amount_minor: int, *, txn: str, status: str = "success") -> Any:
    body = {
        "order_number": order.number,
        "transaction_id": txn,
        "trade_status": status,
        "amount": format_minor(amount_minor, "CNY"),
    }
    raw = json.dumps(body).encode()
    headers = signature_headers(secret=SECRET, event_id=txn, timestamp=int(time.time()), body=raw)
    return Client(headers=headers).post("/api/v1/payments/callbacks/alipay", data=raw, content_type="application/json")


def _stocked(world: World) -> None:
    for code in ("TEA-001", "NUT-002", "CUP-003"):
        world.receive(world.hz, code, 50)


def _cod_split(world: World) -> tuple[Order, list[Order]]:
    """A cash-on-delivery order (nothing received yet) split in two unequal halves."""
    _stocked(world)
    order = world.order([("TEA-001", 5), ("NUT-002", 1), ("CUP-003", 3)], cod=True, payment=None, shipping="8.00")
    assert order.received_minor == 0
    children = order_split(order=order, groups=[{1: 5}, {2: 1, 3: 3}], actor=world.actor)
    order.refresh_from_db()
    return order, children


def _state() -> list[tuple[Any, ...]]:
    return sorted(
        Order.objects.values_list("number", "status", "received_minor", "refunded_minor", "payment_status")
    ) + sorted(Payment.objects.values_list("order__number", "method", "kind", "amount_minor", "needs_refund"))


def test_payment_for_a_split_parent_goes_to_its_children_by_what_they_owe(world: World) -> None:
    parent, (first, second) = _cod_split(world)
    owed = [first.payable_minor, second.payable_minor]
    extra = 1_01
    response = callback(parent, sum(owed) + extra, txn="COD-PAID-1")
    assert response.status_code == 200, response.content
    assert response.json()["result"] == "recorded"
    assert response.json()["routed"] == [
        {"order": first.number, "amount": format_minor(owed[0], "CNY")},
        {"order": second.number, "amount": format_minor(owed[1], "CNY")},
    ]
    for child, due in zip((first, second), owed, strict=True):
        child.refresh_from_db()
        assert child.received_minor == due
        assert child.payment_status == "paid"
        carried = Payment.objects.get(order=child, method="carried")
        assert carried.amount_minor == due and carried.raw["routed_from"] == parent.number
        event = OrderEvent.objects.get(order=child, kind="payment_carried")
        assert event.data["from"] == parent.number and event.data["amount_minor"] == due
    # The cash stays on the parent's row; only what nobody owed is flagged for refund.
    real = Payment.objects.get(order=parent, method="alipay", transaction_id="COD-PAID-1")
    assert real.needs_refund and real.refund_due_minor == extra
    routed = OrderEvent.objects.get(order=parent, kind="payment_routed")
    assert routed.data["routed"] == [
        {"order": first.number, "amount_minor": owed[0]},
        {"order": second.number, "amount_minor": owed[1]},
    ]
    assert routed.data["not_routed_minor"] == extra
    assert OperationLog.objects.filter(action="payment.record", after__routed__isnull=False).count() == 1
    # A replay of the same callback changes nothing.
    before = _state()
    again = callback(parent, sum(owed) + extra, txn="COD-PAID-1")
    assert again.json()["result"] == "duplicate"
    assert _state() == before


def test_partial_payment_is_divided_exactly_by_what_each_owes(world: World) -> None:
    parent, (first, second) = _cod_split(world)
    owed = [first.payable_minor, second.payable_minor]
    amount = sum(owed) // 3 + 7
    assert callback(parent, amount, txn="COD-PART-1").status_code == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.received_minor + second.received_minor == amount
    for child, due in zip((first, second), owed, strict=True):
        assert abs(child.received_minor * sum(owed) - amount * due) <= sum(owed)  # within a cent of exact
        assert child.payment_status == "partially_paid"
    partial = Payment.objects.get(order=parent, transaction_id="COD-PART-1")
    assert not partial.needs_refund and partial.refund_due_minor == 0


def test_payment_for_a_retired_order_whose_successors_owe_nothing_is_flagged_for_refund(world: World) -> None:
    _stocked(world)
    order = world.order([("TEA-001", 2), ("NUT-002", 1)])
    children = order_split(order=order, groups=[{1: 2}, {2: 1}], actor=world.actor)
    before = [(c.received_minor, c.payment_status) for c in children]
    response = callback(order, 5_00, txn="DOUBLE-PAY")
    assert response.json()["result"] == "recorded"
    double = Payment.objects.get(transaction_id="DOUBLE-PAY")
    assert double.needs_refund and double.refund_due_minor == 5_00
    assert OrderEvent.objects.filter(order=order, kind="payment_after_close").exists()
    for child, was in zip(children, before, strict=True):
        child.refresh_from_db()
        assert (child.received_minor, child.payment_status) == was
    assert not Payment.objects.filter(order__in=children, transaction_id__startswith="r:").exists()


def test_refund_for_a_merged_source_goes_to_the_merge_result_holding_the_money(world: World) -> None:
    _stocked(world)
    buyer = {"platform_buyer_id": "same-buyer", "phone": "13900139000"}
    a = world.order([("TEA-001", 2)], buyer=buyer)
    b = world.order([("CUP-003", 1)], buyer=buyer)
    merged = orders_merge(numbers=[a.number, b.number], actor=world.actor)
    held = merged.received_minor
    assert callback(a, 6_00, txn="RF-A-1", status="refund").json()["result"] == "recorded"
    merged.refresh_from_db()
    assert merged.refunded_minor == 6_00
    assert merged.received_minor == held
    assert merged.payment_status == "partially_refunded"
    assert OrderEvent.objects.get(order=merged, kind="refund_carried").data["from"] == a.number
    a.refresh_from_db()
    assert a.refunded_minor == 6_00  # the refund's own record stays where the callback put it
    before = _state()
    assert callback(a, 6_00, txn="RF-A-1", status="refund").json()["result"] == "duplicate"
    assert _state() == before


def test_refund_follows_the_money_through_a_split_then_a_merge(world: World) -> None:
    _stocked(world)
    buyer = {"platform_buyer_id": "chain-buyer", "phone": "13900139000"}
    order = world.order([("TEA-001", 2), ("NUT-002", 1)], buyer=buyer)
    first, second = order_split(order=order, groups=[{1: 2}, {2: 1}], actor=world.actor)
    other = world.order([("CUP-003", 1)], buyer=buyer)
    merged = orders_merge(numbers=[first.number, other.number], actor=world.actor)
    second.refresh_from_db()
    refund = order.received_minor  # everything the original received
    result = payment_record(
        order=order,
        method="alipay",
        transaction_id="RF-ALL",
        amount_minor=refund,
        paid_at=None,
        actor=world.actor,
        kind="refund",
    )
    shares = {o.number: share for o, share in result.routed}
    assert set(shares) == {merged.number, second.number}
    assert sum(shares.values()) == refund
    merged.refresh_from_db()
    second.refresh_from_db()
    # By what each holds: the merge result also holds the other order's money, so it takes the larger part.
    assert second.refunded_minor == shares[second.number] <= second.received_minor
    assert merged.refunded_minor == shares[merged.number] <= merged.received_minor
    held = [second.received_minor, merged.received_minor]
    assert abs(shares[second.number] * sum(held) - refund * held[0]) <= sum(held)


def _order(payable: int, received: int, refunded: int = 0, status: str = "pending_dispatch") -> Order:
    return Order(number="SO", payable_minor=payable, received_minor=received, refunded_minor=refunded, status=status)


@given(
    orders=st.lists(
        st.tuples(st.integers(0, 10**7), st.integers(0, 10**7), st.sampled_from(["pending_review", "cancelled"])),
        min_size=1,
        max_size=6,
    ),
    amount=st.integers(1, 3 * 10**7),
    refund=st.booleans(),
)
def test_routes_are_exact_and_never_exceed_what_is_owed_or_held(
    orders: list[tuple[int, int, str]], amount: int, refund: bool
) -> None:
    successors = [_order(p, r, 0, s) for p, r, s in orders]
    routes = _routes(successors, kind="refund" if refund else "payment", amount_minor=amount)
    if refund:
        room = [o.received_minor for o in successors]
    else:
        room = [max(0, o.payable_minor - o.received_minor) if o.status != "cancelled" else 0 for o in successors]
    assert sum(share for _o, share in routes) == min(amount, sum(room))
    got = {id(o): share for o, share in routes}
    for o, limit in zip(successors, room, strict=True):
        assert 0 <= got.get(id(o), 0) <= limit
