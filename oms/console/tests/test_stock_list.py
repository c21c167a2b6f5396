"""The stock list (库存): pages past 100 SKUs with a count, shows what is available (on hand − reserved) and
filters by warehouse."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from oms.catalog.models import Sku
from oms.inventory.models import Subsidiary, Warehouse
from oms.inventory.services.documents import DocLine, stock_receipt_create

pytestmark = pytest.mark.django_db


def _codes(html: str) -> list[str]:
    return re.findall(r'href="/stock/sku/([^/]+)/"', html)


def test_stock_list_pages_past_100_and_filters_by_warehouse(make_operator: Any, admin_operator: Any) -> None:
    Sku.objects.bulk_create([Sku(code=f"P-{i:03d}", name=f"商品{i}") for i in range(130)])
    Sku.objects.create(code="BOX-1", name="礼盒", is_bundle=True)  # bundles are not stocked: not listed
    sub = Subsidiary.objects.create(code="EAST", name="华东")
    hz = Warehouse.objects.create(code="HZ01", name="杭州仓", subsidiary=sub, province="330000")
    gz = Warehouse.objects.create(code="GZ01", name="广州仓", subsidiary=sub, province="440000")
    first, last = Sku.objects.get(code="P-000"), Sku.objects.get(code="P-129")
    stock_receipt_create(warehouse_id=hz.pk, lines=[DocLine(sku_id=first.pk, quantity=7)], actor=admin_operator)
    stock_receipt_create(warehouse_id=gz.pk, lines=[DocLine(sku_id=first.pk, quantity=5)], actor=admin_operator)
    stock_receipt_create(warehouse_id=gz.pk, lines=[DocLine(sku_id=last.pk, quantity=3)], actor=admin_operator)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(make_operator("customer_service"))

    seen: list[str] = []
    for page in (1, 2, 3):
        html = client.get(f"/stock/?page={page}").content.decode()
        assert "130" in re.sub(r"<[^>]+>", " ", html)  # the count of all SKUs found
        seen += _codes(html)
    assert seen == [f"P-{i:03d}" for i in range(130)]  # every SKU once, past the first 100
    assert 'data-testid="stock-next"' not in client.get("/stock/?page=3").content.decode()

    html = client.get("/stock/?q=P-000").content.decode()
    assert "可用" in html and re.search(r'data-testid="stock-available">12<', html)

    html = client.get("/stock/?warehouse=GZ01").content.decode()
    assert _codes(html) == ["P-000", "P-129"]
    assert re.search(r'data-testid="stock-available">5<', html)
