"""Fulfilment reads pin their query counts: a fixed number however many rows there are."""

from __future__ import annotations

from typing import Any

from oms.fulfillment.selectors import order_fulfilment, shipment_list, stockout_list, stockouts_by_sku
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.services.transfer import order_warehouse_transfer
from oms.testing.fulfillment import World


def test_reads_take_a_fixed_number_of_queries(world: World, django_assert_num_queries: Any) -> None:
    world.receive(world.hz, "TEA-001", 10)
    world.receive(world.gz, "TEA-001", 10)
    orders = [world.order([("TEA-001", 1), ("CUP-003", 1)]) for _ in range(3)]
    orders_advance(orders=orders, actor=world.actor, dispatch=True)
    order_warehouse_transfer(order=orders[0], to_warehouse="GZ01", actor=world.actor, reason="盘点", allow_short=True)

    with django_assert_num_queries(5):
        data = order_fulfilment(order=orders[0])
        assert data["parcels"] == []
        assert [d.kind for d in data["decisions"]] == ["warehouse", "transfer"]
        assert [t.to_warehouse.code for t in data["transfers"]] == ["GZ01"]
        assert [s.sku.code for s in data["stockouts"]] == ["CUP-003", "CUP-003"]
    with django_assert_num_queries(1):
        rows = list(stockout_list())
        assert {(r.order.number, r.sku.code, r.warehouse.code) for r in rows} == {
            (orders[0].number, "CUP-003", "GZ01"),
            (orders[1].number, "CUP-003", "HZ01"),
            (orders[2].number, "CUP-003", "HZ01"),
        }
    with django_assert_num_queries(1):
        assert [(r["sku__code"], r["warehouse__code"], r["units"], r["orders"]) for r in stockouts_by_sku()] == [
            ("CUP-003", "HZ01", 2, 2),
            ("CUP-003", "GZ01", 1, 1),
        ]
    with django_assert_num_queries(1):
        assert [s.order.number for s in shipment_list()] == []
