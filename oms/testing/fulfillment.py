"""Fulfilment fixtures: a small world made through the real models and services — two subsidiaries, three
warehouses, a Tmall shop fed by them, couriers with a cost table, stock received by receipt documents — and
paid orders taken in by the real intake."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from oms.catalog.models import Sku
from oms.channels.models import AllocationRule, Channel, ChannelStock, ChannelWarehouse
from oms.fulfillment.models import Courier, CourierRate, WmsLink
from oms.inventory.models import Reservation, ReservationState, StockItem, Subsidiary, Warehouse
from oms.inventory.services.documents import DocLine, stock_receipt_create
from oms.orders.models import Order
from oms.orders.services.intake import order_intake
from oms.outbox.domain.signing import signature_headers

_seq = itertools.count(1)
WMS_SECRET = "wms-callback-secret-for-tests-0123456789"


def review_buffer_off(settings: Any) -> None:
    """The post-payment buffer is 0: paid orders are reviewed at once (the fulfilment and split/merge tests
    switch it off for every test, with an autouse fixture in their conftest)."""
    settings.OMS_FULFILMENT = {**settings.OMS_FULFILMENT, "REVIEW_BUFFER_MINUTES": 0}


@dataclass
class World:
    channel: Channel
    hz: Warehouse
    gz: Warehouse
    cd: Warehouse
    skus: dict[str, Sku]
    sf: Courier
    zto: Courier
    actor: Any

    def receive(self, warehouse: Warehouse, code: str, quantity: int) -> None:
        stock_receipt_create(
            warehouse_id=warehouse.pk, lines=[DocLine(sku_id=self.skus[code].pk, quantity=quantity)], actor=self.actor
        )

    def on_hand(self, warehouse: Warehouse, code: str) -> int:
        item = StockItem.objects.filter(warehouse=warehouse, sku=self.skus[code]).first()
        return item.on_hand if item else 0

    def reserved(self, warehouse: Warehouse, code: str) -> int:
        item = StockItem.objects.filter(warehouse=warehouse, sku=self.skus[code]).first()
        return item.reserved if item else 0

    def channel_stock(self, code: str) -> ChannelStock:
        return ChannelStock.objects.get(channel=self.channel, sku=self.skus[code])

    def order(self, lines: list[tuple[str, int]], **overrides: Any) -> Order:
        """A paid Tmall order (no remark, complete address in Zhejiang unless overridden)."""
        n = next(_seq)
        body: dict[str, Any] = {
            "channel": self.channel.code,
            "platform_order_id": f"FT{n:010d}",
            "type": "sale",
            "currency": "CNY",
            "placed_at": "2026-01-15T10:00:00+08:00",
            "buyer": {"platform_buyer_id": f"fbuyer-{n}", "nickname": "小李", "phone": "13900139000"},
            "receiver": {
                "name": "李小华",
                "phone": "13900139000",
                "province": "浙江",
                "city": "杭州市",
                "district": "西湖区",
                "address": "文三路 200 号",
                "postcode": "310000",
            },
            "buyer_remark": "",
            "invoice": {"kind": "none"},
            "order_discount": "0",
            "shipping": "0",
            "payment": {"method": "alipay", "transaction_id": f"FALI{n:010d}", "paid_at": "2026-01-15T10:01:00+08:00"},
            "lines": [{"sku_code": code, "quantity": qty, "unit_price": "10.00"} for code, qty in lines],
        }
        body.update(overrides)
        outcome = order_intake(payload=body, actor=self.actor)
        assert outcome.order is not None
        outcome.order.refresh_from_db()
        return outcome.order


def active_reservations(order: Order, scope: str) -> dict[tuple[int | None, str], int]:
    """(warehouse id, sku code) → units actively reserved for the order's lines in ``scope``."""
    out: dict[tuple[int | None, str], int] = {}
    for r in Reservation.objects.filter(
        ref_type="order_line", ref_id__in=list(order.lines.values_list("pk", flat=True)), scope=scope, state="active"
    ).select_related("sku"):
        key = (r.warehouse_id, r.sku.code)
        out[key] = out.get(key, 0) + r.quantity
    return out


def consumed(order: Order) -> int:
    return sum(
        Reservation.objects.filter(
            ref_type="order_line",
            ref_id__in=list(order.lines.values_list("pk", flat=True)),
            state=ReservationState.CONSUMED,
            scope="warehouse",
        ).values_list("quantity", flat=True)
    )


@pytest.fixture
def world(db: Any, admin_operator: Any) -> World:
    east = Subsidiary.objects.create(code="EAST", name="华东分公司")
    south = Subsidiary.objects.create(code="SOUTH", name="华南分公司")
    hz = Warehouse.objects.create(code="HZ01", name="杭州仓", subsidiary=east, province="330000", priority=10)
    gz = Warehouse.objects.create(code="GZ01", name="广州仓", subsidiary=south, province="440000", priority=10)
    cd = Warehouse.objects.create(
        code="CD01", name="成都仓", subsidiary=south, province="510000", coverage_provinces=["510000", "500000"]
    )
    channel = Channel.objects.create(code="TMALL", name="天猫旗舰店", platform="tmall", classification="online")
    for wh in (hz, gz, cd):
        ChannelWarehouse.objects.create(channel=channel, warehouse=wh)
    AllocationRule.objects.create(channel=channel, scope="all", method="ratio", ratio_bp=10_000)
    skus = {
        code: Sku.objects.create(code=code, name=name, weight_g=weight)
        for code, name, weight in [
            ("TEA-001", "龙井绿茶 250g", 250),
            ("NUT-002", "每日坚果 30包", 900),
            ("CUP-003", "保温杯", 400),
            ("RICE-10", "东北大米 10kg", 10_000),
        ]
    }
    sf = Courier.objects.create(
        code="SF", name="顺丰速运", supports_cod=True, max_weight_g=50_000, remark_keywords=["顺丰"]
    )
    zto = Courier.objects.create(code="ZTO", name="中通快递", supports_cod=False, max_weight_g=30_000)
    CourierRate.objects.create(courier=sf, first_minor=1200, extra_per_kg_minor=400)
    CourierRate.objects.create(courier=zto, first_minor=600, extra_per_kg_minor=200)
    for wh in (hz, gz, cd):
        WmsLink.objects.create(warehouse=wh, callback_secret=WMS_SECRET)
    return World(channel=channel, hz=hz, gz=gz, cd=cd, skus=skus, sf=sf, zto=zto, actor=admin_operator)


def signed_callback(
    body: dict[str, Any], *, event_id: str | None = None, at: int | None = None, secret: str = WMS_SECRET
) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode("utf-8")
    headers = signature_headers(
        secret=secret, event_id=event_id or uuid.uuid4().hex, timestamp=int(time.time()) if at is None else at, body=raw
    )
    return raw, headers


@pytest.fixture
def wms_post() -> Callable[..., tuple[bytes, dict[str, str]]]:
    return signed_callback
