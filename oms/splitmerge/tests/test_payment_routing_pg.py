"""Real threads on PostgreSQL: a payment routed from a retired order to its successors is taken once when
the callback races itself, and no money is lost when a successor is split at the same moment."""

from __future__ import annotations

from typing import Any

import pytest

from oms.orders.models import Order, Payment
from oms.orders.services.payments import payment_record
from oms.orders.tests.test_concurrency_pg import race
from oms.splitmerge.selectors import living_descendants
from oms.splitmerge.services.split import order_split
from oms.testing.fulfillment import World

pytestmark = pytest.mark.postgres


def _cod_split(world: World) -> tuple[Order, list[Order]]:
    for code in ("TEA-001", "NUT-002", "CUP-003"):
        world.receive(world.hz, code, 50)
    order = world.order([("TEA-001", 4), ("NUT-002", 1), ("CUP-003", 3)], cod=True, payment=None, shipping="8.00")
    children = order_split(order=order, groups=[{1: 4}, {2: 1, 3: 3}], actor=world.actor)
    order.refresh_from_db()
    return order, children


def _pay(order: Order, amount: int, actor: Any, txn: str = "RACE-PAY") -> Any:
    return payment_record(
        order=order, method="alipay", transaction_id=txn, amount_minor=amount, paid_at=None, actor=actor
    )


def test_racing_copies_of_a_routed_payment_are_taken_once(transactional_db: Any, world: World) -> None:
    parent, children = _cod_split(world)
    amount = parent.payable_minor
    results = race(8, lambda i: _pay(parent, amount, world.actor))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(1 for r in results if r.created) == 1
    assert Payment.objects.filter(transaction_id="RACE-PAY").count() == 1
    for child in children:
        child.refresh_from_db()
        assert Payment.objects.filter(order=child, method="carried", raw__routed_from=parent.number).count() == 1
        assert child.received_minor == child.payable_minor


def test_a_routed_payment_racing_a_split_of_a_successor_loses_nothing(transactional_db: Any, world: World) -> None:
    parent, (first, _second) = _cod_split(world)
    amount = parent.payable_minor

    def work(i: int) -> Any:
        if i == 0:
            return _pay(parent, amount, world.actor, txn="RACE-SPLIT")
        return order_split(order=first, groups=[{1: 1}, {1: 3}], actor=world.actor)

    results = race(2, work)
    assert [r for r in results if isinstance(r, Exception)] == []
    leaves = living_descendants([parent.pk])[parent.pk]
    assert len(leaves) == 3
    fresh = list(Order.objects.filter(pk__in=[o.pk for o in leaves]))
    assert sum(o.received_minor for o in fresh) == amount
    assert all(o.received_minor == o.payable_minor and o.payment_status == "paid" for o in fresh)
    assert not Payment.objects.get(transaction_id="RACE-SPLIT").needs_refund
