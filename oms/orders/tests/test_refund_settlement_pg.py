"""Real threads on PostgreSQL: refunds racing on one order never settle the same refund due twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Sum

from oms.orders.models import Order, Payment, RefundSettlement
from oms.orders.services.cancel import order_cancel
from oms.orders.services.payments import payment_record
from oms.orders.tests.test_concurrency_pg import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _refund(order: Order, amount: int, txn: str) -> Any:
    return payment_record(
        order=order, method="alipay", transaction_id=txn, amount_minor=amount, paid_at=None, actor="t", kind="refund"
    )


@pytest.fixture
def owed(make_order: Any, admin_operator: Any) -> Order:
    """Paid in two parts, then cancelled: 301.79 owed back over the two payments."""
    order: Order = make_order(payment=None)
    for txn, amount in (("PG-P1", 150_00), ("PG-P2", 151_79)):
        payment_record(order=order, method="alipay", transaction_id=txn, amount_minor=amount, paid_at=None, actor="t")
    order_cancel(order=order, actor=admin_operator, reason="买家申请取消")
    assert sum(Payment.objects.filter(order=order).values_list("refund_due_minor", flat=True)) == 301_79
    return order


def test_racing_refunds_settle_each_due_once(owed: Order) -> None:
    results = race(12, lambda i: _refund(owed, 40_00, f"PG-RF-{i}"))
    assert [r for r in results if isinstance(r, Exception)] == []
    # 12 × 40.00 = 480.00 refunded in full; exactly 301.79 of it settled what was owed, no payment below 0.
    rows = list(Payment.objects.filter(order=owed, kind="payment"))
    assert [(p.refund_due_minor, p.needs_refund) for p in rows] == [(0, False), (0, False)]
    assert RefundSettlement.objects.filter(payment__order=owed).aggregate(s=Sum("amount_minor"))["s"] == 301_79
    for p in rows:
        assert p.settled_by.aggregate(s=Sum("amount_minor"))["s"] == p.amount_minor
    owed.refresh_from_db()
    assert owed.refunded_minor == 480_00


def test_racing_copies_of_one_refund_settle_once(owed: Order) -> None:
    results = race(12, lambda i: _refund(owed, 100_00, "PG-RF-SAME"))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(1 for r in results if r.created) == 1
    assert RefundSettlement.objects.filter(payment__order=owed).aggregate(s=Sum("amount_minor"))["s"] == 100_00
    assert sum(Payment.objects.filter(order=owed, kind="payment").values_list("refund_due_minor", flat=True)) == 201_79
