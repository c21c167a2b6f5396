"""Customers in the console (issue 15 item 8): order count and spend, an aligned order history, editing name,
phone and remark through the orders service, and the blacklist action that review's 黑名单 rule holds by."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from oms.audit.models import OperationLog
from oms.orders.models import Customer
from oms.review.models import BlacklistEntry, Interception
from oms.review.services import order_review
from oms.testing.fulfillment import World

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def logged_in(operator: Any) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def _customer(world: World) -> tuple[Customer, Any]:
    buyer = {"platform_buyer_id": "vip-1", "nickname": "老王", "phone": "13900139000"}
    first = world.order([("TEA-001", 2)], buyer=buyer)
    world.order([("NUT-002", 1)], buyer=buyer)
    assert first.customer is not None
    return first.customer, first


def _cells(html: str, testid: str) -> list[int]:
    table = re.search(rf'data-testid="{testid}">(.*?)</table>', html, re.S)
    assert table, html[:1500]
    header = len(re.findall(r"<th[ >]", table[1]))
    rows = re.findall(r'<tr data-testid="order-row">(.*?)</tr>', table[1], re.S)
    return [header, *(len(re.findall(r"<td[ >]", r)) for r in rows)]


def test_list_and_page_show_order_count_and_spend_aligned(world: World, make_operator: Any) -> None:
    customer, _order = _customer(world)
    service = logged_in(make_operator("customer_service"))
    html = service.get("/customers/", {"q": "vip-1"}).content.decode()
    assert re.search(r'data-testid="customer-orders-count">2<', html)
    assert 'data-testid="customer-spend">30.00 CNY<' in html
    page = service.get(f"/customers/{customer.pk}/", **ZH).content.decode()
    assert re.search(r'data-testid="customer-order-count">2<', page)
    assert _cells(page, "customer-orders") == [8, 8, 8]  # every row has a cell under every heading


def test_edit_customer_through_the_service(world: World, make_operator: Any) -> None:
    customer, _order = _customer(world)
    service = logged_in(make_operator("customer_service"))
    url = f"/customers/{customer.pk}/edit/"
    response = service.post(url, {"name": "王大明", "phone": "139 0013 9000", "remark": "老客户，发顺丰"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.remark) == ("王大明", "139 0013 9000", "老客户，发顺丰")
    assert OperationLog.objects.filter(action="customer.update").exists()

    refused = service.post(url, {"name": "x" * 65, "phone": "call me", "remark": ""}, **ZH)
    assert refused.status_code == 422
    problems = re.search(r'data-testid="customer-problems">(.*?)</section>', refused.content.decode(), re.S)
    assert problems and "name" in problems[1] and "phone" in problems[1], refused.content.decode()[:500]
    customer.refresh_from_db()
    assert customer.name == "王大明"


def test_edit_and_blacklist_need_their_permissions(world: World, make_operator: Any) -> None:
    customer, _order = _customer(world)
    finance = logged_in(make_operator("finance"))  # sees customers, may neither edit nor blacklist
    page = finance.get(f"/customers/{customer.pk}/").content.decode()
    assert "customer-edit-form" not in page and "customer-blacklist-form" not in page
    assert finance.post(f"/customers/{customer.pk}/edit/", {"name": "x"}).status_code == 403
    assert finance.post(f"/customers/{customer.pk}/blacklist/").status_code == 403
    assert not BlacklistEntry.objects.exists()


def test_blacklisted_buyer_is_held_at_review(world: World, make_operator: Any) -> None:
    customer, _order = _customer(world)
    reviewer = logged_in(make_operator("order_reviewer"))
    assert reviewer.post(f"/customers/{customer.pk}/blacklist/", {"note": "恶意退款"}).status_code == 302
    assert BlacklistEntry.objects.filter(kind="buyer", value="vip-1").exists()
    assert 'data-testid="customer-blacklisted"' in reviewer.get(f"/customers/{customer.pk}/").content.decode()
    later = world.order([("TEA-001", 1)], buyer={"platform_buyer_id": "vip-1", "nickname": "老王"})
    outcome = order_review(order=later, actor=world.actor)
    assert not outcome.passed
    assert Interception.objects.filter(order=later, reason_code="blacklist", state="open").exists()
    reviewer.post(f"/customers/{customer.pk}/unblacklist/")
    assert not BlacklistEntry.objects.exists()
