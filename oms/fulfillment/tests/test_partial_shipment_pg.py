"""PostgreSQL, real threads: parcels of one order racing each other never ship more than was ordered, and
the same parcel reported at once under several event ids ships once."""

from __future__ import annotations

from typing import Any

import pytest

from oms.core.errors import Conflict
from oms.fulfillment.models import Parcel, Shipment
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.services.wms import wms_callback_receive
from oms.fulfillment.tests.test_concurrency_pg import run_threads
from oms.inventory.services.verify import stock_verify
from oms.orders.models import Order
from oms.testing.fulfillment import World, signed_callback

pytestmark = pytest.mark.postgres


def _dispatched(world: World, quantity: int) -> tuple[Order, Shipment]:
    world.receive(world.hz, "TEA-001", 10)
    order = world.order([("TEA-001", quantity)])
    orders_advance(orders=[order], actor="system", dispatch=True)
    return order, Shipment.objects.get(order=order)


def _sender(body: dict[str, Any], results: list[str]) -> Any:
    def send() -> None:
        raw, headers = signed_callback(body)
        try:
            results.append(wms_callback_receive(warehouse_code="HZ01", headers=headers, body=raw).outcome)
        except Conflict as exc:
            results.append(exc.code)

    return send


def test_racing_parcels_never_ship_more_than_ordered(transactional_db: Any, world: World) -> None:
    order, shipment = _dispatched(world, 3)
    results: list[str] = []
    senders = [
        _sender(
            {
                "type": "shipped",
                "shipment": shipment.number,
                "tracking_number": f"ZT-RACE-{i}",
                "lines": [{"sku": "TEA-001", "quantity": 2}],
            },
            results,
        )
        for i in range(3)
    ]
    assert run_threads(senders) == []
    assert sorted(results) == ["applied", "over_shipment", "over_shipment"]
    assert Order.objects.get(pk=order.pk).status == "partially_shipped"
    assert Parcel.objects.filter(order=order).count() == 1
    assert world.on_hand(world.hz, "TEA-001") == 8 and world.reserved(world.hz, "TEA-001") == 1
    assert stock_verify().drift == []


def test_the_same_parcel_under_new_event_ids_at_once_ships_once(transactional_db: Any, world: World) -> None:
    order, shipment = _dispatched(world, 3)
    results: list[str] = []
    body = {
        "type": "shipped",
        "shipment": shipment.number,
        "tracking_number": "ZT-SAME",
        "lines": [{"sku": "TEA-001", "quantity": 1}],
    }
    assert run_threads([_sender(body, results) for _ in range(3)]) == []
    assert sorted(results) == ["applied", "ignored", "ignored"]
    assert Parcel.objects.filter(order=order).count() == 1
    assert world.on_hand(world.hz, "TEA-001") == 9 and world.reserved(world.hz, "TEA-001") == 2
    assert stock_verify().drift == []
