"""Fulfilment hooks into contexts below it: cancelling an order cancels its stockouts; warehouse and
courier rules have their parameters checked when saved."""

from __future__ import annotations

from typing import Any

import pytest

from oms.core.errors import ValidationFailed
from oms.fulfillment.models import Stockout
from oms.fulfillment.services.pipeline import orders_advance
from oms.orders.services.cancel import order_cancel
from oms.review.services import rule_save
from oms.testing.fulfillment import World


def test_cancelling_an_order_cancels_its_stockouts(world: World) -> None:
    world.receive(world.hz, "TEA-001", 1)
    order = world.order([("TEA-001", 3)])
    orders_advance(orders=[order], actor=world.actor, buffer_minutes=0)
    assert Stockout.objects.filter(order=order, state="open").exists()
    order_cancel(order=order, actor=world.actor, reason="买家取消")
    assert not Stockout.objects.filter(order=order, state="open").exists()


def test_warehouse_rule_params_are_checked_on_save(world: World, admin_operator: Any) -> None:
    base = {"kind": "warehouse", "code": "xj", "name": "新疆走成都", "condition": 'province == "新疆维吾尔自治区"'}
    with pytest.raises(ValidationFailed):
        rule_save(rule=None, data={**base, "params": {"warehouse": "NOPE"}}, actor=admin_operator)
    rule = rule_save(rule=None, data={**base, "params": {"warehouse": "CD01"}}, actor=admin_operator)
    assert rule.params == {"warehouse": "CD01"}
