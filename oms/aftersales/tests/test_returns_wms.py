"""Goods coming back reported by the warehouse: a refused delivery (拒收) opens its case by itself, and signed WMS
callbacks report the return's receipt and inspection — once per event, the goods into stock without drift."""

from __future__ import annotations

from typing import Any

import pytest

from oms.aftersales.domain import states
from oms.aftersales.models import Case
from oms.core.errors import ValidationFailed
from oms.fulfillment.models import Shipment
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.services.wms import wms_callback_receive
from oms.inventory.models import StockDocument, StockItem
from oms.inventory.services.verify import stock_verify
from oms.orders.models import Order, Payment
from oms.testing.fulfillment import World, review_buffer_off


@pytest.fixture(autouse=True)
def _no_buffer(settings: Any) -> None:
    review_buffer_off(settings)


def _callback(wms_post: Any, body: dict[str, Any], event_id: str | None = None) -> Any:
    raw, headers = wms_post(body, event_id=event_id)
    return wms_callback_receive(warehouse_code="HZ01", headers=headers, body=raw)


def _shipped(world: World, wms_post: Any) -> tuple[Order, Shipment]:
    world.receive(world.hz, "TEA-001", 10)
    world.receive(world.hz, "NUT-002", 5)
    order = world.order([("TEA-001", 3), ("NUT-002", 1)])
    orders_advance(orders=[order], actor=world.actor, dispatch=True)
    shipment = Shipment.objects.get(order=order)
    _callback(wms_post, {"type": "accepted", "shipment": shipment.number})
    _callback(wms_post, {"type": "shipped", "shipment": shipment.number, "tracking_number": "ZT-1"})
    order.refresh_from_db()
    assert order.status == "shipped"
    return order, shipment


def test_a_refused_delivery_comes_back_through_signed_wms_callbacks(world: World, wms_post: Any) -> None:
    order, shipment = _shipped(world, wms_post)
    tea_before = world.on_hand(world.hz, "TEA-001")
    _callback(wms_post, {"type": "rejected", "shipment": shipment.number, "reason": "收件人拒收"})
    case = Case.objects.get(order=order)
    assert (case.kind, case.status, case.reason_code, case.warehouse_id) == (
        states.REJECTED,
        states.AWAITING_RETURN,
        "rejected",
        world.hz.pk,
    )
    assert sorted(case.lines.values_list("line__line_no", "quantity")) == [(1, 3), (2, 1)]
    # The same rejection again under a new event id: ignored, no second case.
    assert _callback(wms_post, {"type": "rejected", "shipment": shipment.number}).outcome == "ignored"
    assert Case.objects.count() == 1

    body = {"type": "returned", "shipment": shipment.number, "case": case.number, "lines": {"1": 3, "2": 1}}
    assert _callback(wms_post, body, event_id="R-1").outcome == "applied"
    assert _callback(wms_post, body, event_id="R-1").outcome == "duplicate"  # a repeat changes nothing
    case.refresh_from_db()
    assert case.status == states.RECEIVED and sorted(case.lines.values_list("received_quantity", flat=True)) == [1, 3]

    inspected = {"type": "inspected", "shipment": shipment.number, "good": {"1": 3}, "defective": {"2": 1}}
    assert _callback(wms_post, inspected, event_id="I-1").outcome == "applied"
    assert _callback(wms_post, inspected, event_id="I-1").outcome == "duplicate"
    case.refresh_from_db()
    assert case.status == states.REFUNDING and case.refund_minor == 4000  # everything back: all 40.00
    assert StockDocument.objects.filter(pk=case.receipt_document_id).count() == 1
    assert world.on_hand(world.hz, "TEA-001") == tea_before + 3
    assert StockItem.objects.get(warehouse=world.hz, sku__code="NUT-002").defective == 1
    assert Payment.objects.get(order=order, kind="payment").refund_due_minor == 4000
    assert stock_verify().drift == []


def test_a_refused_parcel_opens_a_case_for_its_units(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "TEA-001", 10)
    order = world.order([("TEA-001", 3)])
    orders_advance(orders=[order], actor=world.actor, dispatch=True)
    shipment = Shipment.objects.get(order=order)
    _callback(wms_post, {"type": "accepted", "shipment": shipment.number})
    ship = {"type": "shipped", "shipment": shipment.number, "tracking_number": "ZT-P1"}
    _callback(wms_post, {**ship, "lines": [{"sku": "TEA-001", "quantity": 2}]})
    _callback(wms_post, {"type": "rejected", "shipment": shipment.number, "tracking_number": "ZT-P1", "reason": "破损"})
    case = Case.objects.get(order=order)
    assert case.status == states.AWAITING_RETURN and list(case.lines.values_list("quantity", flat=True)) == [2]
    # A return callback that names no case and cannot tell which: refused naming the field, nothing taken.
    with pytest.raises(ValidationFailed) as caught:
        _callback(wms_post, {"type": "returned", "shipment": shipment.number, "case": "AS-NOPE", "lines": {"1": 2}})
    assert caught.value.details[0].field == "case"
    assert (
        _callback(wms_post, {"type": "returned", "shipment": shipment.number, "lines": {"1": 2}}).outcome == "applied"
    )
    case.refresh_from_db()
    assert case.status == states.RECEIVED
