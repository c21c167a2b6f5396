"""End to end, on SQLite and PostgreSQL: intake → payment → review → allocation → courier → dispatch →
WMS accepted → shipped → signed, checking stock and reservations at every step."""

from __future__ import annotations

from typing import Any

from oms.audit.models import OperationLog
from oms.fulfillment.models import AllocationDecision, Shipment, ShipmentState, WmsCallback
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.services.wms import wms_callback_receive
from oms.inventory.services.verify import stock_verify
from oms.orders.models import Order
from oms.outbox.models import OutboxMessage, WebhookEndpoint
from oms.review.models import Interception
from oms.review.services import interceptions_release
from oms.testing.fulfillment import World, active_reservations, consumed


def _callback(world: World, wms_post: Any, body: dict[str, Any], event_id: str | None = None) -> Any:
    raw, headers = wms_post(body, event_id=event_id)
    return wms_callback_receive(warehouse_code="HZ01", headers=headers, body=raw)


def _no_drift() -> None:
    report = stock_verify()
    assert report.drift == []


def test_paid_order_flows_to_signed_with_stock_exact_at_every_step(world: World, wms_post: Any) -> None:
    WebhookEndpoint.objects.create(
        name="wms+platforms", url="http://127.0.0.1:9/hook", secret="s" * 32, topics=["wms.*", "platform.*", "order.*"]
    )
    world.receive(world.hz, "TEA-001", 10)
    world.receive(world.hz, "NUT-002", 5)
    world.receive(world.gz, "TEA-001", 3)

    # Intake + payment: a channel sales reservation (销售预占) per line, nothing on a shelf yet.
    order = world.order([("TEA-001", 2), ("NUT-002", 1)])
    assert order.status == "pending_review" and order.payment_status == "paid"
    assert world.channel_stock("TEA-001").sales_reserved == 2
    assert active_reservations(order, "warehouse") == {}
    assert world.reserved(world.hz, "TEA-001") == 0

    # Review → allocation → courier, then dispatch: HZ01 (it covers Zhejiang and is nearest), the cheapest courier.
    summary = orders_advance(orders=[order], actor=world.actor, dispatch=True)
    assert (summary.reviewed, summary.allocated, summary.couriers, summary.dispatched) == (1, 1, 1, 1)
    order.refresh_from_db()
    assert order.status == "pending_dispatch"
    assert order.reviewed_at is not None
    assert order.warehouse_id == order.final_warehouse_id == world.hz.pk
    assert order.courier_id == world.zto.pk  # 1.4 kg: ZTO 8.00 against SF 16.00
    assert active_reservations(order, "warehouse") == {(world.hz.pk, "TEA-001"): 2, (world.hz.pk, "NUT-002"): 1}
    assert world.reserved(world.hz, "TEA-001") == 2 and world.reserved(world.hz, "NUT-002") == 1
    assert world.reserved(world.gz, "TEA-001") == 0
    assert world.channel_stock("TEA-001").sales_reserved == 2
    logged = set(
        OperationLog.objects.filter(object_type="orders.order", object_id=str(order.pk)).values_list(
            "action", flat=True
        )
    )
    assert {"order.review", "order.allocate", "order.assign_courier", "order.transition", "order.dispatch"} <= logged
    decisions = {d.kind: d for d in AllocationDecision.objects.filter(order=order)}
    assert decisions["warehouse"].outcome == "single" and "HZ01" in decisions["warehouse"].reason
    assert decisions["courier"].courier_id == world.zto.pk and decisions["courier"].cost_minor == 800
    shipment = Shipment.objects.get(order=order)
    assert shipment.state == "sent" and shipment.subsidiary.code == "EAST"
    doc = OutboxMessage.objects.get(topic="wms.dispatch.HZ01")
    assert doc.payload["shipment"] == shipment.number
    assert {(ln["sku"], ln["quantity"]) for ln in doc.payload["lines"]} == {("TEA-001", 2), ("NUT-002", 1)}
    _no_drift()

    # WMS accepted → 待发货; stock unchanged.
    result = _callback(world, wms_post, {"type": "accepted", "shipment": shipment.number})
    assert result.outcome == "applied" and result.order_status == "pending_shipment"
    assert world.on_hand(world.hz, "TEA-001") == 10 and world.reserved(world.hz, "TEA-001") == 2

    # Shipped → 已发货: reservations consumed, on-hand and quota down, channel reservation gone.
    quota_before = world.channel_stock("TEA-001").quota
    result = _callback(
        world,
        wms_post,
        {
            "type": "shipped",
            "shipment": shipment.number,
            "tracking_number": "ZT0000000001",
            "weight_g": 1450,
            "lines": [{"sku": "TEA-001", "quantity": 2}, {"sku": "NUT-002", "quantity": 1}],
        },
        event_id="ship-1",
    )
    assert result.outcome == "applied"
    order.refresh_from_db()
    assert order.status == "shipped" and order.tracking_number == "ZT0000000001"
    assert world.on_hand(world.hz, "TEA-001") == 8 and world.reserved(world.hz, "TEA-001") == 0
    assert world.on_hand(world.hz, "NUT-002") == 4 and world.reserved(world.hz, "NUT-002") == 0
    assert active_reservations(order, "warehouse") == {} and active_reservations(order, "channel") == {}
    assert consumed(order) == 3
    assert world.channel_stock("TEA-001").sales_reserved == 0
    assert world.channel_stock("TEA-001").quota == quota_before - 2
    tracking = OutboxMessage.objects.get(topic="platform.tracking.tmall")
    assert tracking.payload["platform_order_id"] == order.platform_order_id
    assert tracking.payload["tracking_number"] == "ZT0000000001"
    shipment.refresh_from_db()
    assert shipment.state == ShipmentState.SHIPPED and shipment.weight_g == 1450
    _no_drift()

    # The same callback again: the first answer, no second consumption.
    again = _callback(
        world, wms_post, {"type": "shipped", "shipment": shipment.number, "tracking_number": "ZT0000000001"}, "ship-1"
    )
    assert again.outcome == "duplicate"
    assert world.on_hand(world.hz, "TEA-001") == 8
    assert WmsCallback.objects.filter(event_id="ship-1").count() == 1

    # Signed → 已签收.
    result = _callback(world, wms_post, {"type": "signed", "shipment": shipment.number})
    assert result.order_status == "signed"
    assert list(order.events.filter(kind="status_changed").values_list("to_status", flat=True)) == [
        "pending_review",
        "pending_dispatch",
        "pending_shipment",
        "shipped",
        "signed",
    ]
    _no_drift()


def test_intercepted_order_waits_and_flows_on_after_release(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "CUP-003", 4)
    order = world.order([("CUP-003", 1)], buyer_remark="请发顺丰，谢谢")

    summary = orders_advance(orders=[order], actor=world.actor)
    order.refresh_from_db()
    assert summary.held == 1 and summary.allocated == 0
    assert order.reviewed_at is None and order.final_warehouse_id is None
    assert world.reserved(world.hz, "CUP-003") == 0  # held orders take no shelf stock

    hold = Interception.objects.get(order=order, state="open")
    interceptions_release(interception_ids=[hold.pk], actor=world.actor, note="备注已处理")
    orders_advance(orders=[order], actor=world.actor, dispatch=True)
    order.refresh_from_db()
    assert order.status == "pending_dispatch" and order.final_warehouse_id == world.hz.pk
    # The remark asks for 顺丰: the keyword beats the cheaper courier.
    assert order.courier_id == world.sf.pk
    assert world.reserved(world.hz, "CUP-003") == 1
    shipment = Shipment.objects.get(order=order)

    _callback(world, wms_post, {"type": "accepted", "shipment": shipment.number})
    _callback(world, wms_post, {"type": "shipped", "shipment": shipment.number, "tracking_number": "SF100"})
    result = _callback(world, wms_post, {"type": "rejected", "shipment": shipment.number, "reason": "收件人拒收"})
    assert result.order_status == "rejected"
    assert world.on_hand(world.hz, "CUP-003") == 3 and world.reserved(world.hz, "CUP-003") == 0
    assert Order.objects.get(pk=order.pk).status == "rejected"
