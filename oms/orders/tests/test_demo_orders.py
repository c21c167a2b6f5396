"""Demo orders are made by the real services: many statuses, and every order's lines add up exactly."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum

from oms.demo.master_data import load_master_data
from oms.demo.orders import load_demo_orders
from oms.orders.models import Order, OrderEvent, OrderLine


def test_demo_orders(db: Any) -> None:
    load_master_data(seed=7)
    counts = load_demo_orders(count=60, seed=7)
    assert sum(counts.values()) == Order.objects.count() == 60
    assert len(counts) >= 5
    sums = dict(OrderLine.objects.values("order_id").annotate(s=Sum("paid_minor")).values_list("order_id", "s"))
    assert all(sums[o.pk] == o.payable_minor for o in Order.objects.all())
    assert OrderEvent.objects.filter(kind="status_changed").count() > 60
