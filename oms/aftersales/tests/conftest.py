"""Fixtures for after-sales: a paid, shipped order with 满300减50 taken in through the real intake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from oms.inventory.models import Subsidiary, Warehouse
from oms.orders.domain.status import Status
from oms.orders.models import Order
from oms.orders.services.timeline import order_transition
from oms.testing.orders import make_order, order_payload, payload, skus, store, tmall  # noqa: F401

PATH_TO_SHIPPED = (Status.PENDING_DISPATCH, Status.PENDING_SHIPMENT, Status.SHIPPED)


def hangzhou() -> Warehouse:
    east, _ = Subsidiary.objects.get_or_create(code="EAST", defaults={"name": "华东"})
    warehouse, _ = Warehouse.objects.get_or_create(
        code="HZ01", defaults={"name": "杭州仓", "subsidiary": east, "province": "330000"}
    )
    return warehouse


def man300_payload(**overrides: Any) -> dict[str, Any]:
    body = order_payload(
        order_discount="0.00",
        shipping="0.00",
        lines=[
            {"sku_code": "TEA-001", "quantity": 1, "unit_price": "240.00"},
            {"sku_code": "NUT-002", "quantity": 1, "unit_price": "100.00"},
        ],
        promotions=[{"kind": "threshold_off", "name": "满300减50", "threshold": "300.00", "off": "50.00"}],
    )
    body.update(overrides)
    return body


@pytest.fixture
def shipped(make_order: Callable[..., Order], admin_operator: Any) -> Callable[..., Order]:  # noqa: F811
    """An order taken in (paid), then walked to shipped through orders' transition service."""

    def make(**overrides: Any) -> Order:
        order = make_order(**{**man300_payload(), **overrides})
        for status in PATH_TO_SHIPPED:
            order_transition(order=order, to_status=status.value, actor=admin_operator, reason="test")
        # Shipped from the Hangzhou warehouse (set directly: the test stands in for allocation).
        Order.objects.filter(pk=order.pk).update(warehouse=hangzhou(), final_warehouse=hangzhou())
        order.refresh_from_db()
        return order

    return make
