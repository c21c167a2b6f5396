"""Order fixtures shared by every app's tests: master data made through the real models, and order payloads."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from oms.catalog.models import Sku
from oms.channels.models import Channel

_seq = itertools.count(1)


@pytest.fixture
def tmall(db: Any) -> Channel:
    return Channel.objects.create(code="TMALL", name="天猫旗舰店", platform="tmall", classification="online")


@pytest.fixture
def store(db: Any) -> Channel:
    return Channel.objects.create(code="STORE-SH", name="上海门店", platform="store", classification="offline")


@pytest.fixture
def skus(db: Any) -> list[Sku]:
    return [
        Sku.objects.create(code="TEA-001", name="龙井绿茶 250g", tax_rate_bp=900),
        Sku.objects.create(code="NUT-002", name="每日坚果 30包", tax_rate_bp=900),
        Sku.objects.create(code="CUP-003", name="保温杯", tax_rate_bp=1300),
        Sku.objects.create(code="GIFT-01", name="试用装", tax_rate_bp=1300, is_gift=True),
    ]


def order_payload(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    body: dict[str, Any] = {
        "channel": "TMALL",
        "platform_order_id": f"TB{202600000000 + n}",
        "type": "sale",
        "currency": "CNY",
        "placed_at": "2026-01-15T10:00:00+08:00",
        "buyer": {"platform_buyer_id": f"buyer-{n}", "nickname": "小王", "phone": "13800138000"},
        "receiver": {
            "name": "王小明",
            "phone": "13800138000",
            "province": "浙江",
            "city": "杭州市",
            "district": "西湖区",
            "address": "文三路 100 号",
            "postcode": "310000",
        },
        "buyer_remark": "请尽快发货",
        "invoice": {"kind": "company", "title": "杭州某某科技有限公司", "tax_id": "91330100MA2B3C4D5E"},
        "order_discount": "10.00",
        "shipping": "8.00",
        "payment": {"method": "alipay", "transaction_id": f"ALI{n:012d}", "paid_at": "2026-01-15T10:01:00+08:00"},
        "lines": [
            {"sku_code": "TEA-001", "quantity": 2, "unit_price": "59.90", "platform_line_id": "L1"},
            {
                "platform_sku_code": "NUT-002",
                "quantity": 1,
                "unit_price": "89.00",
                "promotions": [{"code": "P1", "name": "满100减5", "kind": "full_reduction", "amount": "5.00"}],
            },
            {"sku_code": "CUP-003", "quantity": 3, "unit_price": "33.33"},
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
def payload() -> Callable[..., dict[str, Any]]:
    return order_payload


@pytest.fixture
def make_order(tmall: Channel, skus: list[Sku], make_operator: Callable[..., Any]) -> Callable[..., Any]:
    """An order taken in through the real intake service, by an integration operator of its own."""
    from oms.orders.services.intake import order_intake

    integration = make_operator("customer_service", username="tmall-sync")

    def make(**overrides: Any) -> Any:
        outcome = order_intake(payload=order_payload(**overrides), actor=integration)
        assert outcome.order is not None
        return outcome.order

    return make
