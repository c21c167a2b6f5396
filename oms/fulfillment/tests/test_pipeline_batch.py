"""The pipeline's allocation-and-courier transaction: recorded as planned when the reservations grant what
the plan expected, recorded again from what was granted when someone took the stock in between."""

from __future__ import annotations

from typing import Any

import pytest

from oms.audit.models import OperationLog
from oms.fulfillment.models import AllocationDecision, Stockout
from oms.fulfillment.services import pipeline
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.tests.test_concurrency_pg import run_threads
from oms.inventory.services.reservations import WarehouseReserveRequest, warehouse_reserve
from oms.inventory.services.verify import stock_verify
from oms.orders.models import Order, OrderEvent
from oms.testing.fulfillment import World, active_reservations


def _kinds(order: Order) -> list[str]:
    """The order's timeline events the pipeline writes (intake wrote its own before)."""
    events = OrderEvent.objects.filter(order=order)
    kinds = events.filter(kind__in=["reviewed", "warehouse_allocated", "courier_assigned"]).values_list("kind")
    to_dispatch = events.filter(kind="status_changed", to_status="pending_dispatch").values_list("kind")
    return sorted(k for (k,) in [*kinds, *to_dispatch])


def test_stock_taken_after_planning_is_recorded_as_granted_not_as_planned(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.receive(world.hz, "TEA-001", 3)
    first = world.order([("TEA-001", 2)])
    second = world.order([("TEA-001", 1)])
    real_plans = pipeline.allocation_plans

    def plans_then_someone_takes_two(**kwargs: Any) -> Any:
        plans = real_plans(**kwargs)
        assert plans.expected_short == {}  # three units for three: the plan expects no shortfall
        sku = world.skus["TEA-001"].pk
        warehouse_reserve(requests=[WarehouseReserveRequest("someone", 1, world.hz.pk, sku, 2)])
        return plans

    monkeypatch.setattr(pipeline, "allocation_plans", plans_then_someone_takes_two)
    summary = orders_advance(orders=[first, second], actor=world.actor)

    assert (summary.allocated, summary.short, summary.couriers) == (2, 2, 0)
    first.refresh_from_db()
    second.refresh_from_db()
    for order in (first, second):
        assert order.status == "pending_review" and order.final_warehouse_id == world.hz.pk
        assert order.has_short_lines and order.courier_id is None
        # Once each: what the optimistic attempt wrote was undone with it.
        assert list(AllocationDecision.objects.filter(order=order).values_list("kind", flat=True)) == ["warehouse"]
        assert _kinds(order) == ["reviewed", "warehouse_allocated"]
        actions = OperationLog.objects.filter(object_type="orders.order", object_id=str(order.pk))
        pipeline_actions = actions.filter(action__in=["order.review", "order.allocate", "order.assign_courier"])
        assert sorted(pipeline_actions.values_list("action", flat=True)) == ["order.allocate", "order.review"]
        assert not actions.filter(action="order.transition", after__status="pending_dispatch").exists()
    assert {s.order_id: s.quantity for s in Stockout.objects.filter(state="open")} == {first.pk: 1, second.pk: 1}
    assert active_reservations(first, "warehouse") == {(world.hz.pk, "TEA-001"): 1}
    assert active_reservations(second, "warehouse") == {}
    assert world.reserved(world.hz, "TEA-001") == 3 == world.on_hand(world.hz, "TEA-001")
    assert stock_verify().drift == []


def test_granted_as_planned_writes_each_order_once_with_warehouse_courier_and_status(world: World) -> None:
    world.receive(world.hz, "TEA-001", 5)
    orders = [world.order([("TEA-001", 1)]) for _ in range(3)]
    summary = orders_advance(orders=orders, actor=world.actor)
    assert (summary.allocated, summary.short, summary.couriers) == (3, 0, 3)
    for order in orders:
        order.refresh_from_db()
        assert order.status == "pending_dispatch" and order.final_warehouse_id == world.hz.pk
        assert order.courier_id is not None and not order.has_short_lines
        kinds = sorted(AllocationDecision.objects.filter(order=order).values_list("kind", flat=True))
        assert kinds == ["courier", "warehouse"]
        assert _kinds(order) == ["courier_assigned", "reviewed", "status_changed", "warehouse_allocated"]
    assert world.reserved(world.hz, "TEA-001") == 3
    assert stock_verify().drift == []


@pytest.mark.postgres
def test_racing_batches_record_each_order_once_and_never_oversell(transactional_db: Any, world: World) -> None:
    """Two batches plan on the same unlocked figures and race for the shelf: whichever reserves second finds
    less than planned, falls back, and still records every order once, exactly as granted."""
    world.receive(world.hz, "TEA-001", 9)
    world.receive(world.gz, "TEA-001", 4)
    orders = [world.order([("TEA-001", 2)]) for _ in range(12)]  # 24 units wanted, 13 on the shelves
    batches = [orders[0::2], orders[1::2]]
    errors = run_threads([lambda b=b: orders_advance(orders=b, actor="system") for b in batches])  # type: ignore[misc]
    assert errors == []
    short = dict(Stockout.objects.filter(state="open").values_list("order_id", "quantity"))
    reserved = 0
    for order in orders:
        order.refresh_from_db()
        units = sum(active_reservations(order, "warehouse").values())
        reserved += units
        assert units + short.get(order.pk, 0) == 2
        assert list(AllocationDecision.objects.filter(order=order, kind="warehouse").values_list("order_id")) == [
            (order.pk,)
        ]
        if order.pk in short:
            assert order.status == "pending_review" and order.has_short_lines and order.courier_id is None
            assert _kinds(order) == ["reviewed", "warehouse_allocated"]
        else:
            assert order.status == "pending_dispatch" and order.courier_id is not None
            assert _kinds(order) == ["courier_assigned", "reviewed", "status_changed", "warehouse_allocated"]
    assert reserved == 13 and sum(short.values()) == 11
    assert world.reserved(world.hz, "TEA-001") == 9 and world.reserved(world.gz, "TEA-001") == 4
    assert stock_verify().drift == []
