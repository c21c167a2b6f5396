from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import expect

from oms.orders.models import Order
from oms.splitmerge.models import OrderLineage
from oms.testing.fulfillment import World


def _stock(world: World) -> None:
    for code in ("TEA-001", "NUT-002", "CUP-003"):
        world.receive(world.hz, code, 20)


def _client(operator: Any) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def test_split_preview_shows_exact_totals_or_problems(world: World, make_operator: Any) -> None:
    _stock(world)
    order = world.order([("TEA-001", 5), ("NUT-002", 1)], shipping="8.00", order_discount="3.33")
    client = _client(make_operator("order_reviewer"))
    # Nothing moved yet: a hint, not an error (the dialog opens without one).
    untouched = client.post(f"/orders/{order.number}/split/preview/", {"groups": "2"}).content.decode()
    assert "split-hint" in untouched and "split-errors" not in untouched
    # Order 2 takes 3 of line 1 and line 2: one field per move; order 1 keeps the rest (2 of line 1).
    ok = client.post(
        f"/orders/{order.number}/split/preview/", {"groups": "2", "q-1-1": "3", "q-1-2": "1"}
    ).content.decode()
    assert re.search(r'id="rest-1"[^>]*>2<', ok)
    payables = re.findall(r'data-testid="group-payable-\d">([\d.]+)<', ok)
    assert len(payables) == 2
    assert sum(round(float(p) * 100) for p in payables) == order.payable_minor
    bad = client.post(f"/orders/{order.number}/split/preview/", {"groups": "2", "q-1-1": "9"}).content.decode()
    assert "split-errors" in bad


def test_split_dialog_submits_and_lineage_panel_shows_the_graph(world: World, make_operator: Any) -> None:
    _stock(world)
    order = world.order([("TEA-001", 5), ("NUT-002", 1)])
    client = _client(make_operator("order_reviewer"))
    assert client.get(f"/orders/{order.number}/split/").status_code == 200
    response = client.post(f"/orders/{order.number}/split/", {"action": "split", "groups": "2", "q-1-2": "1"})
    assert response.status_code == 302
    children = [link.child for link in OrderLineage.objects.filter(parent=order)]
    assert len(children) == 2
    panel = client.get(f"/orders/{order.number}/lineage/").content.decode()
    assert "lineage-graph" in panel
    for child in children:
        assert child.number in panel


def test_merge_from_the_list_selection(world: World, make_operator: Any) -> None:
    _stock(world)
    buyer = {"platform_buyer_id": "same-x", "phone": "13900139000"}
    a = world.order([("TEA-001", 1)], buyer=buyer)
    b = world.order([("NUT-002", 1)], buyer=buyer)
    client = _client(make_operator("order_reviewer"))
    page = client.get("/orders/").content.decode()
    assert f'data-testid="select-{a.number}"' in page
    confirm = client.get("/merge/", {"orders": [a.number, b.number]}).content.decode()
    assert "merge-confirm" in confirm and a.number in confirm and b.number in confirm
    refused = client.post("/merge/", {"orders": [a.number, b.number]})  # no reason: asked again, nothing merged
    assert refused.status_code == 200 and Order.objects.get(pk=a.pk).status != "closed"
    response = client.post("/merge/", {"orders": [a.number, b.number], "reason": "同一买家同一地址"})
    assert response.status_code == 302
    merged = Order.objects.get(number=response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert sorted(merged.platform_order_ids) == sorted(a.platform_order_ids + b.platform_order_ids)


def test_customer_service_cannot_split(world: World, make_operator: Any) -> None:
    _stock(world)
    order = world.order([("TEA-001", 2)])
    client = _client(make_operator("customer_service"))
    assert client.get(f"/orders/{order.number}/split/").status_code == 403
    assert "open-split" not in client.get(f"/orders/{order.number}/lineage/").content.decode()


@pytest.mark.browser
def test_split_in_the_dialog_then_see_the_lineage_graph(
    world: World, live_server: Any, make_operator: Any, login: Any
) -> None:
    _stock(world)
    order = world.order([("TEA-001", 5), ("NUT-002", 1)])
    make_operator("order_reviewer", username="splitter", password="splitter-pass-1")
    page = login("splitter", "splitter-pass-1")
    page.goto(f"{live_server.url}/orders/{order.number}/")
    page.click("[data-testid=open-split]")
    page.wait_for_selector("[data-testid=split-hint]")  # everything starts in the first order: no error
    assert page.locator("[data-testid=split-errors]").count() == 0
    page.fill("[data-testid=q-1-1]", "3")  # one edit moves units: order 1 keeps the rest
    page.fill("[data-testid=q-1-2]", "1")
    expect(page.locator("[data-testid=q-0-1]")).to_have_text("2")
    # A locator assertion, not wait_for_function: the console's Content-Security-Policy forbids eval in the page.
    expect(page.locator("[data-testid=group-payable-1]")).to_have_text("40.00")
    page.click("[data-testid=do-split]")
    page.wait_for_selector("[data-testid=lineage-graph]")
    nodes = page.locator("[data-testid=lineage-node]")
    assert nodes.count() == 3
    page.screenshot(path="var/screenshots/lineage.png", full_page=True)
    child = next(n for n in nodes.all_text_contents() if order.number not in n).split()[0]
    page.goto(f"{live_server.url}/orders/{child}/")
    page.wait_for_selector("[data-testid=lineage-graph]")
    assert page.locator("[data-testid=split-merge-status]").get_attribute("data-status") == "split_child"


@pytest.mark.browser
def test_merge_two_orders_from_the_list(world: World, live_server: Any, make_operator: Any, login: Any) -> None:
    _stock(world)
    buyer = {"platform_buyer_id": "browser-buyer", "phone": "13900139000"}
    a = world.order([("TEA-001", 1)], buyer=buyer)
    b = world.order([("CUP-003", 1)], buyer=buyer)
    make_operator("order_reviewer", username="merger", password="merger-pass-12")
    page = login("merger", "merger-pass-12")
    page.goto(f"{live_server.url}/orders/")
    page.check(f"[data-testid=select-{a.number}]")
    page.check(f"[data-testid=select-{b.number}]")
    page.click("[data-testid=merge-selected]")
    page.fill("[data-testid=merge-reason]", "同一买家同一地址")
    page.click("[data-testid=merge-confirm-button]")
    page.wait_for_selector("[data-testid=lineage-graph]")
    assert page.locator("[data-testid=split-merge-status]").get_attribute("data-status") == "merge_result"
    assert page.locator("[data-testid=lineage-node]").count() == 3
