"""Console: the stockout list by SKU, the dispatch view, one order's fulfilment page with the rule behind each
decision, and the transfer, courier and dispatch actions — each behind its permission."""

from __future__ import annotations

from typing import Any

from django.test import Client

from oms.fulfillment.models import Shipment, WarehouseTransfer
from oms.fulfillment.services.pipeline import orders_advance
from oms.orders.models import Order
from oms.review.models import Rule
from oms.testing.fulfillment import World


def logged_in(operator: Any) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def test_stockouts_by_sku_and_resolve(world: World, make_operator: Any) -> None:
    world.receive(world.hz, "NUT-002", 1)
    order = world.order([("NUT-002", 4)])
    orders_advance(orders=[order], actor=world.actor)
    reviewer = logged_in(make_operator("order_reviewer"))
    page = reviewer.get("/stockouts/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "NUT-002" in html and order.number in html and "resolve-stockouts" not in html
    assert reviewer.post("/stockouts/resolve/").status_code == 403

    coordinator = logged_in(make_operator("warehouse_coordinator"))
    assert "resolve-stockouts" in coordinator.get("/stockouts/").content.decode()
    world.receive(world.hz, "NUT-002", 3)
    coordinator.post("/stockouts/resolve/")
    assert Order.objects.get(pk=order.pk).status == "pending_dispatch"
    assert "NUT-002" not in coordinator.get("/stockouts/").content.decode()


def test_order_page_shows_the_rule_and_transfers_and_dispatches(world: World, make_operator: Any) -> None:
    world.receive(world.hz, "TEA-001", 5)
    world.receive(world.gz, "TEA-001", 5)
    rule = Rule.objects.create(
        kind="warehouse", code="TEA-HZ", name="茶叶走杭州", condition='"TEA-001" in skus', params={"warehouse": "HZ01"}
    )
    order = world.order([("TEA-001", 1)])
    orders_advance(orders=[order], actor=world.actor)
    service = logged_in(make_operator("customer_service"))
    html = service.get(f"/orders/{order.number}/fulfilment/").content.decode()
    assert f"/rules/{rule.pk}/" in html and "TEA-HZ" in html
    assert 'data-testid="transfer"' not in html  # no permission, no form
    assert (
        service.post(f"/orders/{order.number}/fulfilment/transfer/", {"warehouse": "GZ01", "reason": "x"}).status_code
        == 403
    )

    coordinator = logged_in(make_operator("warehouse_coordinator"))
    assert 'data-testid="transfer"' in coordinator.get(f"/orders/{order.number}/fulfilment/").content.decode()
    r = coordinator.post(
        f"/orders/{order.number}/fulfilment/transfer/", {"warehouse": "GZ01", "reason": ""}, follow=True
    )
    assert "Say why the order changes warehouse." in r.content.decode()
    assert not WarehouseTransfer.objects.exists()
    coordinator.post(f"/orders/{order.number}/fulfilment/transfer/", {"warehouse": "GZ01", "reason": "杭州仓盘点"})
    assert Order.objects.get(pk=order.pk).final_warehouse_id == world.gz.pk
    coordinator.post(f"/orders/{order.number}/fulfilment/advance/")
    assert Order.objects.get(pk=order.pk).status == "pending_dispatch"

    page = coordinator.get("/dispatch/").content.decode()
    assert order.number in page and 'data-testid="waiting-row"' in page
    coordinator.post(f"/orders/{order.number}/fulfilment/dispatch/")
    shipment = Shipment.objects.get(order=order)
    assert shipment.warehouse_id == world.gz.pk and shipment.subsidiary.code == "SOUTH"
    page = coordinator.get("/dispatch/?state=sent").content.decode()
    assert shipment.number in page
    html = coordinator.get(f"/orders/{order.number}/fulfilment/").content.decode()
    assert "华东分公司 → 华南分公司" in html


def test_menu_shows_fulfilment_entries_only_to_those_allowed(world: World, make_operator: Any) -> None:
    finance = logged_in(make_operator("finance")).get("/").content.decode()
    coordinator = logged_in(make_operator("warehouse_coordinator")).get("/").content.decode()
    assert "/stockouts/" not in finance and "/dispatch/" not in finance
    assert "/stockouts/" in coordinator and "/dispatch/" in coordinator
