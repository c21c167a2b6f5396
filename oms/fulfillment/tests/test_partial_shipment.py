"""Partial shipments (部分发货), on SQLite and PostgreSQL: an order leaving in two parcels, each consuming
exactly its units' reservations and stock, written back per parcel for every platform order id; replays,
over-shipment and a changed parcel refused or ignored without a change; the rest cancelled by an operator
releasing only what did not ship."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.core.errors import Conflict, NotFound, ValidationFailed
from oms.fulfillment.domain.parcels import Outstanding, parcel_plan
from oms.fulfillment.models import Parcel, Shipment, ShipmentState, WmsCallback
from oms.fulfillment.services.parcels import order_remainder_cancel
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.services.wms import wms_callback_receive
from oms.inventory.services.verify import stock_verify
from oms.orders.domain.split import LineAmounts, split_line_amounts
from oms.orders.models import Order, Payment
from oms.orders.services.cancel import order_cancel
from oms.orders.services.payments import payment_record
from oms.outbox.models import OutboxMessage, WebhookEndpoint
from oms.testing.fulfillment import World, active_reservations, consumed


def _callback(world: World, wms_post: Any, body: dict[str, Any], event_id: str | None = None) -> Any:
    raw, headers = wms_post(body, event_id=event_id)
    return wms_callback_receive(warehouse_code="HZ01", headers=headers, body=raw)


def _no_drift() -> None:
    assert stock_verify().drift == []


def _accepted_order(
    world: World, wms_post: Any, lines: list[tuple[str, int]], **overrides: Any
) -> tuple[Order, Shipment]:
    WebhookEndpoint.objects.create(
        name="all", url="http://127.0.0.1:9/hook", secret="s" * 32, topics=["wms.*", "platform.*", "order.*"]
    )
    order = world.order(lines, **overrides)
    orders_advance(orders=[order], actor=world.actor, dispatch=True)
    shipment = Shipment.objects.get(order=order)
    _callback(world, wms_post, {"type": "accepted", "shipment": shipment.number})
    order.refresh_from_db()
    assert order.status == "pending_shipment"
    return order, shipment


def _snapshot(world: World, order: Order) -> tuple[Any, ...]:
    return (
        Order.objects.get(pk=order.pk).status,
        world.on_hand(world.hz, "TEA-001"),
        world.reserved(world.hz, "TEA-001"),
        world.on_hand(world.hz, "NUT-002"),
        world.reserved(world.hz, "NUT-002"),
        world.channel_stock("TEA-001").sales_reserved,
        Parcel.objects.filter(order=order).count(),
        OutboxMessage.objects.count(),
    )


def test_two_parcels_ship_an_order_with_stock_exact_at_every_step(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "TEA-001", 10)
    world.receive(world.hz, "NUT-002", 5)
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 3), ("NUT-002", 2)])
    Order.objects.filter(pk=order.pk).update(platform_order_ids=["TB-A", "TB-B"])
    assert active_reservations(order, "warehouse") == {(world.hz.pk, "TEA-001"): 3, (world.hz.pk, "NUT-002"): 2}
    quota_before = world.channel_stock("TEA-001").quota

    # Parcel 1: two of the three teas. Exactly those units leave the shelf; the rest stays reserved.
    first = {
        "type": "shipped",
        "shipment": shipment.number,
        "tracking_number": "ZT-P1",
        "weight_g": 500,
        "lines": [{"sku": "TEA-001", "quantity": 2}],
    }
    result = _callback(world, wms_post, first, event_id="parcel-1")
    assert (result.outcome, result.order_status) == ("applied", "partially_shipped")
    order.refresh_from_db()
    assert order.status == "partially_shipped" and order.tracking_number == "ZT-P1"
    assert world.on_hand(world.hz, "TEA-001") == 8 and world.reserved(world.hz, "TEA-001") == 1
    assert world.on_hand(world.hz, "NUT-002") == 5 and world.reserved(world.hz, "NUT-002") == 2
    assert active_reservations(order, "warehouse") == {(world.hz.pk, "TEA-001"): 1, (world.hz.pk, "NUT-002"): 2}
    assert active_reservations(order, "channel") == {(None, "TEA-001"): 1, (None, "NUT-002"): 2}
    assert consumed(order) == 2
    assert world.channel_stock("TEA-001").sales_reserved == 1
    assert world.channel_stock("TEA-001").quota == quota_before - 2
    shipment.refresh_from_db()
    assert shipment.state == ShipmentState.PARTIAL and shipment.shipped_at is None
    tracking = OutboxMessage.objects.filter(topic="platform.tracking.tmall").order_by("id")
    assert [(m.payload["platform_order_id"], m.payload["tracking_number"], m.payload["partial"]) for m in tracking] == [
        ("TB-A", "ZT-P1", True),
        ("TB-B", "ZT-P1", True),
    ]
    assert tracking[0].payload["lines"] == [{"line": 1, "sku": "TEA-001", "quantity": 2}]
    assert OutboxMessage.objects.filter(topic="order.partially_shipped").count() == 1
    assert not OutboxMessage.objects.filter(topic="order.shipped").exists()
    _no_drift()

    # Replays: the same event id gets its first answer; the same parcel under a new event id is ignored;
    # the same tracking number with other lines, more than is left, signing now, cancelling: refused.
    before = _snapshot(world, order)
    assert _callback(world, wms_post, first, event_id="parcel-1").outcome == "duplicate"
    assert _callback(world, wms_post, first).outcome == "ignored"
    assert _callback(world, wms_post, {**first, "lines": [{"line": 1, "quantity": 2}]}).outcome == "ignored"
    assert _callback(world, wms_post, {k: v for k, v in first.items() if k != "lines"}).outcome == "ignored"
    with pytest.raises(Conflict) as info:
        _callback(world, wms_post, {**first, "lines": [{"sku": "TEA-001", "quantity": 1}]})
    assert info.value.code == "parcel_mismatch"
    with pytest.raises(Conflict) as info:
        _callback(world, wms_post, {**first, "tracking_number": "ZT-P2", "lines": [{"sku": "TEA-001", "quantity": 2}]})
    assert info.value.code == "over_shipment" and info.value.extra["over"]["TEA-001"]["outstanding"] == 1
    with pytest.raises(Conflict) as info:
        _callback(world, wms_post, {"type": "signed", "shipment": shipment.number})
    assert info.value.code == "not_shipped"
    with pytest.raises(Conflict) as info:
        order_cancel(order=order, actor=world.actor, reason="买家不要了")
    assert info.value.code == "illegal_transition"
    assert _snapshot(world, order) == before
    _no_drift()

    # Parcel 2 names no lines: everything left goes. The order is shipped.
    result = _callback(
        world,
        wms_post,
        {"type": "shipped", "shipment": shipment.number, "tracking_number": "ZT-P2", "weight_g": 2300},
        event_id="parcel-2",
    )
    assert (result.outcome, result.order_status) == ("applied", "shipped")
    assert world.on_hand(world.hz, "TEA-001") == 7 and world.reserved(world.hz, "TEA-001") == 0
    assert world.on_hand(world.hz, "NUT-002") == 3 and world.reserved(world.hz, "NUT-002") == 0
    assert active_reservations(order, "warehouse") == {} and active_reservations(order, "channel") == {}
    assert consumed(order) == 5
    assert world.channel_stock("TEA-001").sales_reserved == 0
    assert world.channel_stock("TEA-001").quota == quota_before - 3
    shipment.refresh_from_db()
    assert shipment.state == ShipmentState.SHIPPED and shipment.shipped_at is not None
    assert (shipment.tracking_number, shipment.weight_g, shipment.package_count) == ("ZT-P1", 2800, 2)
    parcels = list(Parcel.objects.filter(shipment=shipment).prefetch_related("lines__line__sku"))
    assert [(p.tracking_number, sorted((pl.line.sku.code, pl.quantity) for pl in p.lines.all())) for p in parcels] == [
        ("ZT-P1", [("TEA-001", 2)]),
        ("ZT-P2", [("NUT-002", 2), ("TEA-001", 1)]),
    ]
    tracking = OutboxMessage.objects.filter(topic="platform.tracking.tmall").order_by("id")
    assert [(m.payload["platform_order_id"], m.payload["tracking_number"]) for m in tracking] == [
        ("TB-A", "ZT-P1"),
        ("TB-B", "ZT-P1"),
        ("TB-A", "ZT-P2"),
        ("TB-B", "ZT-P2"),
    ]
    assert OutboxMessage.objects.filter(topic="order.shipped").count() == 1
    _no_drift()

    # Fully shipped: a third tracking number is refused, the second parcel again is ignored.
    before = _snapshot(world, order)
    with pytest.raises(Conflict) as info:
        _callback(world, wms_post, {"type": "shipped", "shipment": shipment.number, "tracking_number": "ZT-P3"})
    assert info.value.code == "tracking_mismatch"
    assert (
        _callback(world, wms_post, {"type": "shipped", "shipment": shipment.number, "tracking_number": "ZT-P2"}).outcome
        == "ignored"
    )
    assert _snapshot(world, order) == before
    assert WmsCallback.objects.filter(event_id__in=["parcel-1", "parcel-2"]).count() == 2

    result = _callback(world, wms_post, {"type": "signed", "shipment": shipment.number})
    assert result.order_status == "signed"
    assert list(order.events.filter(kind="status_changed").values_list("to_status", flat=True)) == [
        "pending_review",
        "pending_dispatch",
        "pending_shipment",
        "partially_shipped",
        "shipped",
        "signed",
    ]
    _no_drift()


def test_cancelling_the_rest_releases_only_the_unshipped_reservations(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "TEA-001", 10)
    world.receive(world.hz, "NUT-002", 5)
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 3), ("NUT-002", 1)])
    with pytest.raises(Conflict) as info:
        order_remainder_cancel(order=order, actor=world.actor, reason="缺货不发了")
    assert info.value.code == "not_partially_shipped"

    _callback(
        world,
        wms_post,
        {
            "type": "shipped",
            "shipment": shipment.number,
            "tracking_number": "SF-1",
            "lines": [{"line": 1, "quantity": 1}],
        },
    )
    assert world.reserved(world.hz, "TEA-001") == 2 and world.on_hand(world.hz, "TEA-001") == 9
    with pytest.raises(ValidationFailed):
        order_remainder_cancel(order=order, actor=world.actor, reason="  ")
    assert Order.objects.get(pk=order.pk).status == "partially_shipped"

    outcome = order_remainder_cancel(order=order, actor=world.actor, reason="缺货不发了")
    assert outcome["units"] == 3 and outcome["lines"] == [
        {"line": 1, "sku": "TEA-001", "quantity": 2},
        {"line": 2, "sku": "NUT-002", "quantity": 1},
    ]
    order.refresh_from_db()
    assert order.status == "shipped"
    # The shipped tea stays consumed; the two teas and the nut that never left go back on sale.
    assert world.on_hand(world.hz, "TEA-001") == 9 and world.reserved(world.hz, "TEA-001") == 0
    assert world.on_hand(world.hz, "NUT-002") == 5 and world.reserved(world.hz, "NUT-002") == 0
    assert active_reservations(order, "warehouse") == {} and active_reservations(order, "channel") == {}
    assert consumed(order) == 1
    assert world.channel_stock("TEA-001").sales_reserved == 0
    # Finance sees what the cancelled units were paid: 2 of 3 teas (10.00 each) and the nut (10.00).
    assert order.events.get(kind="refund_due").data["amount_minor"] == 3000
    cancel_doc = OutboxMessage.objects.get(topic="wms.cancel.HZ01")
    assert cancel_doc.payload["lines"] == outcome["lines"]
    shipment.refresh_from_db()
    assert shipment.state == ShipmentState.SHIPPED
    _no_drift()

    with pytest.raises(Conflict):
        _callback(world, wms_post, {"type": "shipped", "shipment": shipment.number, "tracking_number": "SF-2"})
    with pytest.raises(Conflict):
        order_remainder_cancel(order=order, actor=world.actor, reason="again")
    assert _callback(world, wms_post, {"type": "signed", "shipment": shipment.number}).order_status == "signed"
    _no_drift()
    # What the cancelled units were paid is owed back on the payment, and the refund finance records settles it.
    [payment] = Payment.objects.filter(order=order, kind="payment")
    assert (payment.refund_due_minor, payment.needs_refund) == (3000, True)
    assert order.events.get(kind="refund_due").data["payments"] == [
        {"payment": f"alipay:{payment.transaction_id}", "amount_minor": 3000}
    ]
    payment_record(
        order=order,
        method="alipay",
        transaction_id=f"{payment.transaction_id}-RF",
        amount_minor=3000,
        paid_at=None,
        actor=world.actor,
        kind="refund",
    )
    payment.refresh_from_db()
    assert (payment.refund_due_minor, payment.needs_refund) == (0, False)


def test_refund_due_for_cancelled_units_divides_the_line_like_a_split(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "TEA-001", 10)
    # 3 teas at 10.00 with 20.00 off the order: the line paid 10.00 for three units.
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 3)], order_discount="20.00")
    assert order.lines.get().paid_minor == 1000
    body = {"type": "shipped", "shipment": shipment.number, "tracking_number": "SF-R1"}
    _callback(world, wms_post, {**body, "lines": [{"line": 1, "quantity": 1}]})
    order_remainder_cancel(order=order, actor=world.actor, reason="缺货不发了")
    # 1 shipped + 2 cancelled, divided as a split by quantity divides them: 3.33 and 6.67, adding up to
    # 10.00 (flooring 10.00 × 2/3 would owe 6.66 and lose a cent).
    line = order.lines.get()
    shipped_part, cancelled_part = split_line_amounts(
        LineAmounts(
            line.quantity,
            line.unit_price_minor,
            line.gross_minor,
            line.line_discount_minor,
            line.order_discount_minor,
            line.shipping_minor,
            line.paid_minor,
        ),
        [1, 2],
    )
    assert (shipped_part.paid_minor, cancelled_part.paid_minor) == (333, 667)
    assert order.events.get(kind="refund_due").data["amount_minor"] == 667
    assert Payment.objects.get(order=order, kind="payment").refund_due_minor == 667


def test_a_bundle_line_ships_its_components_in_part(world: World, wms_post: Any) -> None:
    from oms.catalog.models import BundleComponent, Sku

    gift = Sku.objects.create(code="GIFT-BOX", name="茶礼盒", is_bundle=True, weight_g=700)
    BundleComponent.objects.create(bundle=gift, component=world.skus["TEA-001"], quantity=2)
    BundleComponent.objects.create(bundle=gift, component=world.skus["CUP-003"], quantity=1)
    world.receive(world.hz, "TEA-001", 10)
    world.receive(world.hz, "CUP-003", 5)
    world.skus["GIFT-BOX"] = gift
    _order, shipment = _accepted_order(world, wms_post, [("GIFT-BOX", 3)])
    assert world.reserved(world.hz, "TEA-001") == 6 and world.reserved(world.hz, "CUP-003") == 3

    _callback(
        world,
        wms_post,
        {
            "type": "shipped",
            "shipment": shipment.number,
            "tracking_number": "B-1",
            "lines": [{"sku": "GIFT-BOX", "quantity": 1}],
        },
    )
    assert world.on_hand(world.hz, "TEA-001") == 8 and world.reserved(world.hz, "TEA-001") == 4
    assert world.on_hand(world.hz, "CUP-003") == 4 and world.reserved(world.hz, "CUP-003") == 2
    _no_drift()
    result = _callback(world, wms_post, {"type": "shipped", "shipment": shipment.number, "tracking_number": "B-2"})
    assert result.order_status == "shipped"
    assert world.on_hand(world.hz, "TEA-001") == 4 and world.reserved(world.hz, "TEA-001") == 0
    assert world.on_hand(world.hz, "CUP-003") == 2 and world.reserved(world.hz, "CUP-003") == 0
    _no_drift()


def _outstanding() -> st.SearchStrategy[list[Outstanding]]:
    line = st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(1, 6), st.integers(0, 6))
    return st.lists(line, min_size=1, max_size=5).map(
        lambda rows: [
            Outstanding(line_id=100 + i, line_no=i + 1, sku=sku, ordered=q, shipped=min(s, q))
            for i, (sku, q, s) in enumerate(rows)
        ]
    )


@settings(max_examples=200, deadline=None)
@given(
    lines=_outstanding(),
    asks=st.lists(
        st.tuples(st.booleans(), st.integers(1, 6), st.sampled_from(["A", "B", "C"]), st.integers(1, 8)), max_size=4
    ),
)
def test_a_parcel_plan_never_ships_more_than_is_left(lines: list[Outstanding], asks: list[Any]) -> None:
    reported = [{"line": no, "quantity": q} if by_line else {"sku": sku, "quantity": q} for by_line, no, sku, q in asks]
    try:
        plan = parcel_plan(lines, reported or None)
    except (Conflict, ValidationFailed):
        return
    left = {ln.line_id: ln.left for ln in lines}
    assert all(0 < q <= left[k] for k, q in plan.items())
    if not reported:
        assert plan == {k: v for k, v in left.items() if v > 0}
    else:
        assert sum(plan.values()) == sum(q for *_x, q in asks)
        by_sku: dict[str, int] = {}
        for ln in lines:
            by_sku[ln.sku] = by_sku.get(ln.sku, 0) + plan.get(ln.line_id, 0)
        asked: dict[str, int] = {}
        for by_line, no, sku, q in asks:
            key = next(ln.sku for ln in lines if ln.line_no == no) if by_line else sku
            asked[key] = asked.get(key, 0) + q
        assert {k: v for k, v in by_sku.items() if v} == asked


def test_parcels_and_cancelling_the_rest_through_the_api(
    client: Any, api_client: Any, make_operator: Any, world: World, wms_post: Any
) -> None:
    world.receive(world.hz, "TEA-001", 10)
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 4)])
    raw, headers = wms_post(
        {
            "type": "shipped",
            "shipment": shipment.number,
            "tracking_number": "ZT-A",
            "packages": 2,
            "lines": [{"line": 1, "quantity": 3}],
        }
    )
    r = client.post(
        "/api/v1/fulfillment/wms/HZ01/callbacks", data=raw, content_type="application/json", headers=headers
    )
    assert r.status_code == 200 and r.json()["order_status"] == "partially_shipped"

    coordinator = api_client(make_operator("warehouse_coordinator"))
    service = api_client(make_operator("customer_service"))
    body = coordinator.get(f"/api/v1/fulfillment/orders/{order.number}").json()
    assert body["status"] == "partially_shipped"
    assert [(p["tracking_number"], p["packages"], p["units"], p["lines"]) for p in body["parcels"]] == [
        ("ZT-A", 2, 3, [{"line": 1, "sku": "TEA-001", "quantity": 3}])
    ]
    assert body["shipments"][0]["state"] == "partial"

    url = f"/api/v1/fulfillment/orders/{order.number}/cancel-rest"
    assert coordinator.post(url, {"reason": "不发了"}, content_type="application/json").status_code == 403
    r = service.post(url, {"reason": ""}, content_type="application/json")
    assert r.status_code == 422
    assert Order.objects.get(pk=order.pk).status == "partially_shipped"
    r = service.post(url, {"reason": "买家只要三盒"}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json() == {
        "order": order.number,
        "status": "shipped",
        "units": 1,
        "lines": [{"line": 1, "sku": "TEA-001", "quantity": 1}],
    }
    assert world.on_hand(world.hz, "TEA-001") == 7 and world.reserved(world.hz, "TEA-001") == 0
    assert service.post(url, {"reason": "again"}, content_type="application/json").status_code == 409
    _no_drift()


def test_console_shows_parcels_and_cancels_the_rest_with_permission(
    world: World, wms_post: Any, make_operator: Any
) -> None:
    from django.test import Client

    world.receive(world.hz, "TEA-001", 10)
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 2)])
    _callback(
        world,
        wms_post,
        {
            "type": "shipped",
            "shipment": shipment.number,
            "tracking_number": "YT-77",
            "lines": [{"line": 1, "quantity": 1}],
        },
    )

    def logged_in(role: str) -> Client:
        client = Client()
        client.force_login(make_operator(role))
        return client

    coordinator, service = logged_in("warehouse_coordinator"), logged_in("customer_service")
    html = coordinator.get(f"/orders/{order.number}/fulfilment/").content.decode()
    assert "YT-77" in html and "TEA-001 × 1" in html and 'data-testid="cancel-rest"' not in html
    assert 'data-testid="parcels-panel"' in service.get(f"/orders/{order.number}/").content.decode()
    panel = service.get(f"/orders/{order.number}/parcels/").content.decode()
    assert "YT-77" in panel and 'data-testid="cancel-rest"' in panel
    assert coordinator.post(f"/orders/{order.number}/fulfilment/rest/", {"reason": "x"}).status_code == 403
    assert Order.objects.get(pk=order.pk).status == "partially_shipped"
    r = service.post(f"/orders/{order.number}/fulfilment/rest/", {"reason": ""})
    assert r.status_code == 302 and Order.objects.get(pk=order.pk).status == "partially_shipped"
    r = service.post(f"/orders/{order.number}/fulfilment/rest/", {"reason": "买家只要一盒"}, follow=True)
    assert Order.objects.get(pk=order.pk).status == "shipped"
    # The message names the status the order is in now (已发货 here; 已签收 or 已拒收 when it closes at once).
    assert f"未发货的 1 件已取消；订单 {order.number} 现为已发货。" in r.content.decode()
    assert world.reserved(world.hz, "TEA-001") == 0 and world.on_hand(world.hz, "TEA-001") == 9
    _no_drift()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tea=st.integers(1, 4),
    nut=st.integers(1, 3),
    cuts=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3)), min_size=0, max_size=3),
)
def test_any_sequence_of_parcels_ships_exactly_the_order(
    world: World, wms_post: Any, tea: int, nut: int, cuts: list[tuple[int, int]]
) -> None:
    world.receive(world.hz, "TEA-001", tea)
    world.receive(world.hz, "NUT-002", nut)
    order = world.order([("TEA-001", tea), ("NUT-002", nut)])
    orders_advance(orders=[order], actor=world.actor, dispatch=True)
    shipment = Shipment.objects.get(order=order)
    start = {code: world.on_hand(world.hz, code) for code in ("TEA-001", "NUT-002")}
    left = {"TEA-001": tea, "NUT-002": nut}
    for i, (t, n) in enumerate(cuts):
        ask = {"TEA-001": t, "NUT-002": n}
        lines = [{"sku": code, "quantity": q} for code, q in ask.items() if q]
        body = {"type": "shipped", "shipment": shipment.number, "tracking_number": f"H-{order.pk}-{i}", "lines": lines}
        if not lines:
            continue
        if any(q > left[code] for code, q in ask.items()):
            with pytest.raises(Conflict):
                _callback(world, wms_post, body)
            continue
        _callback(world, wms_post, body)
        for code, q in ask.items():
            left[code] -= q
        for code in left:
            # Shipped units left the shelf; what is left stays reserved for this order.
            assert world.on_hand(world.hz, code) == start[code] - ({"TEA-001": tea, "NUT-002": nut}[code] - left[code])
            assert world.reserved(world.hz, code) == left[code]
        expected = "shipped" if not any(left.values()) else "partially_shipped"
        assert Order.objects.get(pk=order.pk).status == expected
    if any(left.values()):
        _callback(
            world, wms_post, {"type": "shipped", "shipment": shipment.number, "tracking_number": f"H-{order.pk}-end"}
        )
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert world.on_hand(world.hz, "TEA-001") == start["TEA-001"] - tea
    assert world.on_hand(world.hz, "NUT-002") == start["NUT-002"] - nut
    assert world.reserved(world.hz, "TEA-001") == 0 and world.reserved(world.hz, "NUT-002") == 0
    assert active_reservations(order, "channel") == {} and active_reservations(order, "warehouse") == {}
    _no_drift()


def test_each_parcel_is_signed_for_and_the_order_once_all_are(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "TEA-001", 10)
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 3)])
    one = {"type": "shipped", "shipment": shipment.number, "tracking_number": "ZT-S1"}
    _callback(world, wms_post, {**one, "lines": [{"sku": "TEA-001", "quantity": 1}]})
    # The courier reports parcel 1 signed for while parcel 2 has not left: recorded, the order waits.
    signed_one = {"type": "signed", "shipment": shipment.number, "tracking_number": "ZT-S1"}
    result = _callback(world, wms_post, signed_one)
    assert (result.outcome, result.order_status) == ("applied", "partially_shipped")
    assert Parcel.objects.get(tracking_number="ZT-S1").signed_at is not None
    assert _callback(world, wms_post, signed_one).outcome == "ignored"
    with pytest.raises(NotFound) as info:
        _callback(world, wms_post, {**signed_one, "tracking_number": "ZT-NOPE"})
    assert info.value.code == "unknown_parcel"
    result = _callback(world, wms_post, {**one, "tracking_number": "ZT-S2"})
    assert result.order_status == "shipped"
    # The last parcel signed for: the order is 已签收.
    result = _callback(world, wms_post, {**signed_one, "tracking_number": "ZT-S2"})
    assert (result.outcome, result.order_status) == ("applied", "signed")
    assert not Parcel.objects.filter(order=order, signed_at__isnull=True).exists()
    assert OutboxMessage.objects.filter(topic="order.signed").count() == 1
    signed_events = order.events.filter(kind="parcel_signed").order_by("id")
    # One per parcel (with its tracking number), then the order's own when the last one was signed for.
    assert [(e.data or {}).get("tracking_number") for e in signed_events] == ["ZT-S1", "ZT-S2", None]
    _no_drift()


def test_cancelling_the_rest_after_every_shipped_parcel_was_signed_signs_the_order(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "TEA-001", 10)
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 3)])
    body = {"type": "shipped", "shipment": shipment.number, "tracking_number": "SF-C1"}
    _callback(world, wms_post, {**body, "lines": [{"line": 1, "quantity": 1}]})
    _callback(world, wms_post, {"type": "signed", "shipment": shipment.number, "tracking_number": "SF-C1"})
    assert Order.objects.get(pk=order.pk).status == "partially_shipped"
    outcome = order_remainder_cancel(order=order, actor=world.actor, reason="缺货不发了")
    assert outcome["signed"] is True
    assert Order.objects.get(pk=order.pk).status == "signed"
    assert OutboxMessage.objects.filter(topic="order.signed").count() == 1
    _no_drift()


def test_a_whole_order_signed_marks_every_parcel(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "TEA-001", 10)
    order, shipment = _accepted_order(world, wms_post, [("TEA-001", 2)])
    body = {"type": "shipped", "shipment": shipment.number}
    _callback(world, wms_post, {**body, "tracking_number": "ZT-W1", "lines": [{"sku": "TEA-001", "quantity": 1}]})
    _callback(world, wms_post, {**body, "tracking_number": "ZT-W2"})
    assert _callback(world, wms_post, {"type": "signed", "shipment": shipment.number}).order_status == "signed"
    assert not Parcel.objects.filter(order=order, signed_at__isnull=True).exists()
