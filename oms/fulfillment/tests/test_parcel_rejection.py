"""Rejection (拒收) per parcel, on SQLite and PostgreSQL: a parcel the recipient refused is recorded (timeline,
operation log, ``order.parcel_rejected`` for after-sales) even while others are on the way; the order closes
已签收 when any parcel was signed for and 已拒收 when every parcel came back; a parcel is signed for or
rejected, never both; replays and unknown parcels change nothing; a whole-order rejection marks the rest."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from oms.audit.models import OperationLog
from oms.core.errors import Conflict, NotFound
from oms.fulfillment.models import Parcel, Shipment, ShipmentState
from oms.fulfillment.services.parcels import order_remainder_cancel
from oms.fulfillment.tests.test_partial_shipment import _accepted_order, _callback, _no_drift
from oms.orders.models import Order
from oms.outbox.models import OutboxMessage
from oms.testing.fulfillment import World


def _ship(world: World, wms_post: Any, shipment: Shipment, tracking: str, teas: int = 0) -> str:
    """Ship a parcel: ``teas`` units of TEA-001, or (0) everything left."""
    body: dict[str, Any] = {"type": "shipped", "shipment": shipment.number, "tracking_number": tracking}
    if teas:
        body["lines"] = [{"sku": "TEA-001", "quantity": teas}]
    return str(_callback(world, wms_post, body).order_status)


def _settle(world: World, wms_post: Any, shipment: Shipment, kind: str, tracking: str = "", reason: str = "") -> Any:
    body = {"type": kind, "shipment": shipment.number}
    if tracking:
        body["tracking_number"] = tracking
    if reason:
        body["reason"] = reason
    return _callback(world, wms_post, body)


def _state(order: Order) -> tuple[Any, ...]:
    """What a refused or ignored callback must leave alone."""
    return (
        Order.objects.get(pk=order.pk).status,
        sorted(Parcel.objects.filter(order=order).values_list("tracking_number", "signed_at", "rejected_at")),
        order.events.count(),
        OutboxMessage.objects.count(),
        OperationLog.objects.count(),
    )


def test_a_parcel_is_rejected_while_another_is_still_on_the_way(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "TEA-001", 10)
    world.receive(world.hz, "NUT-002", 5)
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 3), ("NUT-002", 1)])
    assert _ship(world, wms_post, shipment, "ZT-R1", teas=2) == "partially_shipped"

    result = _settle(world, wms_post, shipment, "rejected", "ZT-R1", "外箱破损")
    assert (result.outcome, result.order_status) == ("applied", "partially_shipped")
    parcel = Parcel.objects.get(shipment=shipment, tracking_number="ZT-R1")
    assert parcel.rejected_at is not None and parcel.rejected_reason == "外箱破损" and parcel.signed_at is None
    event = order.events.get(kind="parcel_rejected")
    assert event.data["tracking_number"] == "ZT-R1" and event.data["reason"] == "外箱破损"
    log = OperationLog.objects.get(action="parcel.rejected", object_id=str(order.pk))
    assert log.after["tracking_number"] == "ZT-R1"
    message = OutboxMessage.objects.get(topic="order.parcel_rejected")
    assert {k: message.payload[k] for k in ("order", "shipment", "tracking_number", "reason", "units", "lines")} == {
        "order": order.number,
        "shipment": shipment.number,
        "tracking_number": "ZT-R1",
        "reason": "外箱破损",
        "units": 2,
        "lines": [{"line": 1, "sku": "TEA-001", "quantity": 2}],
    }
    shipment.refresh_from_db()
    assert shipment.state == ShipmentState.PARTIAL

    # Replayed under a new event id: ignored. Unknown parcel: 404. Signing the rejected parcel: 409.
    before = _state(order)
    assert _settle(world, wms_post, shipment, "rejected", "ZT-R1", "外箱破损").outcome == "ignored"
    with pytest.raises(NotFound) as missing:
        _settle(world, wms_post, shipment, "rejected", "ZT-NOPE")
    assert missing.value.code == "unknown_parcel"
    with pytest.raises(Conflict) as refused:
        _settle(world, wms_post, shipment, "signed", "ZT-R1")
    assert refused.value.code == "parcel_rejected"
    assert _state(order) == before

    # The rest ships and is signed for: one parcel signed, one rejected → 已签收, the rejection kept.
    assert _ship(world, wms_post, shipment, "ZT-R2") == "shipped"
    assert _settle(world, wms_post, shipment, "signed", "ZT-R2").order_status == "signed"
    shipment.refresh_from_db()
    assert shipment.state == ShipmentState.SIGNED
    parcel.refresh_from_db()
    assert parcel.rejected_reason == "外箱破损" and parcel.signed_at is None
    closed = OutboxMessage.objects.get(topic="order.signed").payload
    assert closed["parcels"] == [
        {"tracking_number": "ZT-R1", "state": "rejected"},
        {"tracking_number": "ZT-R2", "state": "signed"},
    ]
    assert not OutboxMessage.objects.filter(topic="order.rejected").exists()
    _no_drift()


def test_every_parcel_rejected_closes_the_order_rejected(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "TEA-001", 10)
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 2)])
    _ship(world, wms_post, shipment, "YT-1", teas=1)
    assert _ship(world, wms_post, shipment, "YT-2") == "shipped"
    assert _settle(world, wms_post, shipment, "rejected", "YT-1", "买家拒收").order_status == "shipped"
    result = _settle(world, wms_post, shipment, "rejected", "YT-2", "地址错误")
    assert (result.outcome, result.order_status) == ("applied", "rejected")
    shipment.refresh_from_db()
    assert shipment.state == ShipmentState.REJECTED and shipment.closed_at is not None
    assert OutboxMessage.objects.filter(topic="order.parcel_rejected").count() == 2
    closed = OutboxMessage.objects.get(topic="order.rejected").payload
    assert closed["reason"] == "买家拒收; 地址错误"
    assert [p["state"] for p in closed["parcels"]] == ["rejected", "rejected"]
    assert not OutboxMessage.objects.filter(topic="order.signed").exists()
    assert list(order.events.filter(kind="status_changed").values_list("to_status", flat=True))[-1] == "rejected"
    # Replays after the close change nothing.
    before = _state(order)
    assert _settle(world, wms_post, shipment, "rejected", "YT-2", "地址错误").outcome == "ignored"
    assert _settle(world, wms_post, shipment, "rejected").outcome == "ignored"
    assert _state(order) == before


def test_a_signed_parcel_cannot_be_rejected(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "TEA-001", 10)
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 2)])
    _ship(world, wms_post, shipment, "SF-1", teas=1)
    _settle(world, wms_post, shipment, "signed", "SF-1")
    before = _state(order)
    with pytest.raises(Conflict) as refused:
        _settle(world, wms_post, shipment, "rejected", "SF-1", "不要了")
    assert refused.value.code == "parcel_signed"
    assert _state(order) == before
    assert Parcel.objects.get(tracking_number="SF-1").rejected_at is None


def test_a_parcel_is_never_both_signed_and_rejected_in_the_database(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "TEA-001", 10)
    _order, shipment = _accepted_order(world, wms_post, [("TEA-001", 1)])
    _ship(world, wms_post, shipment, "SF-DB")
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Parcel.objects.filter(tracking_number="SF-DB").update(signed_at=now, rejected_at=now)


def test_a_whole_order_rejection_marks_every_parcel_not_yet_settled(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "TEA-001", 10)
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 3)])
    _ship(world, wms_post, shipment, "W-1", teas=1)
    _ship(world, wms_post, shipment, "W-2", teas=1)
    _ship(world, wms_post, shipment, "W-3")
    _settle(world, wms_post, shipment, "rejected", "W-1", "破损")
    _settle(world, wms_post, shipment, "signed", "W-2")
    result = _settle(world, wms_post, shipment, "rejected", reason="收件人拒收")
    assert (result.outcome, result.order_status) == ("applied", "rejected")
    parcels = {p.tracking_number: p for p in Parcel.objects.filter(order=order)}
    assert parcels["W-1"].rejected_reason == "破损"
    assert parcels["W-2"].signed_at is not None and parcels["W-2"].rejected_at is None
    assert parcels["W-3"].rejected_at is not None and parcels["W-3"].rejected_reason == "收件人拒收"
    assert OutboxMessage.objects.get(topic="order.rejected").payload["reason"] == "收件人拒收"
    _no_drift()


def test_cancelling_the_rest_after_every_shipped_parcel_was_rejected_rejects_the_order(
    world: World, wms_post: Any
) -> None:
    world.receive(world.hz, "TEA-001", 10)
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 3)])
    _ship(world, wms_post, shipment, "SF-X1", teas=1)
    _settle(world, wms_post, shipment, "rejected", "SF-X1", "拒收")
    outcome = order_remainder_cancel(order=order, actor=world.actor, reason="缺货不发了")
    assert (outcome["closed"], outcome["signed"]) == ("rejected", False)
    assert Order.objects.get(pk=order.pk).status == "rejected"
    assert OutboxMessage.objects.filter(topic="order.rejected").count() == 1
    _no_drift()


def test_rejection_through_the_callback_api_is_shown_in_the_api_and_console(
    client: Any, api_client: Any, make_operator: Any, world: World, wms_post: Any
) -> None:
    world.receive(world.hz, "TEA-001", 10)
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 2)])
    _ship(world, wms_post, shipment, "ZT-A1", teas=1)
    _ship(world, wms_post, shipment, "ZT-A2")

    def post(body: dict[str, Any]) -> Any:
        raw, headers = wms_post({"shipment": shipment.number, **body})
        return client.post(
            "/api/v1/fulfillment/wms/HZ01/callbacks", data=raw, content_type="application/json", headers=headers
        )

    r = post({"type": "rejected", "tracking_number": "ZT-A1", "reason": "包装破损"})
    assert r.status_code == 200 and r.json()["result"] == "applied", r.content
    r = post({"type": "rejected", "tracking_number": "ZT-404"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_parcel"
    r = post({"type": "signed", "tracking_number": "ZT-A1"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "parcel_rejected"
    assert post({"type": "signed", "tracking_number": "ZT-A2"}).json()["order_status"] == "signed"
    r = post({"type": "rejected", "tracking_number": "ZT-A2"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "parcel_signed"

    body = api_client(make_operator("warehouse_coordinator")).get(f"/api/v1/fulfillment/orders/{order.number}").json()
    shown = {p["tracking_number"]: p for p in body["parcels"]}
    assert shown["ZT-A1"]["rejected_reason"] == "包装破损" and shown["ZT-A1"]["rejected_at"] is not None
    assert shown["ZT-A1"]["signed_at"] is None
    assert shown["ZT-A2"]["rejected_at"] is None and shown["ZT-A2"]["rejected_reason"] == ""

    console = Client()
    console.force_login(make_operator("customer_service"))
    panel = console.get(f"/orders/{order.number}/parcels/").content.decode()
    assert panel.count('data-testid="parcel-rejected"') == 2 and "包装破损" in panel
