"""Invoicing fixtures: SKUs with tax codes, and a paid order shipped from a warehouse of a subsidiary with a
valid invoice request, all made through the real services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from oms.catalog.models import Sku
from oms.inventory.models import Subsidiary, Warehouse
from oms.orders.domain.status import Status
from oms.orders.models import Order
from oms.orders.services.timeline import order_transition

BUYER_TAX_ID = "91330100799655058B"
COMPANY = {"kind": "company", "title": "杭州某某科技有限公司", "tax_id": BUYER_TAX_ID, "email": "fp@example.com"}
TO_SHIPPED = (Status.PENDING_DISPATCH, Status.PENDING_SHIPMENT, Status.SHIPPED)


@pytest.fixture
def taxed(skus: list[Sku]) -> list[Sku]:
    codes = {"TEA-001": "1030201010000000000", "NUT-002": "1030110990000000000", "CUP-003": "1060512990000000000"}
    for sku in skus:
        sku.tax_code = codes.get(sku.code, "1060512990000000000")
        sku.invoice_unit = "件"
        sku.save()
    return skus


def warehouse() -> Warehouse:
    east, _ = Subsidiary.objects.get_or_create(
        code="EAST", defaults={"name": "华东分公司", "tax_id": "91330100MA2B3C4D5N"}
    )
    found, _ = Warehouse.objects.get_or_create(
        code="HZ01", defaults={"name": "杭州仓", "subsidiary": east, "province": "330000"}
    )
    return found


@pytest.fixture
def shipped_order(make_order: Callable[..., Order], taxed: list[Sku], admin_operator: Any) -> Callable[..., Order]:
    def make(**overrides: Any) -> Order:
        order = make_order(**{"invoice": COMPANY, **overrides})
        for status in TO_SHIPPED:
            order_transition(order=order, to_status=status.value, actor=admin_operator, reason="test")
        Order.objects.filter(pk=order.pk).update(warehouse=warehouse(), final_warehouse=warehouse())
        order.refresh_from_db()
        return order

    return make
