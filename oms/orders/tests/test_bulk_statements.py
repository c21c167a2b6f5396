"""L3, B1: bulk intake is batched. SQL statements per order stay far under 10 however big the batch."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from oms.channels.models import ChannelStock
from oms.orders.models import Order, OrderLine
from oms.orders.services.intake import order_intake_bulk
from oms.testing.orders import order_payload


def test_statements_per_order_in_bulk(tmall: Any, skus: Any, admin_operator: Any) -> None:
    for sku in skus:
        ChannelStock.objects.create(channel=tmall, sku=sku, quota=10_000)
    payloads = [order_payload(buyer={"platform_buyer_id": f"b{i % 40}"}) for i in range(200)]
    with CaptureQueriesContext(connection) as ctx:
        outcomes = order_intake_bulk(payloads=payloads, actor=admin_operator)
    assert all(o.created for o in outcomes)
    assert Order.objects.count() == 200 and OrderLine.objects.count() == 600
    per_order = len(ctx.captured_queries) / 200
    # One operation-log row per order plus a constant per batch (SQLite splits big inserts at 999 variables).
    assert per_order <= 1.5, per_order


def test_replaying_a_batch_writes_nothing(tmall: Any, skus: Any, admin_operator: Any) -> None:
    payloads = [order_payload() for _ in range(50)]
    order_intake_bulk(payloads=payloads, actor=admin_operator)
    with CaptureQueriesContext(connection) as ctx:
        outcomes = order_intake_bulk(payloads=payloads, actor=admin_operator)
    assert [o.created for o in outcomes] == [False] * 50
    writes = [q for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == [] and len(ctx.captured_queries) <= 6
