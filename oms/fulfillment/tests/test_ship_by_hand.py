"""Shipping by hand (手工发货, no WMS): an order pending dispatch reaches 已发货 under the tracking numbers an
operator enters, with stock, parcels, timeline and platform write-back exactly as a WMS shipment leaves
them; several parcels; refusals change nothing; the same entry again changes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import translation

from oms.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from oms.core.texts import error_render
from oms.fulfillment.models import Parcel, Shipment
from oms.fulfillment.services.by_hand import ParcelIn, order_ship_by_hand
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.services.wms import wms_callback_receive
from oms.inventory.services.verify import stock_verify
from oms.orders.models import Order
from oms.outbox.models import OutboxMessage
from oms.review.services import order_intercept
from oms.testing.fulfillment import World, consumed


def _zh(exc: Exception) -> str:
    assert isinstance(exc, ApplicationError)
    with translation.override("zh-hans"):
        return error_render(exc)


def _reads_in_chinese(exc: Exception) -> None:
    """What the console shows of the refusal: Chinese, with no English sentence left in it."""
    text = _zh(exc)
    assert re.search(r"[\u4e00-\u9fff]", text), text
    assert not re.search(r"[A-Za-z]{3,} [a-z]{3,}", text), text


def _pending_dispatch(world: World, lines: list[tuple[str, int]]) -> Order:
    order = world.order(lines)
    orders_advance(orders=[order], actor=world.actor)
    order.refresh_from_db()
    assert order.status == "pending_dispatch", order.status
    return order


def _stock(world: World) -> tuple[int, ...]:
    return (
        world.on_hand(world.hz, "TEA-001"),
        world.reserved(world.hz, "TEA-001"),
        world.on_hand(world.hz, "NUT-002"),
        world.reserved(world.hz, "NUT-002"),
        world.channel_stock("TEA-001").quota,
        world.channel_stock("TEA-001").sales_reserved,
    )


def _topics(order: Order) -> list[str]:
    return sorted(
        t
        for t in OutboxMessage.objects.filter(aggregate_id=str(order.pk)).values_list("topic", flat=True)
        if not t.startswith("wms.")
    )


def test_by_hand_leaves_stock_and_order_exactly_as_a_wms_shipment(world: World, wms_post: Any) -> None:
    world.receive(world.hz, "TEA-001", 20)
    world.receive(world.hz, "NUT-002", 10)
    by_wms = _pending_dispatch(world, [("TEA-001", 3), ("NUT-002", 2)])
    by_hand = _pending_dispatch(world, [("TEA-001", 3), ("NUT-002", 2)])
    before = _stock(world)

    orders_advance(orders=[by_wms], actor=world.actor, dispatch=True)
    shipment = Shipment.objects.get(order=by_wms)
    raw, headers = wms_post(
        {"type": "shipped", "shipment": shipment.number, "tracking_number": "SF100", "weight_g": 900}
    )
    wms_callback_receive(warehouse_code="HZ01", headers=headers, body=raw)
    after_wms = _stock(world)

    outcome = order_ship_by_hand(
        order=by_hand, courier=by_wms.courier.code, parcels=[ParcelIn("SF200", None, 900)], actor=world.actor
    )
    after_hand = _stock(world)

    delta_wms = [a - b for a, b in zip(after_wms, before, strict=True)]
    delta_hand = [a - b for a, b in zip(after_hand, after_wms, strict=True)]
    assert delta_hand == delta_wms == [-3, -3, -2, -2, -3, -3]
    by_wms.refresh_from_db()
    by_hand.refresh_from_db()
    assert by_hand.status == by_wms.status == "shipped"
    assert by_hand.tracking_number == "SF200"
    assert consumed(by_hand) == consumed(by_wms) == 5
    assert outcome.applied == ["SF200"] and outcome.shipment.by_hand
    assert [e.to_status for e in by_hand.events.filter(kind="status_changed").order_by("pk")][-2:] == [
        "pending_shipment",
        "shipped",
    ]
    assert _topics(by_hand) == _topics(by_wms)
    assert stock_verify().drift == []


def test_several_parcels_then_the_rest_and_a_repeat_changes_nothing(world: World) -> None:
    world.receive(world.hz, "TEA-001", 20)
    world.receive(world.hz, "NUT-002", 10)
    order = _pending_dispatch(world, [("TEA-001", 3), ("NUT-002", 2)])
    order_ship_by_hand(
        order=order,
        courier="zto",
        parcels=[
            ParcelIn("ZT1", [{"sku": "TEA-001", "quantity": 2}]),
            ParcelIn("ZT2", [{"line": 2, "quantity": 1}]),
        ],
        actor=world.actor,
    )
    order.refresh_from_db()
    assert order.status == "partially_shipped"
    assert order.courier_id == world.zto.pk  # the parcels went with ZTO: the order says so
    assert world.reserved(world.hz, "TEA-001") == 1 and world.reserved(world.hz, "NUT-002") == 1

    rest = order_ship_by_hand(order=order, courier="中通快递", parcels=[ParcelIn("ZT3")], actor=world.actor)
    order.refresh_from_db()
    assert order.status == "shipped" and rest.applied == ["ZT3"]
    assert world.reserved(world.hz, "TEA-001") == 0 and world.reserved(world.hz, "NUT-002") == 0
    assert sorted(Parcel.objects.filter(order=order).values_list("tracking_number", "units")) == [
        ("ZT1", 2),
        ("ZT2", 1),
        ("ZT3", 2),
    ]

    snapshot = (_stock(world), Parcel.objects.count(), OutboxMessage.objects.count())
    again = order_ship_by_hand(order=order, courier="ZTO", parcels=[ParcelIn("ZT3")], actor=world.actor)
    assert again.applied == [] and again.repeated == ["ZT3"]
    assert (_stock(world), Parcel.objects.count(), OutboxMessage.objects.count()) == snapshot
    assert stock_verify().drift == []


@pytest.mark.parametrize(
    ("change", "error", "code"),
    [
        ({"courier": "NOPE"}, NotFound, "unknown_courier"),
        ({"parcels": [ParcelIn(" ")]}, ValidationFailed, "validation_error"),
        ({"parcels": [ParcelIn("A1", [{"sku": "TEA-001", "quantity": 1}]), ParcelIn("A1")]}, ValidationFailed, None),
        ({"parcels": [ParcelIn("A1", [{"sku": "TEA-001", "quantity": 9}])]}, Conflict, "over_shipment"),
        # The second parcel fails: the first is not kept either.
        (
            {
                "parcels": [
                    ParcelIn("A1", [{"sku": "TEA-001", "quantity": 1}]),
                    ParcelIn("A2", [{"line": 7, "quantity": 1}]),
                ]
            },
            ValidationFailed,
            "invalid_lines",
        ),
    ],
)
def test_a_refused_entry_changes_nothing(world: World, change: dict[str, Any], error: type, code: str | None) -> None:
    world.receive(world.hz, "TEA-001", 20)
    order = _pending_dispatch(world, [("TEA-001", 3)])
    snapshot = (_stock(world), Parcel.objects.count(), Shipment.objects.count(), OutboxMessage.objects.count())
    args: dict[str, Any] = {"courier": "SF", "parcels": [ParcelIn("A1")], **change}
    with pytest.raises(error) as exc:
        order_ship_by_hand(order=order, actor=world.actor, **args)
    if code:
        assert exc.value.code == code
    _reads_in_chinese(exc.value)
    order.refresh_from_db()
    assert order.status == "pending_dispatch"
    assert (_stock(world), Parcel.objects.count(), Shipment.objects.count(), OutboxMessage.objects.count()) == snapshot


def test_held_unready_or_taken_tracking_is_refused(world: World) -> None:
    world.receive(world.hz, "TEA-001", 20)
    first = _pending_dispatch(world, [("TEA-001", 1)])
    order_ship_by_hand(order=first, courier="SF", parcels=[ParcelIn("SF9")], actor=world.actor)
    second = _pending_dispatch(world, [("TEA-001", 1)])
    with pytest.raises(Conflict) as taken:
        order_ship_by_hand(order=second, courier="SF", parcels=[ParcelIn("SF9")], actor=world.actor)
    assert taken.value.code == "tracking_in_use" and taken.value.details[0].field == "parcels[0].tracking_number"
    _reads_in_chinese(taken.value)
    # The same number with another courier is another parcel.
    order_ship_by_hand(order=second, courier="ZTO", parcels=[ParcelIn("SF9")], actor=world.actor)

    held = _pending_dispatch(world, [("TEA-001", 1)])
    order_intercept(order=held, reason_code="manual", reason="check address", actor=world.actor)
    with pytest.raises(Conflict) as exc:
        order_ship_by_hand(order=held, courier="SF", parcels=[ParcelIn("SF10")], actor=world.actor)
    assert exc.value.code == "order_held"
    _reads_in_chinese(exc.value)

    unpaid = world.order([("TEA-001", 1)], payment=None)
    with pytest.raises(Conflict) as exc:
        order_ship_by_hand(order=unpaid, courier="SF", parcels=[ParcelIn("SF11")], actor=world.actor)
    assert exc.value.code == "not_shippable"
    _reads_in_chinese(exc.value)
    assert "待支付" in _zh(exc.value)
