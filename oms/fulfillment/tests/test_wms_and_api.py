"""The API: per-action permissions, the pipeline, transfer and stockouts; signed WMS callbacks and their bad
input (tampered, stale, unknown warehouse or shipment, over-shipment, tracking changed, repeats)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from oms.fulfillment.models import Shipment, WmsCallback
from oms.fulfillment.services.pipeline import orders_advance
from oms.orders.models import Order
from oms.testing.fulfillment import World, signed_callback


@pytest.fixture
def dispatched(world: World) -> tuple[Order, Shipment]:
    world.receive(world.hz, "TEA-001", 10)
    order = world.order([("TEA-001", 2)])
    orders_advance(orders=[order], actor=world.actor, dispatch=True)
    order.refresh_from_db()
    return order, Shipment.objects.get(order=order)


def post_callback(client: Any, body: dict[str, Any], *, warehouse: str = "HZ01", **kw: Any) -> Any:
    raw, headers = signed_callback(body, **kw)
    return client.post(
        f"/api/v1/fulfillment/wms/{warehouse}/callbacks",
        data=raw,
        content_type="application/json",
        headers=headers,
    )


def test_wms_callbacks_through_the_api(client: Any, world: World, dispatched: tuple[Order, Shipment]) -> None:
    order, shipment = dispatched
    r = post_callback(client, {"type": "accepted", "shipment": shipment.number}, event_id="e1")
    assert r.status_code == 200, r.content
    assert r.json() == {
        "result": "applied",
        "shipment": shipment.number,
        "order": order.number,
        "order_status": "pending_shipment",
    }
    assert (
        post_callback(client, {"type": "accepted", "shipment": shipment.number}, event_id="e1").json()["result"]
        == "duplicate"
    )
    assert (
        post_callback(client, {"type": "accepted", "shipment": shipment.number}, event_id="e2").json()["result"]
        == "ignored"
    )
    r = post_callback(client, {"type": "shipped", "shipment": shipment.number, "tracking_number": "ZT9"}, event_id="e3")
    assert r.json()["order_status"] == "shipped"
    assert world.on_hand(world.hz, "TEA-001") == 8
    # Same fact, new event id: harmless. Another tracking number for a shipped parcel: refused.
    assert (
        post_callback(client, {"type": "shipped", "shipment": shipment.number, "tracking_number": "ZT9"}).json()[
            "result"
        ]
        == "ignored"
    )
    r = post_callback(client, {"type": "shipped", "shipment": shipment.number, "tracking_number": "ZT10"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "tracking_mismatch"
    assert world.on_hand(world.hz, "TEA-001") == 8
    assert Order.objects.get(pk=order.pk).tracking_number == "ZT9"


def test_bad_signatures_are_refused_and_change_nothing(
    client: Any, world: World, dispatched: tuple[Order, Shipment]
) -> None:
    order, shipment = dispatched
    body = {"type": "accepted", "shipment": shipment.number}
    raw, headers = signed_callback(body)
    tampered = json.dumps({**body, "type": "shipped", "tracking_number": "X"}).encode()
    r = client.post(
        "/api/v1/fulfillment/wms/HZ01/callbacks", data=tampered, content_type="application/json", headers=headers
    )
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_signature"
    r = post_callback(client, body, at=int(time.time()) - 3600)
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_stale"
    r = post_callback(client, body, secret="someone-else's-secret-0000000000")
    assert r.status_code == 401
    r = client.post("/api/v1/fulfillment/wms/HZ01/callbacks", data=raw, content_type="application/json")
    assert r.status_code == 401
    assert Order.objects.get(pk=order.pk).status == "pending_dispatch"
    assert not WmsCallback.objects.exists()


def test_unknown_warehouse_or_shipment_and_wrong_warehouse_are_refused(
    client: Any, world: World, dispatched: tuple[Order, Shipment]
) -> None:
    _order, shipment = dispatched
    assert post_callback(client, {"type": "accepted", "shipment": shipment.number}, warehouse="XX99").status_code == 404
    r = post_callback(client, {"type": "accepted", "shipment": "SO-NOPE-1"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_shipment"
    # GZ01's WMS cannot report on a parcel HZ01 holds.
    assert post_callback(client, {"type": "accepted", "shipment": shipment.number}, warehouse="GZ01").status_code == 404
    r = post_callback(client, {"type": "teleported", "shipment": shipment.number})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "type"


def test_shipping_more_than_ordered_is_refused(client: Any, world: World, dispatched: tuple[Order, Shipment]) -> None:
    order, shipment = dispatched
    base = {"type": "shipped", "shipment": shipment.number, "tracking_number": "ZT1"}
    r = post_callback(client, {**base, "lines": [{"sku": "TEA-001", "quantity": 3}]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "over_shipment"
    r = post_callback(client, {**base, "lines": [{"sku": "TEA-001", "quantity": 2}, {"sku": "CUP-003", "quantity": 1}]})
    assert r.json()["error"]["code"] == "over_shipment"
    r = post_callback(client, {**base, "lines": [{"line": 7, "quantity": 1}]})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "lines[0].line"
    r = post_callback(client, {**base, "lines": [{"sku": "TEA-001", "quantity": 0}]})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "lines[0].quantity"
    r = post_callback(client, {"type": "signed", "shipment": shipment.number})
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_shipped"
    order.refresh_from_db()
    assert order.status == "pending_dispatch" and order.tracking_number == ""
    assert world.on_hand(world.hz, "TEA-001") == 10 and world.reserved(world.hz, "TEA-001") == 2
    assert not WmsCallback.objects.exists()


def test_operator_endpoints_need_their_permissions(api_client: Any, make_operator: Any, world: World) -> None:
    world.receive(world.hz, "TEA-001", 5)
    world.receive(world.gz, "TEA-001", 5)
    order = world.order([("TEA-001", 1)])
    service = api_client(make_operator("customer_service"))
    coordinator = api_client(make_operator("warehouse_coordinator"))

    r = service.post("/api/v1/fulfillment/advance", {"orders": [order.number]}, content_type="application/json")
    assert r.status_code == 403
    r = coordinator.post("/api/v1/fulfillment/advance", {"orders": [order.number]}, content_type="application/json")
    assert r.status_code == 200 and r.json()["couriers"] == 1
    r = coordinator.post("/api/v1/fulfillment/advance", {"orders": ["NOPE"]}, content_type="application/json")
    assert r.status_code == 404

    r = service.post(
        f"/api/v1/fulfillment/orders/{order.number}/transfer",
        {"warehouse": "GZ01", "reason": "x"},
        content_type="application/json",
    )
    assert r.status_code == 403
    r = coordinator.post(
        f"/api/v1/fulfillment/orders/{order.number}/transfer",
        {"warehouse": "GZ01", "reason": "杭州仓停发"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["final_warehouse"] == "GZ01" and body["warehouse"] == "HZ01"
    assert body["transfers"][0]["from_subsidiary"] == "EAST" and body["transfers"][0]["to_subsidiary"] == "SOUTH"
    assert [d["kind"] for d in body["decisions"]] == ["warehouse", "courier", "transfer"]

    r = coordinator.post(
        f"/api/v1/fulfillment/orders/{order.number}/courier",
        {"courier": "SF", "reason": "客户要求"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["courier"] == "SF"
    r = coordinator.post(f"/api/v1/fulfillment/orders/{order.number}/dispatch")
    assert r.status_code == 409  # back in review after the transfer: the pipeline hands it on again
    coordinator.post("/api/v1/fulfillment/advance", {"orders": [order.number]}, content_type="application/json")
    r = coordinator.post(f"/api/v1/fulfillment/orders/{order.number}/dispatch")
    assert r.status_code == 200 and r.json()["warehouse"] == "GZ01" and r.json()["courier"] == "SF"
    r = service.get("/api/v1/fulfillment/shipments")
    assert r.status_code == 200 and [s["order"] for s in r.json()] == [order.number]


def test_stockout_endpoints(api_client: Any, make_operator: Any, world: World) -> None:
    reviewer = api_client(make_operator("order_reviewer"))
    coordinator = api_client(make_operator("warehouse_coordinator"))
    world.receive(world.hz, "CUP-003", 1)
    order = world.order([("CUP-003", 3)])
    orders_advance(orders=[order], actor=world.actor)
    r = reviewer.get("/api/v1/fulfillment/stockouts")
    assert r.status_code == 200 and [(s["order"], s["sku"], s["quantity"]) for s in r.json()] == [
        (order.number, "CUP-003", 2)
    ]
    r = reviewer.get("/api/v1/fulfillment/stockouts/by-sku")
    assert [(s["sku"], s["warehouse"], s["units"], s["orders"]) for s in r.json()] == [("CUP-003", "HZ01", 2, 1)]
    assert reviewer.post("/api/v1/fulfillment/stockouts/resolve").status_code == 403
    world.receive(world.hz, "CUP-003", 2)
    r = coordinator.post("/api/v1/fulfillment/stockouts/resolve")
    assert r.json() == {"resolved": 1, "reduced": 0, "cancelled": 0}
    assert Order.objects.get(pk=order.pk).status == "pending_dispatch"
    assert reviewer.get("/api/v1/fulfillment/stockouts?state=bogus").status_code == 422


def test_tracking_is_written_back_for_every_platform_order_of_a_merged_order(
    client: Any, world: World, dispatched: tuple[Order, Shipment]
) -> None:
    from oms.outbox.models import OutboxMessage, WebhookEndpoint

    WebhookEndpoint.objects.create(name="tmall", url="http://127.0.0.1:9/t", secret="s" * 32, topics=["platform.*"])
    order, shipment = dispatched
    Order.objects.filter(pk=order.pk).update(platform_order_ids=["TB-A", "TB-B"])
    post_callback(client, {"type": "shipped", "shipment": shipment.number, "tracking_number": "ZT42"})
    rows = OutboxMessage.objects.filter(topic="platform.tracking.tmall").order_by("id")
    assert [(r.payload["platform_order_id"], r.payload["tracking_number"]) for r in rows] == [
        ("TB-A", "ZT42"),
        ("TB-B", "ZT42"),
    ]


def test_wms_may_not_accept_an_order_held_after_dispatch(
    client: Any, world: World, dispatched: tuple[Order, Shipment]
) -> None:
    from oms.review.services import refund_request_receive

    order, shipment = dispatched
    assert order.status == "pending_dispatch"
    refund_request_receive(order=order, platform_refund_id="RF-1", amount_minor=100, reason="不要了", actor=world.actor)
    r = post_callback(client, {"type": "accepted", "shipment": shipment.number}, event_id="held-1")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "order_held"
    order.refresh_from_db()
    assert order.status == "pending_dispatch"
    assert not WmsCallback.objects.filter(event_id="held-1").exists()
