"""Playwright against the live server, as a warehouse coordinator (仓库协调), counting clicks from the order
page: 手工发货 (one parcel, then the rest) and 打印 (pick list, packing slip) each take one click there."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader

from oms.fulfillment.services.pipeline import orders_advance
from oms.orders.models import Order
from oms.testing.fulfillment import World

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = pytest.mark.browser


def test_ship_by_hand_and_print_from_the_order_page(
    transactional_db: Any,
    world: World,
    live_server: Any,
    make_operator: Any,
    login: Callable[[str, str], Any],
) -> None:
    world.receive(world.hz, "TEA-001", 10)
    order = world.order([("TEA-001", 3)])
    orders_advance(orders=[order], actor=world.actor)
    make_operator("warehouse_coordinator", username="wh", password="browser-test-pass")
    p = login("wh", "browser-test-pass")
    clicks = 0

    p.goto(f"{live_server.url}/orders/{order.number}/")
    p.wait_for_selector("[data-testid=ship-by-hand]")

    # 打印: one click each, a PDF of this order.
    with p.expect_popup() as popup:
        p.click("[data-testid=print-picklist]")
        clicks += 1
    tab = popup.value
    pdf = p.request.get(tab.url)
    assert pdf.headers["content-type"] == "application/pdf"
    assert order.number in PdfReader(io.BytesIO(pdf.body())).pages[0].extract_text()
    tab.close()
    assert clicks == 1

    # 手工发货: two of three units in the first parcel, one click.
    clicks = 0
    p.select_option("[data-testid=ship-courier]", "ZTO")
    p.fill("[data-testid=ship-tracking]", "ZT-100")
    p.fill("input[name=qty_1]", "2")
    p.click("[data-testid=ship-submit]")
    clicks += 1
    p.wait_for_selector(".messages li.success")
    assert Order.objects.get(pk=order.pk).status == "partially_shipped"
    # The rest under a second tracking number: one more click (the form now offers what is left).
    p.wait_for_selector("[data-testid=ship-by-hand]")
    assert p.input_value("input[name=qty_1]") == "1"
    p.fill("[data-testid=ship-tracking]", "ZT-101")
    p.click("[data-testid=ship-submit]")
    clicks += 1
    p.wait_for_selector(".messages li.success")
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert clicks == 2 and "ZT-101" in p.inner_text("[data-testid=parcels]")
    assert world.reserved(world.hz, "TEA-001") == 0 and world.on_hand(world.hz, "TEA-001") == 7
