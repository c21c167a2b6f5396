"""JD, Douyin, Pinduoduo and Shopify: golden native orders mapped to exact intake payloads, and pulled from
the simulator (each in its own wire format) into orders, exactly once, through faults."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from oms.channels.models import Channel
from oms.connectors.domain import douyin, jd, pinduoduo, shopify
from oms.connectors.domain.mapped import CHINA_TZ, LineShare, MappedRefund, MappingError, Phase, RefundState
from oms.connectors.models import PulledOrder, Shop
from oms.connectors.services.pull import shop_pull
from oms.connectors.services.shops import shop_connect
from oms.connectors.simulator.server import SimulatorServer
from oms.connectors.simulator.state import Faults, SimShop
from oms.connectors.tests import platform_payloads as golden
from oms.orders.models import Order

MAPPERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "jd": jd.map_order, "douyin": douyin.map_order, "pinduoduo": pinduoduo.map_order, "shopify": shopify.map_order,
}  # fmt: skip
BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "jd": golden.jd_order, "douyin": golden.douyin_order, "pinduoduo": golden.pdd_order,
    "shopify": golden.shopify_order,
}  # fmt: skip
RECEIVER = {"name": "王小明", "phone": "13800138000", "city": "杭州市"}
_seq = itertools.count(1)


@pytest.mark.parametrize("platform", sorted(MAPPERS))
def test_the_same_purchase_maps_to_the_same_money_on_every_platform(platform: str) -> None:
    mapped = MAPPERS[platform](BUILDERS[platform]())
    p = mapped.payload
    assert mapped.phase is Phase.PAID
    assert mapped.modified_at == datetime(2026, 11, 30, 10, 1, 30, tzinfo=CHINA_TZ)
    assert p["shipping"] == "8.00" and p["totals"] == {"payable": "201.80"}
    assert p["payment"]["amount"] == "201.80" and p["buyer_remark"] == "周末送货"
    assert [(ln["sku_code"], ln["quantity"], ln["unit_price"]) for ln in p["lines"]] == [
        ("TEA-001", 2, "59.90"), ("NUT-002", 1, "89.00")
    ]  # fmt: skip
    discounts = sum(int(ln["line_discount"].replace(".", "")) for ln in p["lines"])
    assert discounts + int(p["order_discount"].replace(".", "")) == 1500
    assert {k: p["receiver"][k] for k in RECEIVER} == RECEIVER


def test_jd_coupons_naming_a_sku_are_its_line_discount_and_the_rest_the_order_discount() -> None:
    p = jd.map_order(golden.jd_order()).payload
    assert [ln["line_discount"] for ln in p["lines"]] == ["5.00", "0.00"] and p["order_discount"] == "10.00"
    assert p["payment"] == {"method": "platform", "transaction_id": "JD300012345678", "amount": "201.80",
                            "paid_at": "2026-11-30T10:01:00+08:00"}  # fmt: skip


def test_jd_cash_on_delivery_and_unknown_states() -> None:
    cod = jd.map_order(golden.jd_order(payType="1-货到付款"))
    assert cod.payload["cod"] is True and cod.payload["payment"] is None
    with pytest.raises(MappingError) as caught:
        jd.map_order(golden.jd_order(orderState="SOMETHING"))
    assert (caught.value.code, caught.value.field) == ("unknown_status", "orderState")


def test_douyin_keeps_the_platform_division_and_its_receiver_token() -> None:
    mapped = douyin.map_order(golden.douyin_order())
    assert [ln["line_discount"] for ln in mapped.payload["lines"]] == ["10.36", "4.64"]
    assert mapped.line_shares == (LineShare("69200000000000000011", 10944), LineShare("69200000000000000012", 8436))
    assert mapped.receiver_token == "#dyAddr8Kq" and mapped.buyer_token == "1@#dyOpenId"


def test_douyin_cod_presale_masked_receiver_and_after_sale() -> None:
    order = golden.douyin_order(pay_type=0, pre_sale_type=1, post_receiver="王**", post_tel="138****8000")
    order["sku_order_list"][0]["after_sale_info"] = {"after_sale_id": "7300001", "after_sale_status": 6,
                                                      "refund_amount": 10944}  # fmt: skip
    mapped = douyin.map_order(order)
    assert mapped.payload["cod"] is True and mapped.payload["payment"] is None and mapped.payload["presale"] is True
    assert mapped.receiver_masked
    assert mapped.refunds == (MappedRefund("7300001", "69200000000000000011", 10944, RefundState.OPEN, "6"),)


def test_pinduoduo_reads_yuan_numbers_exactly_and_refuses_a_third_decimal() -> None:
    mapped = pinduoduo.map_order(golden.pdd_order())
    assert mapped.payload["order_discount"] == "15.00" and mapped.payload["lines"][0]["unit_price"] == "59.90"
    assert mapped.receiver_token == "pdd-addr-7f3e"
    with pytest.raises(MappingError) as caught:
        pinduoduo.map_order(golden.pdd_order(pay_amount=201.805))
    assert (caught.value.code, caught.value.field) == ("too_many_decimals", "pay_amount")


def test_pinduoduo_presale_and_refund_states() -> None:
    mapped = pinduoduo.map_order(golden.pdd_order(is_pre_sale=1, refund_status=3))
    assert mapped.payload["presale"] is True
    assert mapped.refunds == (MappedRefund("PDD261130-012345678901234", "", 20180, RefundState.OPEN, "3"),)
    assert pinduoduo.map_order(golden.pdd_order(refund_status=4)).phase is Phase.CLOSED


def test_shopify_splits_line_and_order_discounts_by_their_application() -> None:
    mapped = shopify.map_order(golden.shopify_order())
    assert [ln["line_discount"] for ln in mapped.payload["lines"]] == ["5.00", "0.00"]
    assert mapped.payload["order_discount"] == "10.00"
    assert mapped.payload["receiver"]["province"] == "330000"
    assert mapped.line_shares == (LineShare("13800000000001", 10944), LineShare("13800000000002", 8436))


def test_shopify_refunds_cancellation_and_foreign_addresses() -> None:
    refund = {"id": 880001, "transactions": [{"kind": "refund", "status": "success", "amount": "89.00"}]}
    mapped = shopify.map_order(golden.shopify_order(refunds=[refund], cancelled_at="2026-11-30T11:00:00+08:00"))
    assert mapped.phase is Phase.CLOSED
    assert mapped.refunds == (MappedRefund("880001", "", 8900, RefundState.SUCCESS, "refund"),)
    abroad = golden.shopify_order()
    abroad["shipping_address"] |= {"country_code": "DE", "province_code": "BE"}
    with pytest.raises(MappingError) as caught:
        shopify.map_order(abroad)
    assert (caught.value.code, caught.value.field) == ("unsupported_country", "shipping_address.country_code")


# ---- pulled from the simulator, each platform in its own wire format --------------------------------------

IDS = {"jd": "orderId", "douyin": "order_id", "pinduoduo": "order_sn", "shopify": "id"}
T0 = datetime(2026, 11, 30, 10, 0, tzinfo=CHINA_TZ)


def _native(platform: str, n: int, modified: datetime, **over: Any) -> dict[str, Any]:
    if platform == "jd":
        return golden.jd_order(f"30001{n:04d}", modified.strftime("%Y-%m-%d %H:%M:%S"), **over)
    if platform == "douyin":
        return golden.douyin_order(f"69200{n:04d}", int(modified.timestamp()), **over)
    if platform == "pinduoduo":
        over.setdefault("pay_no", f"42000{n:06d}")
        return golden.pdd_order(f"261130-{n:06d}", modified.strftime("%Y-%m-%d %H:%M:%S"), **over)
    return golden.shopify_order(5300000 + n, modified.isoformat(), **over)


@pytest.fixture
def connected(db: Any, simulator: SimulatorServer, skus: Any) -> Callable[[str], tuple[Shop, SimShop]]:
    def connect(platform: str) -> tuple[Shop, SimShop]:
        n = next(_seq)
        channel = Channel.objects.create(code=f"{platform[:4].upper()}{n}", name=f"{platform} {n}", platform="jd")
        key, secret, token = f"{platform}-key-{n}", f"{platform}-secret-{n}", f"{platform}-token-{n}"
        sim = simulator.state.shop_add(platform, key, secret, token)
        shop = shop_connect(channel=channel, platform=platform, base_url=simulator.base_url, actor="test",
                            credentials={"app_key": key, "app_secret": secret, "access_token": token},
                            pull_from=T0)  # fmt: skip
        return shop, sim

    return connect


@pytest.mark.parametrize("platform", sorted(MAPPERS))
def test_each_platform_is_pulled_exactly_once_through_rate_limits_and_pages(
    platform: str, connected: Callable[[str], tuple[Shop, SimShop]], simulator: SimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from oms.connectors.adapters import ADAPTERS

    monkeypatch.setattr(ADAPTERS[platform], "page_size", 3)
    monkeypatch.setattr(ADAPTERS[platform], "calls_per_second", 1000.0)
    shop, sim = connected(platform)
    for n in range(7):
        at = T0 + timedelta(minutes=n)
        simulator.state.order_put(sim, str(_native(platform, n, at)[IDS[platform]]), at, _native(platform, n, at))
    sim.faults = Faults(rate_limit_next=1, overlap_items=1)
    now = T0 + timedelta(minutes=20)
    run = shop_pull(shop=shop, now=now)
    assert (run.error_code, run.created, run.failed) == ("", 7, 0) and run.retries == 1
    again = shop_pull(shop=Shop.objects.get(pk=shop.pk), start=T0, end=now, now=now)
    assert (again.created, again.updated) == (0, 0)
    orders = Order.objects.filter(channel=shop.channel)
    assert orders.count() == 7 and {o.payable_minor for o in orders} == {20180}
    assert PulledOrder.objects.filter(shop=shop).count() == 7


@pytest.mark.parametrize("platform", sorted(MAPPERS))
def test_each_platform_reports_a_refused_token(platform: str, connected: Callable[[str], tuple[Shop, SimShop]]) -> None:
    shop, sim = connected(platform)
    sim.token_valid = False
    run = shop_pull(shop=shop, now=T0 + timedelta(minutes=5))
    shop.refresh_from_db()
    assert run.error_code != "" and shop.status == "auth_expired"
