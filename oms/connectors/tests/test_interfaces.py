"""Console pages, the API router and the Shopify push receiver: permissions, credentials never shown back,
pull now, failed items and retry, signature checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from oms.audit.models import OperationLog
from oms.channels.models import Channel
from oms.connectors.models import PullItem, Shop
from oms.connectors.services.push import shopify_signature
from oms.connectors.services.shops import shop_connect
from oms.connectors.simulator.server import SimulatorServer
from oms.connectors.simulator.state import SimShop
from oms.connectors.simulator.taobao import SimLine
from oms.connectors.tests import platform_payloads as golden
from oms.connectors.tests.conftest import T0
from oms.orders.models import Order

Sim = tuple[Shop, SimShop]


def test_console_lists_shops_only_with_permission(tb_shop: Sim, make_operator: Callable[..., Any]) -> None:
    client = Client()
    client.force_login(make_operator("warehouse_coordinator"))
    assert client.get("/shops/").status_code == 403
    client.force_login(make_operator("customer_service"))
    page = client.get("/shops/")
    assert page.status_code == 200 and tb_shop[0].channel.code in page.content.decode()
    assert client.post(f"/shops/{tb_shop[0].pk}/pull/").status_code == 403


def test_connecting_a_shop_in_the_console_never_shows_the_credentials_back(
    db: Any, make_operator: Callable[..., Any], simulator: SimulatorServer
) -> None:
    channel = Channel.objects.create(code="TMNEW", name="新店", platform="tmall")
    client = Client()
    client.force_login(make_operator("administrator"))
    answer = client.post("/shops/new/", {
        "channel": channel.pk, "platform": "taobao", "base_url": simulator.base_url, "app_key": "key-visible-no",
        "app_secret": "s3cret-never-shown", "access_token": "tok-never-shown", "pull_interval_s": 300, "enabled": "on",
    })  # fmt: skip
    shop = Shop.objects.get(channel=channel)
    assert answer.status_code == 302 and answer["Location"] == f"/shops/{shop.pk}/"
    for url in (f"/shops/{shop.pk}/", f"/shops/{shop.pk}/edit/", "/shops/"):
        html = client.get(url).content.decode()
        assert "s3cret-never-shown" not in html and "tok-never-shown" not in html and "key-visible-no" not in html
    assert "s3cret-never-shown" not in json.dumps(list(OperationLog.objects.values("before", "after")))


def test_pull_now_and_retry_from_the_console(
    tb_shop: Sim, put_trade: Callable[..., Any], make_operator: Callable[..., Any]
) -> None:
    shop, sim = tb_shop
    Shop.objects.filter(pk=shop.pk).update(cursor_at=None, pull_from=T0)
    put_trade(sim, "C001", 5)
    put_trade(sim, "C002", 6, lines=[SimLine("C00201", "5009", "LATER-SKU", "新品", 1000, 1)])
    client = Client()
    client.force_login(make_operator("order_reviewer"))
    client.post(f"/shops/{shop.pk}/pull/")
    assert Order.objects.filter(channel=shop.channel).count() == 1
    page = client.get(f"/shops/{shop.pk}/").content.decode()
    assert "C002" in page and "lines[0].sku_code" in page
    from oms.catalog.models import Sku

    Sku.objects.create(code="LATER-SKU", name="新品")
    client.post(f"/shops/{shop.pk}/retry/", {"item": [str(PullItem.objects.get(shop=shop).pk)]})
    assert Order.objects.filter(channel=shop.channel).count() == 2


def test_api_lists_pulls_and_shows_failed_items(
    tb_shop: Sim, put_trade: Callable[..., Any], make_operator: Callable[..., Any], api_client: Callable[..., Any]
) -> None:
    shop, sim = tb_shop
    put_trade(sim, "A001", 5)
    broken = put_trade(sim, "A002", 6)
    del broken["receiver_city"]
    reviewer = api_client(make_operator("order_reviewer"))
    listed = reviewer.get("/api/v1/connectors/shops").json()
    assert [s["channel"] for s in listed if s["id"] == shop.pk] == [shop.channel.code]
    start = (T0 - timedelta(hours=1)).isoformat()
    window = {"start": start, "end": (T0 + timedelta(hours=1)).isoformat()}
    run = reviewer.post(f"/api/v1/connectors/shops/{shop.pk}/pull", window, content_type="application/json").json()
    assert (run["kind"], run["created"], run["failed"]) == ("backfill", 1, 1)
    (item,) = reviewer.get(f"/api/v1/connectors/shops/{shop.pk}/failed-items").json()
    assert (item["platform_order_id"], item["reason_code"], item["field"]) == ("A002", "required", "receiver_city")
    outsider = api_client(make_operator("warehouse_coordinator"))
    assert outsider.get("/api/v1/connectors/shops").status_code == 403
    assert (
        outsider.post(f"/api/v1/connectors/shops/{shop.pk}/pull", {}, content_type="application/json").status_code
        == 403
    )


@pytest.fixture
def shopify_shop(db: Any, skus: Any) -> Shop:
    channel = Channel.objects.create(code="SHOPIFY", name="Shopify", platform="jd")
    credentials = {"app_key": "k", "app_secret": "shpss_webhook_secret", "access_token": "shpat"}
    return shop_connect(
        channel=channel, platform="shopify", base_url="http://127.0.0.1:8118", actor="test", credentials=credentials
    )


def _webhook(shop: Shop, body: bytes, signature: str, topic: str = "orders/create") -> Any:
    return Client().post(f"/api/v1/connectors/shopify/{shop.pk}/webhooks", body, content_type="application/json",
                         HTTP_X_SHOPIFY_HMAC_SHA256=signature, HTTP_X_SHOPIFY_TOPIC=topic)  # fmt: skip


def test_a_signed_shopify_webhook_takes_the_order_in_once(shopify_shop: Shop) -> None:
    body = json.dumps(golden.shopify_order()).encode()
    first = _webhook(shopify_shop, body, shopify_signature(body, "shpss_webhook_secret"))
    again = _webhook(shopify_shop, body, shopify_signature(body, "shpss_webhook_secret"))
    assert first.status_code == 200 and first.json()["created"] == 1
    assert again.status_code == 200 and again.json()["created"] == 0
    (order,) = Order.objects.filter(channel=shopify_shop.channel)
    assert order.payable_minor == 20180


def test_a_badly_signed_webhook_is_refused_and_writes_nothing(shopify_shop: Shop) -> None:
    body = json.dumps(golden.shopify_order()).encode()
    answer = _webhook(shopify_shop, body, shopify_signature(body, "someone-elses-secret"))
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "bad_signature"
    tampered = body.replace(b"201.80", b"1.80")
    assert _webhook(shopify_shop, tampered, shopify_signature(body, "shpss_webhook_secret")).status_code == 401
    assert not Order.objects.filter(channel=shopify_shop.channel).exists()
