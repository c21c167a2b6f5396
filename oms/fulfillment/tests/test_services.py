"""Allocation, stockouts (缺货), transfer (转仓), courier holds and rules, on a real database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from oms.core.errors import Conflict, ValidationFailed
from oms.fulfillment.models import AllocationDecision, Shipment, Stockout, WarehouseTransfer
from oms.fulfillment.services.allocation import order_allocate
from oms.fulfillment.services.courier import order_courier_set
from oms.fulfillment.services.dispatch import order_dispatch
from oms.fulfillment.services.pipeline import orders_advance, pipeline_run
from oms.fulfillment.services.rules import rule_params_check
from oms.fulfillment.services.stockouts import stockouts_cancel, stockouts_resolve
from oms.fulfillment.services.transfer import order_warehouse_transfer
from oms.inventory.services.verify import stock_verify
from oms.orders.models import Order
from oms.orders.services.cancel import order_cancel
from oms.outbox.models import OutboxMessage, WebhookEndpoint
from oms.review.models import Interception, Rule
from oms.review.services import order_force_review
from oms.testing.fulfillment import World, active_reservations


def advance(world: World, *orders: Order, dispatch: bool = False) -> list[Order]:
    orders_advance(orders=list(orders), actor=world.actor, dispatch=dispatch)
    return [Order.objects.get(pk=o.pk) for o in orders]


def test_short_order_records_stockouts_then_resolves_in_arrival_order(world: World) -> None:
    world.receive(world.hz, "TEA-001", 1)
    first = world.order([("TEA-001", 3)])
    second = world.order([("TEA-001", 2)])
    first, second = advance(world, first, second)
    # Short everywhere: each order goes whole to HZ01 (it holds the most) with what there is.
    assert first.final_warehouse_id == world.hz.pk and first.status == "pending_review" and first.has_short_lines
    assert active_reservations(first, "warehouse") == {(world.hz.pk, "TEA-001"): 1}
    assert active_reservations(second, "warehouse") == {}
    short = {s.order_id: s.quantity for s in Stockout.objects.filter(state="open")}
    assert short == {first.pk: 2, second.pk: 2}
    assert first.lines.get().short_quantity == 2

    # Two units arrive: the first order (short first) gets them and moves on; the second still waits.
    world.receive(world.hz, "TEA-001", 2)
    summary = stockouts_resolve(actor=world.actor)
    assert summary.resolved == 1 and summary.ready_orders == [first.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "pending_dispatch" and not first.has_short_lines
    assert active_reservations(first, "warehouse") == {(world.hz.pk, "TEA-001"): 3}
    assert second.status == "pending_review" and Stockout.objects.get(order=second, state="open").quantity == 2

    # One more unit: the second order's stockout shrinks but stays open.
    world.receive(world.hz, "TEA-001", 1)
    summary = stockouts_resolve(actor=world.actor)
    assert (summary.resolved, summary.reduced) == (0, 1)
    assert Stockout.objects.get(order=second, state="open").quantity == 1
    assert world.reserved(world.hz, "TEA-001") == 4 == world.on_hand(world.hz, "TEA-001")
    assert stock_verify().drift == []


def test_cancelled_order_loses_its_stockouts_at_once_and_resolution_skips_it(world: World) -> None:
    order = world.order([("NUT-002", 2)])
    (order,) = advance(world, order)
    assert Stockout.objects.filter(order=order, state="open").count() == 1
    order_cancel(order=order, actor=world.actor, reason="买家不要了")
    assert Stockout.objects.get(order=order).state == "cancelled"
    world.receive(world.hz, "NUT-002", 5)
    summary = stockouts_resolve(actor=world.actor)
    assert summary.cancelled == 0 and summary.resolved == 0
    assert world.reserved(world.hz, "NUT-002") == 0
    assert Stockout.objects.get(order=order).state == "cancelled"


def test_no_single_warehouse_proposes_a_split_and_reserves_per_plan(world: World) -> None:
    world.receive(world.hz, "TEA-001", 5)
    world.receive(world.gz, "CUP-003", 5)
    (order,) = advance(world, world.order([("TEA-001", 1), ("CUP-003", 2)]))
    assert order.status == "pending_split" and order.final_warehouse_id is None
    decision = AllocationDecision.objects.get(order=order, kind="warehouse")
    assert decision.outcome == "split"
    assert sorted(g["warehouse_id"] for g in decision.plan["groups"]) == sorted([world.hz.pk, world.gz.pk])
    assert active_reservations(order, "warehouse") == {(world.hz.pk, "TEA-001"): 1, (world.gz.pk, "CUP-003"): 2}


def test_transfer_moves_reservations_keeps_history_and_subsidiaries(world: World) -> None:
    WebhookEndpoint.objects.create(name="wms", url="http://127.0.0.1:9/h", secret="s" * 32, topics=["wms.*"])
    world.receive(world.hz, "TEA-001", 5)
    world.receive(world.gz, "TEA-001", 5)
    (order,) = advance(world, world.order([("TEA-001", 2)]), dispatch=True)
    assert order.final_warehouse_id == world.hz.pk and order.status == "pending_dispatch"
    sent = Shipment.objects.get(order=order)

    record = order_warehouse_transfer(order=order, to_warehouse="GZ01", actor=world.actor, reason="杭州仓爆仓")
    order.refresh_from_db()
    assert (order.warehouse_id, order.final_warehouse_id) == (world.hz.pk, world.gz.pk)
    assert (record.from_subsidiary.code, record.to_subsidiary.code) == ("EAST", "SOUTH") and record.units_moved == 2
    assert active_reservations(order, "warehouse") == {(world.gz.pk, "TEA-001"): 2}
    assert world.reserved(world.hz, "TEA-001") == 0 and world.reserved(world.gz, "TEA-001") == 2
    assert world.channel_stock("TEA-001").sales_reserved == 2
    # The document sent to HZ01 is withdrawn; courier is chosen again for GZ01 and a new document goes there.
    sent.refresh_from_db()
    assert sent.state == "cancelled" and OutboxMessage.objects.filter(topic="wms.cancel.HZ01").count() == 1
    assert order.status == "pending_review" and order.courier_id is None
    (order,) = advance(world, order, dispatch=True)
    assert order.status == "pending_dispatch"
    assert Shipment.objects.exclude(state="cancelled").get(order=order).warehouse_id == world.gz.pk
    assert OutboxMessage.objects.filter(topic="wms.dispatch.GZ01").count() == 1
    assert stock_verify().drift == []

    with pytest.raises(Conflict) as info:
        order_warehouse_transfer(order=order, to_warehouse="GZ01", actor=world.actor, reason="again")
    assert info.value.code == "same_warehouse"
    assert WarehouseTransfer.objects.filter(order=order).count() == 1


def test_transfer_to_a_warehouse_short_of_stock_is_refused_or_becomes_stockouts(world: World) -> None:
    world.receive(world.hz, "TEA-001", 5)
    world.receive(world.gz, "TEA-001", 1)
    (order,) = advance(world, world.order([("TEA-001", 3)]))
    with pytest.raises(Conflict) as info:
        order_warehouse_transfer(order=order, to_warehouse="GZ01", actor=world.actor, reason="试试")
    assert info.value.code == "insufficient_stock"
    assert world.reserved(world.hz, "TEA-001") == 3 and world.reserved(world.gz, "TEA-001") == 0
    with pytest.raises(Conflict) as info:
        order_warehouse_transfer(order=order, to_warehouse="CD01", actor=world.actor, reason="试试")
    assert info.value.code == "not_covering"
    with pytest.raises(ValidationFailed):
        order_warehouse_transfer(order=order, to_warehouse="GZ01", actor=world.actor, reason="  ")

    order_warehouse_transfer(order=order, to_warehouse="GZ01", actor=world.actor, reason="客户要求", allow_short=True)
    assert world.reserved(world.hz, "TEA-001") == 0 and world.reserved(world.gz, "TEA-001") == 1
    stockout = Stockout.objects.get(order=order, state="open")
    assert (stockout.warehouse_id, stockout.quantity) == (world.gz.pk, 2)


def test_transfer_cancels_old_stockouts_and_judges_again(world: World) -> None:
    world.receive(world.hz, "TEA-001", 1)
    world.receive(world.gz, "TEA-001", 0 + 4)
    order = world.order([("TEA-001", 3)])
    Rule.objects.create(
        kind="warehouse", code="HZ-FIRST", name="HZ first", condition="true", params={"warehouse": "HZ01", "only": True}
    )
    (order,) = advance(world, order)
    assert Stockout.objects.get(order=order, state="open").warehouse_id == world.hz.pk
    order_warehouse_transfer(order=order, to_warehouse="GZ01", actor=world.actor, reason="杭州缺货")
    assert not Stockout.objects.filter(order=order, state="open").exists()
    assert Stockout.objects.get(order=order).state == "cancelled"
    (order,) = advance(world, order)
    assert order.status == "pending_dispatch"
    assert active_reservations(order, "warehouse") == {(world.gz.pk, "TEA-001"): 3}


def test_rules_decide_and_are_recorded(world: World) -> None:
    world.receive(world.hz, "TEA-001", 5)
    world.receive(world.gz, "TEA-001", 5)
    Rule.objects.create(
        kind="warehouse", code="TEA-GZ", name="茶叶走广州", condition='"TEA-001" in skus', params={"warehouse": "GZ01"}
    )
    Rule.objects.create(
        kind="courier", code="HEAVY-SF", name="重货顺丰", condition="weight_g >= 400", params={"courier": "SF"}
    )
    (order,) = advance(world, world.order([("TEA-001", 2)]))
    assert (order.final_warehouse_id, order.courier_id) == (world.gz.pk, world.sf.pk)
    decisions = {d.kind: d.rule_code for d in AllocationDecision.objects.filter(order=order)}
    assert decisions == {"warehouse": "TEA-GZ", "courier": "HEAVY-SF"}


def test_no_courier_holds_the_order_until_an_operator_picks_one(world: World) -> None:
    world.receive(world.hz, "RICE-10", 10)
    # 6 × 10 kg = 60 kg: more than any courier carries.
    (order,) = advance(world, world.order([("RICE-10", 6)]))
    assert order.status == "pending_review" and order.courier_id is None
    hold = Interception.objects.get(order=order, state="open")
    assert hold.reason_code == "no_courier" and hold.after_review
    with pytest.raises(Conflict):
        order_courier_set(order=order, courier_code="ZTO", actor=world.actor, reason="拆箱发")
    world.sf.max_weight_g = 80_000
    world.sf.save()
    order_courier_set(order=order, courier_code="SF", actor=world.actor, reason="顺丰重货")
    order_force_review(order=order, actor=world.actor, reason="快递已人工指定")
    (order,) = advance(world, order)
    assert order.status == "pending_dispatch" and order.courier_id == world.sf.pk


def test_manual_allocate_and_dispatch_refuse_orders_not_due(world: World) -> None:
    world.receive(world.hz, "TEA-001", 5)
    order = world.order([("TEA-001", 1)], buyer_remark="周末送")
    with pytest.raises(Conflict) as info:
        order_allocate(order=order, actor=world.actor)
    assert info.value.code == "not_allocatable"
    with pytest.raises(Conflict) as info:
        order_dispatch(order=order, actor=world.actor)
    assert info.value.code == "not_dispatchable"


def test_review_waits_for_the_post_payment_buffer(world: World, settings: Any) -> None:
    settings.OMS_FULFILMENT = {**settings.OMS_FULFILMENT, "REVIEW_BUFFER_MINUTES": 30}
    world.receive(world.hz, "TEA-001", 5)
    order = world.order([("TEA-001", 1)])
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(minutes=10))
    assert pipeline_run().reviewed == 0
    assert Order.objects.get(pk=order.pk).reviewed_at is None
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(minutes=31))
    total = pipeline_run()
    assert (total.reviewed, total.allocated, total.couriers, total.dispatched) == (1, 1, 1, 1)
    assert Order.objects.get(pk=order.pk).status == "pending_dispatch"


def test_stockouts_cancel_clears_short_flags(world: World) -> None:
    (order,) = advance(world, world.order([("CUP-003", 2)]))
    assert order.has_short_lines
    from django.db import transaction

    with transaction.atomic():
        assert stockouts_cancel(order_ids=[order.pk], reason="拆单", actor=world.actor) == 1
    order.refresh_from_db()
    assert not order.has_short_lines and order.lines.get().short_quantity == 0


def test_rule_params_check_knows_the_codes(world: World) -> None:
    rule_params_check(kind="warehouse", params={"warehouses": ["HZ01", "GZ01"], "exclude": ["CD01"]})
    rule_params_check(kind="courier", params={"courier": "SF", "exclude": ["ZTO"]})
    with pytest.raises(ValidationFailed) as info:
        rule_params_check(kind="courier", params={"courier": "DHL"})
    assert info.value.details[0].field == "params.courier"
    with pytest.raises(ValidationFailed):
        rule_params_check(kind="warehouse", params={"exclude": ["SF"]})


def test_cancel_hook_withdraws_the_dispatch_and_cancels_stockouts(world: World) -> None:
    from django.db import transaction

    from oms.fulfillment.services.cancel import order_fulfilment_cancel

    WebhookEndpoint.objects.create(name="wms", url="http://127.0.0.1:9/h", secret="s" * 32, topics=["wms.*"])
    world.receive(world.hz, "TEA-001", 5)
    (sent,) = advance(world, world.order([("TEA-001", 1)]), dispatch=True)
    (short,) = advance(world, world.order([("CUP-003", 1)]))
    with transaction.atomic():
        assert order_fulfilment_cancel(order=sent, actor=world.actor, reason="买家取消") == {
            "stockouts_cancelled": 0,
            "shipments_withdrawn": 1,
        }
        assert order_fulfilment_cancel(order=short, actor=world.actor, reason="买家取消") == {
            "stockouts_cancelled": 1,
            "shipments_withdrawn": 0,
        }
    assert Shipment.objects.get(order=sent).state == "cancelled"
    assert OutboxMessage.objects.get(topic="wms.cancel.HZ01").payload["order"] == sent.number
    assert Stockout.objects.get(order=short).state == "cancelled"


def test_bundles_allocate_by_components_and_their_stockouts_resolve(world: World) -> None:
    from oms.catalog.models import BundleComponent, Sku

    gift_box = Sku.objects.create(code="BOX-01", name="茶杯礼盒", is_bundle=True, weight_g=1000)
    BundleComponent.objects.create(bundle=gift_box, component=world.skus["TEA-001"], quantity=2)
    BundleComponent.objects.create(bundle=gift_box, component=world.skus["CUP-003"], quantity=1)
    world.skus["BOX-01"] = gift_box
    world.receive(world.hz, "TEA-001", 4)
    world.receive(world.hz, "CUP-003", 1)
    # Two boxes need 4 tea and 2 cups: HZ01 has cups for one box only.
    (order,) = advance(world, world.order([("BOX-01", 2)]))
    assert order.final_warehouse_id == world.hz.pk
    assert active_reservations(order, "warehouse") == {(world.hz.pk, "TEA-001"): 2, (world.hz.pk, "CUP-003"): 1}
    stockout = Stockout.objects.get(order=order, state="open")
    assert (stockout.sku.code, stockout.quantity) == ("BOX-01", 1)

    world.receive(world.hz, "CUP-003", 1)
    summary = stockouts_resolve(actor=world.actor)
    assert summary.resolved == 1
    assert active_reservations(order, "warehouse") == {(world.hz.pk, "TEA-001"): 4, (world.hz.pk, "CUP-003"): 2}
    assert Order.objects.get(pk=order.pk).status == "pending_dispatch"


def test_old_hopeless_stockouts_do_not_starve_newer_ones(world: World) -> None:
    hopeless = [world.order([("NUT-002", 1)]) for _ in range(3)]
    advance(world, *hopeless)
    world.receive(world.hz, "TEA-001", 1)
    (late,) = advance(world, world.order([("TEA-001", 2)]))
    world.receive(world.hz, "TEA-001", 1)
    summary = stockouts_resolve(limit=2, actor=world.actor)
    assert summary.ready_orders == [late.pk]
    assert Stockout.objects.filter(state="open").count() == 3


def test_periodic_run_leaves_held_orders_to_the_operator(world: World) -> None:
    from oms.audit.models import OperationLog

    world.receive(world.hz, "TEA-001", 5)
    held = world.order([("TEA-001", 1)], buyer_remark="请开发票")
    assert pipeline_run().held == 1
    assert pipeline_run().held == 0  # not polled again while the hold is open
    assert OperationLog.objects.filter(action="order.review", object_id=str(held.pk)).count() == 1
