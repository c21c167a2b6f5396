"""Playwright against the live server, as customer service (客服): enter an order by hand from the menu, picking
SKUs by typing part of their name (htmx fills the picker), and land on the new order's page in Chinese."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from oms.orders.models import Order
from oms.testing.fulfillment import World

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = pytest.mark.browser


def test_enter_an_order_by_hand_in_the_console(
    transactional_db: Any,
    world: World,
    live_server: Any,
    make_operator: Any,
    login: Callable[[str, str], Any],
) -> None:
    make_operator("customer_service", username="kefu", password="browser-test-pass")
    p = login("kefu", "browser-test-pass")
    p.click("nav a[href='/orders/new/']")
    p.wait_for_selector("[data-testid=order-new-form]")
    assert "手工录入订单" in p.content()

    p.select_option("[data-testid=entry-channel]", world.channel.code)
    p.fill("[data-testid=entry-receiver-name]", "赵小六")
    p.fill("[data-testid=entry-receiver-phone]", "13600136000")
    p.fill("[data-testid=entry-receiver-province]", "浙江")
    p.fill("[data-testid=entry-receiver-city]", "杭州市")
    p.fill("[data-testid=entry-receiver-address]", "天目山路 9 号")
    # The SKU picker: typing part of a name brings the matching SKUs (htmx) into the field's suggestions.
    p.type("[data-testid=line-0-sku]", "坚果")
    p.wait_for_selector("#sku-options option[value='NUT-002']", state="attached")
    assert p.locator("#sku-options option").count() == 1
    p.fill("[data-testid=line-0-sku]", "NUT-002")
    p.fill("[data-testid=line-0-qty]", "3")
    p.fill("[data-testid=line-0-price]", "12.50")
    p.select_option("[data-testid=entry-payment-method]", "cash")
    p.fill("[data-testid=entry-payment-transaction]", "CASH-001")
    p.click("[data-testid=entry-submit]")

    p.wait_for_selector("[data-testid=order-number]")
    number = p.inner_text("[data-testid=order-number]")
    order = Order.objects.get(number=number)
    assert order.payable_minor == 3750 and order.received_minor == 3750
    assert [(ln.sku.code, ln.quantity) for ln in order.lines.select_related("sku")] == [("NUT-002", 3)]
    assert "已录入" in p.inner_text(".messages")
