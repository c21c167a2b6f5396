"""Allocation and WMS callbacks open their own transactions, so a deadlock PostgreSQL breaks there is retried
from the start (`retry_on_deadlock`): the caller sees the result, never the abort, and nothing is done twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError

from oms.core import db_retry
from oms.fulfillment.models import AllocationDecision, Shipment
from oms.fulfillment.services import allocation, wms
from oms.fulfillment.services.allocation import order_allocate
from oms.fulfillment.services.pipeline import orders_advance
from oms.inventory.services.verify import stock_verify
from oms.review.services import order_review
from oms.testing.fulfillment import World, active_reservations


class _Deadlock(Exception):
    sqlstate = "40P01"


def _deadlock() -> OperationalError:
    try:
        raise OperationalError("deadlock detected") from _Deadlock()
    except OperationalError as exc:
        return exc


def _fail_first(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Make ``module.name`` abort with a deadlock on its first call (after doing its work), then behave."""
    real = getattr(module, name)
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        out = real(*args, **kwargs)
        if len(calls) == 1:
            raise _deadlock()
        return out

    monkeypatch.setattr(module, name, flaky)
    monkeypatch.setattr(db_retry.time, "sleep", lambda _s: None)
    return calls


def test_manual_allocation_is_run_again_after_a_deadlock(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.receive(world.hz, "TEA-001", 5)
    order = world.order([("TEA-001", 2)])
    order_review(order=order, actor=world.actor)
    calls = _fail_first(monkeypatch, allocation, "allocate_locked")
    result = order_allocate(order=order, actor=world.actor)
    assert len(calls) == 2 and result.order.final_warehouse_id == world.hz.pk
    # The first run's reservations and decision were rolled back with it: one of each.
    assert active_reservations(order, "warehouse") == {(world.hz.pk, "TEA-001"): 2}
    assert AllocationDecision.objects.filter(order=order).count() == 1
    assert stock_verify().drift == []


def test_a_wms_callback_is_applied_once_after_a_deadlock(
    world: World, wms_post: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.receive(world.hz, "TEA-001", 5)
    order = world.order([("TEA-001", 1)])
    orders_advance(orders=[order], actor=world.actor, dispatch=True)
    shipment = Shipment.objects.get(order=order)
    calls = _fail_first(monkeypatch, wms, "_accepted")
    raw, headers = wms_post({"type": "accepted", "shipment": shipment.number}, event_id="acc-1")
    result = wms.wms_callback_receive(warehouse_code="HZ01", headers=headers, body=raw)
    assert len(calls) == 2 and (result.outcome, result.order_status) == ("applied", "pending_shipment")
    assert wms.WmsCallback.objects.filter(event_id="acc-1").count() == 1
