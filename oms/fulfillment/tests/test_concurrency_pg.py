"""PostgreSQL, real threads: pipelines racing for the same scarce SKU never reserve a unit twice, and what
cannot be reserved becomes stockouts; racing WMS callbacks for the same event apply once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from oms.fulfillment.models import Shipment, Stockout, WmsCallback
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.services.wms import wms_callback_receive
from oms.inventory.models import Reservation
from oms.inventory.services.verify import stock_verify
from oms.testing.fulfillment import World, signed_callback

pytestmark = pytest.mark.postgres


def run_threads(targets: list[Callable[[], Any]]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def wrap(fn: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            fn()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_racing_pipelines_never_oversell_a_hot_sku(transactional_db: Any, world: World) -> None:
    world.receive(world.hz, "TEA-001", 7)
    world.receive(world.gz, "TEA-001", 5)
    orders = [world.order([("TEA-001", 2)]) for _ in range(10)]  # 20 units wanted, 12 on the shelves
    halves = [orders[0::2], orders[1::2]]
    errors = run_threads([lambda h=h: orders_advance(orders=h, actor="system") for h in halves])  # type: ignore[misc]
    assert errors == []
    reserved = sum(
        Reservation.objects.filter(ref_type="order_line", scope="warehouse", state="active").values_list(
            "quantity", flat=True
        )
    )
    short = sum(Stockout.objects.filter(state="open").values_list("quantity", flat=True))
    assert reserved == 12 and short == 8
    assert world.reserved(world.hz, "TEA-001") <= world.on_hand(world.hz, "TEA-001")
    assert world.reserved(world.gz, "TEA-001") <= world.on_hand(world.gz, "TEA-001")
    report = stock_verify()
    assert report.drift == []


def test_the_same_shipped_callback_twice_at_once_consumes_once(transactional_db: Any, world: World) -> None:
    world.receive(world.hz, "TEA-001", 5)
    order = world.order([("TEA-001", 2)])
    orders_advance(orders=[order], actor="system", dispatch=True)
    shipment = Shipment.objects.get(order=order)
    raw, headers = signed_callback(
        {"type": "shipped", "shipment": shipment.number, "tracking_number": "ZT77"}, event_id="same-event"
    )
    results: list[str] = []

    def send() -> None:
        results.append(wms_callback_receive(warehouse_code="HZ01", headers=headers, body=raw).outcome)

    errors = run_threads([send, send, send])
    assert errors == []
    assert sorted(results) == ["applied", "duplicate", "duplicate"]
    assert world.on_hand(world.hz, "TEA-001") == 3
    assert WmsCallback.objects.count() == 1
