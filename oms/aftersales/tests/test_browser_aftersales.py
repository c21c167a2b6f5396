"""Playwright in Chromium: 申请售后 from an order with the live recalculation → approve (customer service) →
receive and inspect (warehouse) → refund (finance), each as its own role."""

from __future__ import annotations

import os
from typing import Any

import pytest

from oms.aftersales.models import Case
from oms.orders.models import Order

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = pytest.mark.browser


def test_a_return_from_request_to_refund_as_each_role(
    transactional_db: Any, live_server: Any, make_operator: Any, login: Any, page: Any, shipped: Any
) -> None:
    order: Order = shipped()
    for role, name in (("customer_service", "kefu"), ("warehouse_coordinator", "cangku"), ("finance", "caiwu")):
        make_operator(role, username=name, password="browser-test-pass")

    p = login("kefu", "browser-test-pass")
    p.goto(f"{live_server.url}/orders/{order.number}/")
    p.click("[data-testid=aftersales-new]")
    p.wait_for_selector("[data-testid=case-form]")
    p.select_option("[data-testid=case-kind]", "return_refund")
    p.select_option("[data-testid=case-reason]", "no_reason_7_days")
    p.fill("[data-testid=units-2]", "1")
    p.dispatch_event("[data-testid=units-2]", "change")
    p.wait_for_selector("[data-testid=preview-refund]:text-is('50.00')")
    assert "满300减50 不再满足" in p.inner_text("[data-testid=preview-explanation]")
    p.click("[data-testid=case-submit]")
    p.wait_for_selector("[data-testid=case-status][data-status=requested]")
    case = Case.objects.get(order=order)
    assert p.inner_text("[data-testid=case-refund]").startswith("50.00")
    p.click("[data-testid=case-approve]")
    p.wait_for_selector("[data-testid=case-status][data-status=awaiting_return]")
    # Customer service may not receive goods.
    assert p.locator("[data-testid=case-receive]").count() == 0

    p.context.clear_cookies()
    p = login("cangku", "browser-test-pass")
    p.goto(f"{live_server.url}/aftersales/{case.number}/")
    p.click("[data-testid=case-receive]")
    p.wait_for_selector("[data-testid=case-status][data-status=received]")
    p.click("[data-testid=case-inspect]")
    p.wait_for_selector("[data-testid=case-status][data-status=refunding]")
    assert p.locator("[data-testid=refund-form]").count() == 0

    p.context.clear_cookies()
    p = login("caiwu", "browser-test-pass")
    p.goto(f"{live_server.url}/aftersales/")
    assert p.locator("[data-testid=case-row]").count() == 1
    p.click(f"text={case.number}")
    p.fill("[data-testid=refund-txn]", "ALI-RF-0001")
    p.click("[data-testid=case-refund-submit]")
    p.wait_for_selector("[data-testid=case-status][data-status=refunded]")
    order.refresh_from_db()
    assert order.refunded_minor == 5000


def test_an_exchange_at_a_higher_price_in_the_console(
    transactional_db: Any, live_server: Any, make_operator: Any, login: Any, page: Any, shipped: Any
) -> None:
    order: Order = shipped()
    for role, name in (("customer_service", "kefu"), ("warehouse_coordinator", "cangku")):
        make_operator(role, username=name, password="browser-test-pass")
    p = login("kefu", "browser-test-pass")
    p.goto(f"{live_server.url}/orders/{order.number}/aftersales/new/")
    p.wait_for_selector("[data-testid=case-form]")
    p.select_option("[data-testid=case-kind]", "exchange")
    p.select_option("[data-testid=case-reason]", "wrong_item")
    p.fill("[data-testid=units-2]", "1")
    p.fill("[data-testid=x-sku-2]", "CUP-003")
    p.fill("[data-testid=x-price-2]", "130.00")
    p.dispatch_event("[data-testid=x-price-2]", "change")
    p.wait_for_selector("[data-testid=preview-owed]:text-is('30.00')")
    p.click("[data-testid=case-submit]")
    p.wait_for_selector("[data-testid=case-status][data-status=requested]")
    assert p.inner_text("[data-testid=case-owed]").startswith("30.00")
    p.click("[data-testid=case-approve]")
    p.wait_for_selector("[data-testid=case-status][data-status=awaiting_return]")
    case = Case.objects.get(order=order)
    p.context.clear_cookies()
    p = login("cangku", "browser-test-pass")
    p.goto(f"{live_server.url}/aftersales/{case.number}/")
    p.click("[data-testid=case-receive]")
    p.wait_for_selector("[data-testid=case-status][data-status=received]")
    p.click("[data-testid=case-inspect]")
    p.wait_for_selector("[data-testid=case-status][data-status=refunded]")
    linked = p.inner_text("[data-testid=case-linked-order]")
    assert linked.startswith("EX") and Order.objects.get(number=linked).payable_minor == 11243
