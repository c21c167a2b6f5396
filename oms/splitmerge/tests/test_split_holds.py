"""S6 and what an operator already decided: a split before review runs the rules again on the new orders, but
a hold released on the original is recorded released on each new order and not raised again; a merge carries
a release only when every merged order had it released."""

from __future__ import annotations

from typing import Any

from oms.review.models import Interception, InterceptionState
from oms.review.services import interceptions_release, orders_review
from oms.splitmerge.services.merge import orders_merge
from oms.splitmerge.services.split import order_split
from oms.testing.fulfillment import World


def _held(world: World, **overrides: Any) -> Any:
    order = world.order([("TEA-001", 2), ("NUT-002", 1)], buyer_remark="周末送货", **overrides)
    (outcome,) = orders_review(orders=[order], actor=world.actor)
    assert outcome.open_codes == ["remark"]
    return order


def test_a_hold_never_released_is_raised_again_on_each_split_order(world: World) -> None:
    for code in ("TEA-001", "NUT-002"):
        world.receive(world.hz, code, 20)
    order = _held(world)  # held by its remark, nobody released it
    children = order_split(order=order, groups=[{1: 2}, {2: 1}], actor=world.actor)
    orders_review(orders=children, actor=world.actor)
    holds = Interception.objects.filter(order__in=children)
    # The rules judged the new orders again (S6): each is held by the remark, nothing was carried released.
    assert sorted(holds.values_list("order_id", "reason_code", "state")) == sorted(
        (c.pk, "remark", InterceptionState.OPEN) for c in children
    )


def test_released_hold_is_recorded_released_on_each_new_order_and_not_raised_again(world: World) -> None:
    for code in ("TEA-001", "NUT-002"):
        world.receive(world.hz, code, 20)
    order = _held(world)
    hold = Interception.objects.get(order=order, reason_code="remark")
    # A second open hold keeps the order unreviewed after the remark is released.
    Interception.objects.create(order=order, reason_code="address", reason="地址待核实")
    interceptions_release(interception_ids=[hold.pk], actor=world.actor, note="已阅备注")
    order.refresh_from_db()
    assert order.reviewed_at is None
    children = order_split(order=order, groups=[{1: 2}, {2: 1}], actor=world.actor)
    for child in children:
        carried = Interception.objects.get(order=child, reason_code="remark")
        assert carried.state == InterceptionState.RELEASED
        assert order.number in carried.resolution_note and "已阅备注" in carried.resolution_note
    outcomes = orders_review(orders=children, actor=world.actor)
    assert all("remark" not in o.open_codes for o in outcomes)


def test_a_merge_carries_only_releases_every_order_had(world: World) -> None:
    for code in ("TEA-001", "NUT-002"):
        world.receive(world.hz, code, 20)
    buyer = {"platform_buyer_id": "same-buyer", "phone": "13900139000"}
    a = world.order([("TEA-001", 1)], buyer=buyer, buyer_remark="备注A")
    b = world.order([("NUT-002", 1)], buyer=buyer, buyer_remark="备注B")
    orders_review(orders=[a, b], actor=world.actor)
    for o in (a, b):  # keep both unreviewed: a second hold stays open
        Interception.objects.create(order=o, reason_code="address", reason="地址待核实")
    only_a = Interception.objects.get(order=a, reason_code="remark")
    interceptions_release(interception_ids=[only_a.pk], actor=world.actor, note="已阅A")
    merged = orders_merge(numbers=[a.number, b.number], actor=world.actor, reason="合并发货")
    assert not Interception.objects.filter(order=merged, state=InterceptionState.RELEASED).exists()
    (outcome,) = orders_review(orders=[merged], actor=world.actor)
    assert "remark" in outcome.open_codes  # B's remark was never read
