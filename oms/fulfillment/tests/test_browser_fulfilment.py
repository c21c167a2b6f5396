"""Playwright against the live server: an allocated order's fulfilment page, transfer warehouse (转仓) through
the form, then the stockout list by SKU."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from oms.fulfillment.services.pipeline import orders_advance
from oms.orders.models import Order
from oms.testing.fulfillment import World

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = pytest.mark.browser


def test_transfer_warehouse_from_the_order_page(
    transactional_db: Any, world: World, live_server: Any, login: Callable[[str, str], Any]
) -> None:
    world.receive(world.hz, "TEA-001", 5)
    world.receive(world.gz, "TEA-001", 5)
    order = world.order([("TEA-001", 2)])
    short = world.order([("CUP-003", 1)])
    orders_advance(orders=[order, short], actor=world.actor)
    p = login("boss", "correct-horse-battery")  # the world's administrator

    p.goto(f"{live_server.url}/orders/{order.number}/fulfilment/")
    assert "HZ01" in p.inner_text("[data-testid=final-warehouse]")
    assert "single" in p.inner_text("[data-testid=decisions]")
    p.select_option("select[name=warehouse]", "GZ01")
    p.fill("form:has([data-testid=transfer]) input[name=reason]", "杭州仓暂停发货")
    p.click("[data-testid=transfer]")
    p.wait_for_selector("text=杭州仓暂停发货")
    assert "GZ01" in p.inner_text("[data-testid=final-warehouse]")
    assert "华东分公司 → 华南分公司" in p.inner_text("[data-testid=transfers]")
    assert Order.objects.get(pk=order.pk).final_warehouse_id == world.gz.pk
    assert world.reserved(world.gz, "TEA-001") == 2 and world.reserved(world.hz, "TEA-001") == 0

    p.goto(f"{live_server.url}/stockouts/")
    assert "CUP-003" in p.inner_text("[data-testid=stockout-summary]")
    assert short.number in p.inner_text("[data-testid=stockout-row]")
