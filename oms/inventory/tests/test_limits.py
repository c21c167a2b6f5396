"""Upper limits on quantities and money (issue 17, item 6): a receipt of 1,000,000,000,000 units, a channel rule
or an order line beyond its limit is refused naming the field (``too_large``), and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from oms.channels.models import AllocationRule, ChannelStock
from oms.channels.services.rules import allocation_rule_save
from oms.core.domain.limits import (
    MAX_CHANNEL_QUANTITY,
    MAX_DOCUMENT_LINE_QUANTITY,
    MAX_ORDER_LINE_QUANTITY,
    MAX_SHIPPING_MINOR,
    MAX_UNIT_PRICE_MINOR,
)
from oms.core.errors import ValidationFailed
from oms.inventory.models import StockDocument, StockItem, StockMove
from oms.inventory.services.documents import DocLine, stock_count_create, stock_receipt_create
from oms.inventory.tests.factories import make_channel, make_sku, make_warehouse
from oms.orders.domain.intake import intake_parse
from oms.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _fields(err: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str]]:
    return [(d.field, d.code) for d in err.value.details]


def test_a_receipt_of_a_trillion_units_is_refused_and_nothing_is_pushed(make_operator: Any, api_client: Any) -> None:
    wh = make_warehouse("HZ01")
    ch = make_channel("TMALL", warehouses=[wh])
    AllocationRule.objects.create(channel=ch, ratio_bp=3_500)
    make_sku("A-1")
    client = api_client(make_operator("warehouse_coordinator"))

    response = client.post(
        "/api/v1/stock/receipts",
        {"warehouse": "HZ01", "lines": [{"sku": "A-1", "quantity": 1_000_000_000_000}]},
        content_type="application/json",
    )

    assert response.status_code == 422 and b"too_large" in response.content, response.content
    assert not StockDocument.objects.exists() and not StockMove.objects.exists()
    assert not ChannelStock.objects.filter(quota__gt=0).exists()
    assert not OutboxMessage.objects.filter(topic__startswith="platform.stock").exists()


def test_receipt_and_count_lines_have_a_limit_and_at_the_limit_they_pass(admin_operator: Any) -> None:
    wh, sku = make_warehouse(), make_sku()
    with pytest.raises(ValidationFailed) as err:
        stock_receipt_create(
            warehouse_id=wh.pk, lines=[DocLine(sku.pk, MAX_DOCUMENT_LINE_QUANTITY + 1)], actor=admin_operator
        )
    assert _fields(err) == [("lines[0].quantity", "too_large")]
    with pytest.raises(ValidationFailed):
        stock_count_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, 2**63)], actor=admin_operator)
    assert not StockMove.objects.exists()
    stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, MAX_DOCUMENT_LINE_QUANTITY)], actor=admin_operator)
    assert StockItem.objects.get().on_hand == MAX_DOCUMENT_LINE_QUANTITY


def test_a_warehouse_holds_at_most_the_stock_limit_of_a_sku(admin_operator: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("oms.inventory.services.documents.MAX_STOCK_UNITS", 100)
    wh, sku = make_warehouse(), make_sku()
    stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, 60)], actor=admin_operator)
    with pytest.raises(ValidationFailed) as err:
        stock_receipt_create(
            warehouse_id=wh.pk,
            lines=[DocLine(sku.pk, 30), DocLine(sku.pk, 11, is_defective=True)],
            actor=admin_operator,
        )
    assert _fields(err) == [("lines[0].quantity", "too_large"), ("lines[1].quantity", "too_large")]
    stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, 40)], actor=admin_operator)
    assert StockItem.objects.get().on_hand == 100


@pytest.mark.parametrize("name", ["fixed_quantity", "min_quantity", "max_quantity", "safety_stock"])
def test_channel_rule_quantities_have_a_limit(admin_operator: Any, name: str) -> None:
    ch = make_channel(warehouses=[make_warehouse()])
    rule = AllocationRule(channel=ch, method="fixed", max_quantity=None)
    setattr(rule, name, MAX_CHANNEL_QUANTITY + 1)
    with pytest.raises(ValidationFailed) as err:
        allocation_rule_save(rule=rule, actor=admin_operator)
    assert (name, "too_large") in _fields(err)
    assert not AllocationRule.objects.exists()


def _order(**changes: Any) -> dict[str, Any]:
    line = {"sku_code": "A-1", "quantity": 1, "unit_price": "1.00"}
    line.update(changes.pop("line", {}))
    return {
        "channel": "TMALL",
        "platform_order_id": "L1",
        "currency": "CNY",
        "buyer": {"platform_buyer_id": "b"},
        "receiver": {
            "name": "张三",
            "phone": "13800138000",
            "province": "浙江",
            "city": "杭州市",
            "address": "文三路1号",
        },
        "lines": [line],
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"line": {"unit_price": f"{MAX_UNIT_PRICE_MINOR // 100 + 1}.00"}}, "lines[0].unit_price"),
        ({"line": {"quantity": MAX_ORDER_LINE_QUANTITY + 1}}, "lines[0].quantity"),
        ({"shipping": f"{MAX_SHIPPING_MINOR // 100}.01"}, "shipping"),
    ],
)
def test_order_money_and_quantities_have_limits_per_field(changes: dict[str, Any], field: str) -> None:
    command, errors = intake_parse(_order(**changes))
    assert command is None and [(e.field, e.code) for e in errors] == [(field, "too_large")]
    command, errors = intake_parse(_order())
    assert command is not None and errors == []
