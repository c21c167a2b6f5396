"""Refunds named after a retired order settle what is owed back: the retired order's own refund due first,
then, carried on to its living successors, theirs — the same way as on any order. Cash figures count
what is still owed back, carried shares of cancelled successors included, once."""

from __future__ import annotations

from typing import Any

from oms.orders.models import Order, OrderEvent, Payment, RefundSettlement
from oms.orders.services.cancel import order_cancel
from oms.orders.services.payments import payment_record
from oms.reports.selectors import cash_totals
from oms.splitmerge.services.merge import orders_merge
from oms.splitmerge.services.split import order_split
from oms.testing.fulfillment import World


def _stocked(world: World) -> None:
    for code in ("TEA-001", "NUT-002", "CUP-003"):
        world.receive(world.hz, code, 50)


def _refund(order: Order, amount: int, txn: str, actor: Any) -> Any:
    return payment_record(
        order=order, method="alipay", transaction_id=txn, amount_minor=amount, paid_at=None, actor=actor, kind="refund"
    )


def _carried_payment(order: Order) -> Payment:
    return Payment.objects.get(order=order, method="carried", kind="payment")


def test_a_refund_for_a_split_parent_settles_the_cancelled_child_it_reaches(world: World) -> None:
    _stocked(world)
    parent = world.order([("TEA-001", 2), ("NUT-002", 1)])
    first, second = order_split(order=parent, groups=[{1: 2}, {2: 1}], actor=world.actor)
    order_cancel(order=first, actor=world.actor, reason="买家取消一半")
    owed = _carried_payment(first)
    assert owed.needs_refund and owed.refund_due_minor == first.received_minor > 0
    (cny,) = cash_totals()
    assert cny.refund_due_minor == first.received_minor  # the carried share is owed once, not the cash row too
    # Part of it, under the parent's name: routed by what each child holds, the cancelled child's share
    # settles its due.
    result = _refund(parent, 20_00, "RF-SPLIT-1", world.actor)
    shares = {o.pk: share for o, share in result.routed}
    assert result.settled == [] and sum(shares.values()) == 20_00
    owed.refresh_from_db()
    assert owed.needs_refund and owed.refund_due_minor == first.received_minor - shares[first.pk]
    carried_refund = Payment.objects.get(order=first, method="carried", kind="refund")
    assert list(carried_refund.settlements.values_list("payment", "amount_minor")) == [(owed.pk, shares[first.pk])]
    settled = OrderEvent.objects.get(order=first, kind="refund_carried").data["settled"]
    assert settled[0]["amount_minor"] == shares[first.pk]
    (cny,) = cash_totals()
    assert cny.refund_due_minor == owed.refund_due_minor
    # The rest of everything the parent received: each child gets what it still holds; the due reaches 0.
    first.refresh_from_db()
    second.refresh_from_db()
    rest = (first.received_minor - first.refunded_minor) + (second.received_minor - second.refunded_minor)
    _refund(parent, rest, "RF-SPLIT-2", world.actor)
    owed.refresh_from_db()
    assert (owed.refund_due_minor, owed.needs_refund) == (0, False)
    assert sum(owed.settled_by.values_list("amount_minor", flat=True)) == owed.amount_minor
    (cny,) = cash_totals()
    assert cny.refund_due_minor == 0
    # A replay of the first refund changes nothing anywhere.
    before = list(RefundSettlement.objects.values_list("refund", "payment", "amount_minor"))
    assert not _refund(parent, 20_00, "RF-SPLIT-1", world.actor).created
    assert list(RefundSettlement.objects.values_list("refund", "payment", "amount_minor")) == before


def test_a_refund_naming_a_retired_orders_flagged_payment_settles_it_before_routing(world: World) -> None:
    _stocked(world)
    order = world.order([("TEA-001", 2), ("NUT-002", 1)])
    children = order_split(order=order, groups=[{1: 2}, {2: 1}], actor=world.actor)
    payment_record(
        order=order, method="alipay", transaction_id="DOUBLE-PAY", amount_minor=5_00, paid_at=None, actor=world.actor
    )
    double = Payment.objects.get(transaction_id="DOUBLE-PAY", kind="payment")
    assert double.needs_refund and double.refund_due_minor == 5_00
    # 8.00 back under the same transaction id: the 5.00 owed on it is settled, only 3.00 goes on to the children.
    result = _refund(order, 8_00, "DOUBLE-PAY", world.actor)
    double.refresh_from_db()
    assert (double.refund_due_minor, double.needs_refund) == (0, False)
    assert [(p.pk, take) for p, take in result.settled] == [(double.pk, 5_00)]
    assert sum(share for _o, share in result.routed) == 3_00
    assert {o.pk for o, _share in result.routed} <= {c.pk for c in children}
    event = OrderEvent.objects.get(order=order, kind="refund_routed")
    assert event.data["settled"][0]["amount_minor"] == 5_00 and event.data["not_routed_minor"] == 5_00


def test_a_refund_for_a_merged_source_settles_the_cancelled_merge_result(world: World) -> None:
    _stocked(world)
    buyer = {"platform_buyer_id": "settle-buyer", "phone": "13900139000"}
    a = world.order([("TEA-001", 2)], buyer=buyer)
    b = world.order([("CUP-003", 1)], buyer=buyer)
    merged = orders_merge(numbers=[a.number, b.number], actor=world.actor)
    order_cancel(order=merged, actor=world.actor, reason="买家取消")
    owed = _carried_payment(merged)
    assert owed.refund_due_minor == merged.received_minor
    result = _refund(a, 6_00, "RF-MERGED", world.actor)
    assert [(o.pk, share) for o, share in result.routed] == [(merged.pk, 6_00)]
    owed.refresh_from_db()
    assert owed.refund_due_minor == merged.received_minor - 6_00 and owed.needs_refund
    merged.refresh_from_db()
    assert merged.refunded_minor == 6_00
