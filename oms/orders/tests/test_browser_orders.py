"""Playwright against the live server: search an order, open it, cancel it with a reason."""

from __future__ import annotations

import os
from typing import Any

import pytest

from oms.orders.models import Order

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = pytest.mark.browser


def test_search_open_and_cancel(browser_page: Any, live_server: Any, make_order: Any) -> None:
    target = make_order()
    other = make_order()
    p = browser_page
    p.goto(f"{live_server.url}/orders/")
    assert p.locator("[data-testid=order-row]").count() == 2
    p.fill("[data-testid=order-search]", target.platform_order_id)
    p.press("[data-testid=order-search]", "Enter")
    p.wait_for_url("**/orders/?*")
    rows = p.locator("[data-testid=order-row]")
    assert rows.count() == 1 and other.number not in rows.first.inner_text()
    p.click(f"text={target.number}")
    p.wait_for_selector("[data-testid=order-number]")
    assert p.inner_text("[data-testid=order-number]") == target.number
    assert p.inner_text("[data-testid=order-status]") == "待审核"
    assert p.inner_text("[data-testid=lines-paid-total]") == "301.79"
    p.click("[data-testid=cancel-open]")  # the cancel form opens from the actions at the top
    p.fill("[data-testid=cancel-reason]", "买家电话要求取消")
    p.click("[data-testid=cancel-submit]")
    p.wait_for_selector("text=已取消")
    assert p.inner_text("[data-testid=order-status]") == "已取消"
    assert "买家电话要求取消" in p.inner_text("[data-testid=timeline]")
    assert Order.objects.get(pk=target.pk).status == "cancelled"
    assert p.locator("[data-testid=cancel-form]").count() == 0
