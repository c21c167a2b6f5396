"""Printed documents (PDF, read back with pypdf): the pick list sums what each warehouse picks per SKU (a
bundle by its components, shipped units left out) and names the orders; the packing slip has a page per
order with its receiver — phone and street only for operators who may see customers' contact data; both
behind the console's permissions, in the operator's language, outside text drawn as text."""

from __future__ import annotations

import io
from typing import Any

from django.test import Client
from pypdf import PdfReader

from oms.catalog.models import BundleComponent, Sku
from oms.fulfillment.services.by_hand import ParcelIn, order_ship_by_hand
from oms.fulfillment.services.pipeline import orders_advance
from oms.orders.models import Order
from oms.testing.fulfillment import World


def _text(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def _ready(world: World, lines: list[tuple[str, int]], **overrides: Any) -> Order:
    order = world.order(lines, **overrides)
    orders_advance(orders=[order], actor=world.actor)
    order.refresh_from_db()
    assert order.status == "pending_dispatch", order.status
    return order


def _client(operator: Any, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(operator)
    return client


def test_pick_list_sums_per_warehouse_and_sku(world: World, make_operator: Any) -> None:
    world.receive(world.hz, "TEA-001", 50)
    world.receive(world.hz, "NUT-002", 50)
    gift = Sku.objects.create(code="GIFT-BOX", name="茶礼盒", is_bundle=True)
    BundleComponent.objects.create(bundle=gift, component=world.skus["TEA-001"], quantity=2)
    BundleComponent.objects.create(bundle=gift, component=world.skus["NUT-002"], quantity=1)
    one = _ready(world, [("TEA-001", 3), ("GIFT-BOX", 1)])
    two = _ready(world, [("TEA-001", 1), ("NUT-002", 4)])
    order_ship_by_hand(
        order=two, courier="SF", parcels=[ParcelIn("SF1", [{"sku": "NUT-002", "quantity": 4}])], actor=world.actor
    )
    coordinator = _client(make_operator("warehouse_coordinator"))
    answer = coordinator.get(f"/fulfilment/print/picklist/?numbers={one.number},{two.number},SO-NOPE")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    (page,) = _text(answer.content)
    assert "拣货单" in page and "共 2 个订单" in page and "仓库 HZ01：共 7 件" in page
    lines = page.splitlines()
    # TEA-001: 3 + 2 (two per gift box) + 1 = 6; NUT-002: 1 from the gift box (the other order's 4 left).
    tea = lines.index("TEA-001")
    assert "6" in lines[tea : tea + 8]
    nut = lines.index("NUT-002")
    assert lines[nut : nut + 8].count("1") >= 1 and "4" not in lines[nut : nut + 8]
    assert one.number in page and "GIFT-BOX" not in page  # the box is picked as its parts

    assert coordinator.get("/fulfilment/print/picklist/?numbers=").status_code == 404
    service = _client(make_operator("finance"))
    assert service.get(f"/fulfilment/print/picklist/?numbers={one.number}").status_code == 403


def test_packing_slip_page_per_order_contact_only_with_permission(world: World, make_operator: Any) -> None:
    world.receive(world.hz, "TEA-001", 50)
    hostile = '<img src="http://169.254.169.254/x"/> 请轻放 & <b>'
    one = world.order([("TEA-001", 2)], buyer_remark=hostile)  # held for its remark: slips print all the same
    two = _ready(world, [("TEA-001", 1)])
    numbers = f"numbers={one.number}&numbers={two.number}"

    service = _client(make_operator("customer_service"))
    pages = _text(service.get(f"/fulfilment/print/packing-slips/?{numbers}").content)
    assert len(pages) == 2
    assert f"装箱单 · {one.number}" in pages[0] and f"装箱单 · {two.number}" in pages[1]
    assert "李小华 13900139000" in pages[0] and "文三路 200 号" in pages[0]
    assert hostile in pages[0].replace("\n", " ")

    coordinator = _client(make_operator("warehouse_coordinator"), "en")
    (first, _second) = _text(coordinator.get(f"/fulfilment/print/packing-slips/?{numbers}").content)
    assert "Packing slip" in first and "李小华" in first and "杭州市" in first
    assert "13900139000" not in first and "文三路" not in first  # no view_customer: no phone, no street
