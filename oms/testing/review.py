"""Fixtures shared by every app's tests (a pytest plugin loaded by the root conftest): a shop, a small catalog, and
paid platform orders taken in through the real intake service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from oms.catalog.models import Sku
from oms.channels.models import Channel
from oms.testing.orders import order_payload


@pytest.fixture
def shop(db: Any) -> Channel:
    return Channel.objects.create(code="TMALL", name="天猫旗舰店", platform="tmall", classification="online")


@pytest.fixture
def catalog(db: Any) -> list[Sku]:
    return [
        Sku.objects.create(code="TEA-001", name="龙井绿茶 250g", tax_rate_bp=900, weight_g=250),
        Sku.objects.create(code="NUT-002", name="每日坚果 30包", tax_rate_bp=900, weight_g=900),
        Sku.objects.create(code="CUP-003", name="保温杯", tax_rate_bp=1300, weight_g=400),
    ]


@pytest.fixture
def paid_order(shop: Channel, catalog: list[Sku], admin_operator: Any) -> Callable[..., Any]:
    """A paid platform order, pending review, taken in through the real intake service. By default it
    trips no seeded rule (no remark, complete address, modest amount)."""
    from oms.orders.services.intake import order_intake

    def make(**overrides: Any) -> Any:
        body = {"buyer_remark": "", "invoice": {"kind": "none"}, **overrides}
        outcome = order_intake(payload=order_payload(**body), actor=admin_operator)
        assert outcome.order is not None
        outcome.order.refresh_from_db()
        return outcome.order

    return make
