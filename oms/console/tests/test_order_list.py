"""The order list as a daily workbench (issue 15, item 3): status tabs with counts, a total, sorting, the paid
time, no stale 缺货 badge, and bulk actions on the ticked orders."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from oms.orders.models import Order
from oms.review.models import Interception, InterceptionState
from oms.testing.fulfillment import World


def _client(operator: Any) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_tabs_count_each_status_and_the_list_says_its_total(world: World, admin_operator: Any) -> None:
    world.receive(world.hz, "TEA-001", 50)
    for _ in range(3):
        world.order([("TEA-001", 1)])
    client = _client(admin_operator)
    page = client.get("/orders/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    tab = re.search(r'data-testid="tab-pending_review">(.*?)</a>', page, re.S)
    assert tab is not None and "待审核" in tab.group(1) and ">3<" in tab.group(1)
    assert "共 3 单" in _text(page)
    oldest = client.get("/orders/?sort=created_at").content.decode()
    newest = client.get("/orders/").content.decode()
    numbers = list(Order.objects.order_by("created_at", "id").values_list("number", flat=True))
    assert oldest.index(numbers[0]) < oldest.index(numbers[-1])
    assert newest.index(numbers[-1]) < newest.index(numbers[0])


def test_no_short_badge_once_an_order_has_shipped(world: World, admin_operator: Any) -> None:
    world.receive(world.hz, "TEA-001", 5)
    order = world.order([("TEA-001", 1)])
    Order.objects.filter(pk=order.pk).update(has_short_lines=True)
    client = _client(admin_operator)

    def rows() -> str:
        page = client.get("/orders/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        return _text(page[page.index('id="order-rows"') :])

    assert "缺货" in rows()
    Order.objects.filter(pk=order.pk).update(status="shipped")
    assert "缺货" not in rows()


def test_bulk_review_and_cancel_each_order_through_its_service(world: World, admin_operator: Any) -> None:
    world.receive(world.hz, "TEA-001", 50)
    clean = world.order([("TEA-001", 1)])
    remarked = world.order([("TEA-001", 1)], buyer_remark="别发中通")
    client = _client(admin_operator)
    response = client.post(
        "/orders/bulk/",
        {"action": "review", "numbers": [clean.number, remarked.number], "next": "/orders/"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        follow=True,
    )
    text = _text(response.content.decode())
    assert f"已处理 1 个订单：{clean.number}" in text
    assert f"{remarked.number}: 仍被拦截: 有备注" in text  # the hold in words, not its code
    clean.refresh_from_db()
    assert clean.reviewed_at is not None
    assert Interception.objects.filter(order=remarked, state=InterceptionState.OPEN).exists()

    refused = client.post("/orders/bulk/", {"action": "cancel", "numbers": [remarked.number]}, follow=True)
    assert Order.objects.get(pk=remarked.pk).status == "pending_review"  # a cancel needs its reason
    assert refused.status_code == 200
    client.post("/orders/bulk/", {"action": "cancel", "numbers": [remarked.number], "reason": "买家取消"})
    assert Order.objects.get(pk=remarked.pk).status == "cancelled"


def test_bulk_actions_need_their_permission(world: World, make_operator: Any) -> None:
    world.receive(world.hz, "TEA-001", 5)
    order = world.order([("TEA-001", 1)])
    finance = _client(make_operator("finance"))
    finance.post("/orders/bulk/", {"action": "cancel", "numbers": [order.number], "reason": "x"})
    assert Order.objects.get(pk=order.pk).status == "pending_review"


def test_bulk_merge_asks_for_confirmation(world: World, admin_operator: Any) -> None:
    world.receive(world.hz, "TEA-001", 5)
    buyer = {"platform_buyer_id": "same-buyer", "phone": "13900139000"}
    a = world.order([("TEA-001", 1)], buyer=buyer)
    b = world.order([("TEA-001", 1)], buyer=buyer)
    response = _client(admin_operator).post("/orders/bulk/", {"action": "merge", "numbers": [a.number, b.number]})
    assert response.status_code == 302 and response["Location"].startswith("/merge/?")
    assert a.number in response["Location"] and b.number in response["Location"]
    assert Order.objects.get(pk=a.pk).status == "pending_review"
