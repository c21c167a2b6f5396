"""Intake reserves channel stock for mapped lines; cancelling releases it (C3, S2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oms.catalog.models import Sku
from oms.channels.models import ChannelStock
from oms.core.errors import Conflict
from oms.inventory.models import Reservation
from oms.orders.models import Order, OrderLine
from oms.orders.services.cancel import order_cancel
from oms.orders.services.intake import order_intake, order_intake_bulk
from oms.testing.orders import order_payload


def quota(channel: Any, code: str, n: int) -> None:
    ChannelStock.objects.update_or_create(channel=channel, sku=Sku.objects.get(code=code), defaults={"quota": n})


def reserved(channel: Any, code: str) -> int:
    return ChannelStock.objects.get(channel=channel, sku__code=code).sales_reserved


def one_line(channel: str, code: str, qty: int, **extra: Any) -> dict[str, Any]:
    return order_payload(
        channel=channel,
        order_discount="0",
        shipping="0",
        lines=[{"sku_code": code, "quantity": qty, "unit_price": "10.00"}],
        **extra,
    )


def test_platform_order_reserves_and_marks_shortage_never_refused(tmall: Any, skus: Any, admin_operator: Any) -> None:
    quota(tmall, "TEA-001", 3)
    order = order_intake(payload=one_line("TMALL", "TEA-001", 5), actor=admin_operator).order
    assert order is not None and order.has_short_lines
    line = OrderLine.objects.get(order=order)
    assert line.short_quantity == 2
    assert reserved(tmall, "TEA-001") == 3
    # A platform order is never refused, even when the caller asks to refuse on shortage.
    again = order_intake(payload=one_line("TMALL", "TEA-001", 1), actor=admin_operator, refuse_when_short=True)
    assert again.order is not None and again.order.has_short_lines


def test_store_order_refused_when_short_names_the_sku_and_writes_nothing(
    store: Any, skus: Any, admin_operator: Any
) -> None:
    quota(store, "TEA-001", 1)
    with pytest.raises(Conflict) as info:
        order_intake(payload=one_line("STORE-SH", "TEA-001", 2), actor=admin_operator, refuse_when_short=True)
    assert info.value.code == "insufficient_stock"
    assert [s["sku"] for s in info.value.extra["skus"]] == ["TEA-001"]
    assert Order.objects.count() == 0 and reserved(store, "TEA-001") == 0


def test_bulk_refusal_of_one_store_order_keeps_the_others(store: Any, skus: Any, admin_operator: Any) -> None:
    quota(store, "TEA-001", 3)
    outcomes = order_intake_bulk(
        payloads=[
            one_line("STORE-SH", "TEA-001", 2),
            one_line("STORE-SH", "TEA-001", 2),
            one_line("STORE-SH", "TEA-001", 1),
        ],
        actor=admin_operator,
        refuse_when_short=True,
    )
    assert [o.error.code if o.error else "ok" for o in outcomes] == ["ok", "insufficient_stock", "ok"]
    assert Order.objects.count() == 2 and reserved(store, "TEA-001") == 3


def test_unmapped_line_is_kept_flagged_and_not_reserved(tmall: Any, skus: Any, admin_operator: Any) -> None:
    payload = order_payload(
        order_discount="0",
        lines=[
            {"platform_sku_code": "TM-UNKNOWN-9", "quantity": 1, "unit_price": "10.00", "name": "平台商品"},
            {"sku_code": "TEA-001", "quantity": 1, "unit_price": "10.00"},
        ],
    )
    quota(tmall, "TEA-001", 10)
    order = order_intake(payload=payload, actor=admin_operator).order
    assert order is not None and order.has_unmapped_lines
    lines = list(OrderLine.objects.filter(order=order).order_by("line_no"))
    assert lines[0].sku_id is None and lines[0].name == "平台商品"
    assert Reservation.objects.filter(ref_type="order_line", ref_id=lines[0].pk).count() == 0
    assert Reservation.objects.filter(ref_type="order_line", ref_id=lines[1].pk).count() == 1


def test_platform_sku_mapping_overrides_merchant_code(tmall: Any, skus: Any, admin_operator: Any) -> None:
    from oms.orders.models import PlatformSkuMapping

    PlatformSkuMapping.objects.create(channel=tmall, platform_sku_code="TM-888", sku=Sku.objects.get(code="CUP-003"))
    payload = order_payload(lines=[{"platform_sku_code": "TM-888", "quantity": 1, "unit_price": "50.00"}])
    order = order_intake(payload=payload, actor=admin_operator).order
    line = OrderLine.objects.get(order=order)
    assert line.sku is not None and line.sku.code == "CUP-003" and line.tax_rate_bp == 1300


def test_cancel_releases_reservations(tmall: Any, skus: Any, admin_operator: Any) -> None:
    quota(tmall, "TEA-001", 10)
    order = order_intake(payload=one_line("TMALL", "TEA-001", 4), actor=admin_operator).order
    assert order is not None and reserved(tmall, "TEA-001") == 4
    order_cancel(order=order, actor=admin_operator, reason="买家不想要了")
    assert reserved(tmall, "TEA-001") == 0
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_api_refuse_when_short_is_409(make_operator: Any, api_client: Any, store: Any, skus: Any) -> None:
    client = api_client(make_operator("customer_service"))
    response = client.post(
        "/api/v1/orders?refuse_when_short=true",
        data=json.dumps(one_line("STORE-SH", "NUT-002", 1)),
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["skus"][0]["sku"] == "NUT-002"
