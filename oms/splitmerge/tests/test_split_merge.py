"""The seed's split/merge rules (S1–S7) on the real services, with real stock reservations."""

from __future__ import annotations

from typing import Any

import pytest

from oms.audit.models import OperationLog
from oms.core.errors import Conflict, ValidationFailed
from oms.inventory.models import Reservation
from oms.orders.models import Order, OrderEvent
from oms.orders.services.cancel import order_cancel
from oms.review.models import Interception
from oms.splitmerge.models import LineOrigin, OrderLineage
from oms.splitmerge.selectors import merge_suggestions, order_lineage, split_merge_status
from oms.splitmerge.services.merge import order_unmerge, orders_merge
from oms.splitmerge.services.split import order_split
from oms.testing.fulfillment import World, active_reservations

MONEY = (
    "goods_minor",
    "line_discount_minor",
    "order_discount_minor",
    "shipping_minor",
    "payable_minor",
    "received_minor",
    "refunded_minor",
)


def _sum(orders: list[Order], attr: str) -> int:
    return sum(getattr(o, attr) for o in orders)


def _held(orders: list[Order]) -> int:
    ids = [line.pk for o in orders for line in o.lines.all()]
    return sum(
        Reservation.objects.filter(ref_type="order_line", ref_id__in=ids, scope="channel", state="active").values_list(
            "quantity", flat=True
        )
    )


def _stocked(world: World) -> World:
    for code in ("TEA-001", "NUT-002", "CUP-003"):
        world.receive(world.hz, code, 50)
    return world


def _unreviewed_order(world: World, **kw: Any) -> Order:
    body = {"order_discount": "3.33", "shipping": "8.00", **kw}
    return world.order([("TEA-001", 5), ("NUT-002", 1), ("CUP-003", 3)], **body)


def test_split_by_line_and_quantity_conserves_money_and_reservations(world: World) -> None:
    _stocked(world)
    order = _unreviewed_order(
        world,
        buyer_remark="周末送",
        seller_remark="VIP",
        invoice={"kind": "company", "title": "杭州某公司", "tax_id": "91330100MA2B3C4D5E"},
    )
    held_before = _held([order])
    children = order_split(order=order, groups=[{1: 2, 2: 1}, {1: 3, 3: 3}], actor=world.actor, reason="先发现货")
    order.refresh_from_db()
    assert order.status == "closed"
    assert len(children) == 2
    for attr in MONEY:
        assert _sum(children, attr) == getattr(order, attr), attr
    # S2: the reservations moved to the children, none released and retaken.
    assert _held(children) == held_before
    assert _held([order]) == 0
    # S5: remarks, invoice request, platform ids carried over.
    for child in children:
        assert child.buyer_remark == "周末送"
        assert child.seller_remark == "VIP"
        assert child.invoice_title == "杭州某公司"
        assert child.platform_order_ids == order.platform_order_ids
    # Lines: 2 + 3 units of line 1, money by the one apportion.
    parts = sorted(line.quantity for c in children for line in c.lines.all() if line.sku and line.sku.code == "TEA-001")
    assert parts == [2, 3]
    # S7: lineage both ways, statuses.
    assert split_merge_status(order=order) == "split_parent"
    assert {split_merge_status(order=c) for c in children} == {"split_child"}
    graph = order_lineage(order=children[0])
    assert set(graph.nodes) == {order.number, children[0].number, children[1].number}
    assert {(e["parent"], e["child"]) for e in graph.edges} == {(order.number, c.number) for c in children}
    assert LineOrigin.objects.filter(source_line__order=order).count() == 4
    assert OperationLog.objects.filter(action="order.split").count() == 2
    assert OrderEvent.objects.filter(order=order, to_status="closed").exists()


def test_split_before_review_runs_rules_again_creating_new_interceptions(world: World) -> None:
    _stocked(world)
    order = _unreviewed_order(world, buyer_remark="请核对")
    # The order was reviewed by intake's pipeline? No: make sure it is still before review and held.
    from oms.review.services import order_review

    order_review(order=order, actor=world.actor)
    parent_hold = Interception.objects.get(order=order)
    children = order_split(order=order, groups=[{1: 5}, {2: 1, 3: 3}], actor=world.actor)
    parent_hold.refresh_from_db()
    assert parent_hold.state == "void"
    for child in children:
        assert Interception.objects.filter(order=child, reason_code="remark", state="open").exists()


def test_split_after_review_creates_no_interceptions(world: World) -> None:
    _stocked(world)
    order = _unreviewed_order(world)
    from oms.review.services import order_review

    assert order_review(order=order, actor=world.actor).passed
    Order.objects.filter(pk=order.pk).update(buyer_remark="后来加的备注")
    order.refresh_from_db()
    children = order_split(order=order, groups=[{1: 5}, {2: 1, 3: 3}], actor=world.actor)
    assert not Interception.objects.filter(order__in=children).exists()
    for child in children:
        assert child.reviewed_at is not None


def test_split_children_are_allocated_again(world: World) -> None:
    _stocked(world)
    order = _unreviewed_order(world)
    children = order_split(order=order, groups=[{1: 5}, {2: 1, 3: 3}], actor=world.actor)
    assert order.final_warehouse_id is None
    for child in children:
        assert child.status == "pending_dispatch"
        assert child.final_warehouse_id == world.hz.pk
        assert child.courier_id is not None
        held = active_reservations(child, "warehouse")
        assert held and all(wh == world.hz.pk for wh, _code in held)
        assert sum(held.values()) == sum(line.quantity for line in child.lines.all())


def test_cancelled_child_releases_its_reservations(world: World) -> None:
    _stocked(world)
    order = _unreviewed_order(world)
    first, second = order_split(order=order, groups=[{1: 5}, {2: 1, 3: 3}], actor=world.actor)
    before = world.channel_stock("TEA-001").sales_reserved
    order_cancel(order=first, actor=world.actor, reason="买家不要了")
    assert world.channel_stock("TEA-001").sales_reserved == before - 5
    assert _held([second]) == 4


def test_bad_split_plans_change_nothing(world: World) -> None:
    _stocked(world)
    order = _unreviewed_order(world)
    for groups in ([{1: 5, 2: 1, 3: 3}], [{1: 5}, {}], [{1: 4}, {2: 1, 3: 3}], [{1: 5}, {2: 1, 3: 3, 9: 1}]):
        with pytest.raises(ValidationFailed):
            order_split(order=order, groups=groups, actor=world.actor)
    order.refresh_from_db()
    assert order.status == "pending_review"
    assert not OrderLineage.objects.exists()


def test_merge_two_orders_and_unmerge_them_back(world: World) -> None:
    _stocked(world)
    buyer = {"platform_buyer_id": "same", "nickname": "老王", "phone": "13900139000"}
    a = world.order([("TEA-001", 2)], buyer=buyer, buyer_remark="a 的备注", shipping="5.00")
    b = world.order([("NUT-002", 1), ("CUP-003", 1)], buyer=buyer, seller_remark="b 的卖家备注")
    assert [len(g) for g in merge_suggestions()] == [2]
    merged = orders_merge(numbers=[a.number, b.number], actor=world.actor, reason="同一买家")
    for o in (a, b):
        o.refresh_from_db()
        assert o.status == "closed"
        assert split_merge_status(order=o) == "merged_source"
    for attr in MONEY:
        assert getattr(merged, attr) == getattr(a, attr) + getattr(b, attr), attr
    assert sorted(merged.platform_order_ids) == sorted(a.platform_order_ids + b.platform_order_ids)
    assert f"【{a.number}】a 的备注" in merged.buyer_remark
    assert f"【{b.number}】b 的卖家备注" in merged.seller_remark
    assert split_merge_status(order=merged) == "merge_result"
    assert _held([merged]) == 4

    back = order_unmerge(order=merged, actor=world.actor, reason="买家要求分开发")
    assert len(back) == 2
    by_ids = {tuple(o.platform_order_ids): o for o in back}
    again_a = by_ids[tuple(a.platform_order_ids)]
    assert again_a.buyer_remark == "a 的备注"
    for attr in ("goods_minor", "payable_minor", "received_minor"):
        assert getattr(again_a, attr) == getattr(a, attr), attr
    graph = order_lineage(order=again_a)
    assert {a.number, b.number, merged.number} <= set(graph.nodes)


def test_merge_refusals(world: World) -> None:
    _stocked(world)
    a = world.order([("TEA-001", 1)], buyer={"platform_buyer_id": "x1", "phone": "13900139000"})
    b = world.order([("TEA-001", 1)], buyer={"platform_buyer_id": "x2", "phone": "13900139000"})
    with pytest.raises(Conflict) as err:
        orders_merge(numbers=[a.number, b.number], actor=world.actor)
    assert "another buyer" in err.value.message
    with pytest.raises(ValidationFailed):
        orders_merge(numbers=[a.number, a.number], actor=world.actor)
    buyer = {"platform_buyer_id": "inv", "phone": "13900139000"}
    c = world.order([("TEA-001", 1)], buyer=buyer, invoice={"kind": "personal", "title": "张三"})
    d = world.order(
        [("TEA-001", 1)], buyer=buyer, invoice={"kind": "company", "title": "某公司", "tax_id": "91330100MA2B3C4D5E"}
    )
    with pytest.raises(Conflict) as err:
        orders_merge(numbers=[c.number, d.number], actor=world.actor)
    assert err.value.code == "invoice_conflict"
    merged = orders_merge(numbers=[c.number, d.number], actor=world.actor, invoice_from=d.number)
    assert merged.invoice_title == "某公司"
    with pytest.raises(Conflict):
        orders_merge(numbers=[merged.number, c.number], actor=world.actor)


def test_stockouts_of_the_original_are_cancelled_and_judged_again(world: World) -> None:
    from oms.fulfillment.models import Stockout
    from oms.fulfillment.services.pipeline import orders_advance

    world.receive(world.hz, "TEA-001", 3)
    world.receive(world.hz, "NUT-002", 10)
    order = world.order([("TEA-001", 5), ("NUT-002", 2)])
    orders_advance(orders=[order], actor=world.actor, buffer_minutes=0)
    assert Stockout.objects.filter(order=order, state="open").exists()
    short_child, ready_child = order_split(order=order, groups=[{1: 5}, {2: 2}], actor=world.actor)
    assert not Stockout.objects.filter(order=order, state="open").exists()
    assert Stockout.objects.filter(order=short_child, state="open").exists()
    assert not Stockout.objects.filter(order=ready_child, state="open").exists()
    assert ready_child.status == "pending_dispatch"


def test_auto_split_by_weight_and_auto_merge(world: World) -> None:
    from oms.splitmerge.services.auto import order_auto_split, orders_auto_merge

    for code in ("TEA-001", "RICE-10"):
        world.receive(world.hz, code, 50)
    order = world.order([("RICE-10", 2), ("TEA-001", 4)])
    parcels = order_auto_split(order=order, strategy="weight", actor=world.actor, max_weight_g=15_000)
    assert len(parcels) == 2
    with pytest.raises(Conflict):
        order_auto_split(order=parcels[0], strategy="category", actor=world.actor)

    buyer = {"platform_buyer_id": "auto", "phone": "13900139000"}
    a = world.order([("TEA-001", 1)], buyer=buyer)
    b = world.order([("TEA-001", 2)], buyer=buyer)
    merged = orders_auto_merge(actor=world.actor)
    assert len(merged) == 1
    assert sorted(merged[0].platform_order_ids) == sorted(a.platform_order_ids + b.platform_order_ids)


def test_review_warns_same_buyer_not_merged_but_not_for_split_siblings(world: World) -> None:
    from oms.review.services import orders_review

    _stocked(world)
    buyer = {"platform_buyer_id": "twice", "phone": "13900139000"}
    a = world.order([("TEA-001", 1)], buyer=buyer)
    b = world.order([("NUT-002", 1)], buyer=buyer)
    outcomes = {o.order.pk: o for o in orders_review(orders=[a, b], actor=world.actor)}
    assert "not_merged" in outcomes[a.pk].open_codes
    assert "not_merged" in outcomes[b.pk].open_codes

    single = world.order([("TEA-001", 2), ("CUP-003", 1)])
    first, second = order_split(order=single, groups=[{1: 2}, {2: 1}], actor=world.actor)
    assert not Interception.objects.filter(order__in=[first, second], reason_code="not_merged").exists()


def test_a_split_never_leaves_an_order_holding_only_gifts(world: World) -> None:
    from oms.catalog.models import Sku

    _stocked(world)
    gift = Sku.objects.create(code="GIFT-1", name="赠品", is_gift=True)
    world.skus["GIFT-1"] = gift
    world.receive(world.hz, "GIFT-1", 10)
    order = world.order([("TEA-001", 2), ("GIFT-1", 1)])
    with pytest.raises(ValidationFailed) as err:
        order_split(order=order, groups=[{1: 2}, {2: 1}], actor=world.actor)
    assert err.value.details[0].code == "gifts_only"
    first, _second = order_split(order=order, groups=[{1: 1, 2: 1}, {1: 1}], actor=world.actor)
    assert {line.is_gift for line in first.lines.all()} == {False, True}


def test_periodic_tasks_are_scheduled_and_run(world: World, settings: Any) -> None:
    from django.conf import settings as dj

    from oms.orders.tasks import cancel_unpaid
    from oms.splitmerge.tasks import auto_merge

    tasks = {entry["task"] for entry in dj.CELERY_BEAT_SCHEDULE.values()}
    assert {"orders.cancel_unpaid", "splitmerge.auto_merge", "outbox.relay", "fulfillment.pipeline"} <= tasks
    _stocked(world)
    buyer = {"platform_buyer_id": "task-buyer", "phone": "13900139000"}
    world.order([("TEA-001", 1)], buyer=buyer)
    world.order([("TEA-001", 1)], buyer=buyer)
    assert auto_merge.apply().get() == 1
    assert cancel_unpaid.apply().get() == 0


def test_orders_no_warehouse_can_serve_are_split_by_the_plan_and_placed(world: World) -> None:
    from oms.fulfillment.services.pipeline import orders_advance
    from oms.splitmerge.tasks import auto_split

    world.receive(world.hz, "TEA-001", 5)
    world.receive(world.gz, "CUP-003", 5)
    order = world.order([("TEA-001", 1), ("CUP-003", 2)])
    orders_advance(orders=[order], actor=world.actor, buffer_minutes=0)
    order.refresh_from_db()
    assert order.status == "pending_split"
    assert auto_split.apply().get() == 2
    children = [link.child for link in OrderLineage.objects.filter(parent=order)]
    assert {c.final_warehouse_id for c in children} == {world.hz.pk, world.gz.pk}
    assert {c.status for c in children} == {"pending_dispatch"}


def test_money_received_is_carried_so_later_refunds_on_a_child_add_up(world: World) -> None:
    from oms.orders.models import Payment
    from oms.orders.services.payments import payment_record

    _stocked(world)
    order = _unreviewed_order(world)
    first, second = order_split(order=order, groups=[{1: 5}, {2: 1, 3: 3}], actor=world.actor)
    carried = Payment.objects.filter(order__in=[first, second], method="carried", kind="payment")
    assert sum(p.amount_minor for p in carried) == order.received_minor
    payment_record(
        order=first,
        method="alipay",
        transaction_id="RF-CHILD-1",
        amount_minor=500,
        paid_at=None,
        actor=world.actor,
        kind="refund",
    )
    first.refresh_from_db()
    assert first.received_minor == carried.get(order=first).amount_minor
    assert first.refunded_minor == 500
    assert first.payment_status == "partially_refunded"
    assert first.received_minor + second.received_minor == order.received_minor
