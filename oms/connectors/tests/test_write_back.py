"""Write-back through the outbox: tracking (with the parcels of a partial shipment) and stock figures reach
the simulator through the shop's adapter; a platform failure is retried by the outbox and visible per shop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from oms.connectors.models import Shop, WriteBack
from oms.connectors.services.pull import shop_pull
from oms.connectors.simulator.state import Faults, SimShop
from oms.connectors.tests.conftest import T0
from oms.orders.models import Order, PlatformSkuMapping
from oms.outbox.delivery import DeliveryOutcome
from oms.outbox.models import MessageState, OutboxMessage
from oms.outbox.relay import outbox_relay
from oms.outbox.services import outbox_publish

Sim = tuple[Shop, SimShop]


@pytest.fixture
def relay_to_this_app(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    """The outbox relay's HTTP POST answered by this app's own receiver (the test client), for real."""

    def post(*, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> DeliveryOutcome:
        meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
        answer = Client().post(urlsplit(url).path, body, content_type="application/json", **meta)
        ok = 200 <= answer.status_code < 300
        return DeliveryOutcome(ok=ok, status_code=answer.status_code, error="" if ok else answer.content.decode()[:200])

    monkeypatch.setattr("oms.outbox.relay.http_post", post)

    def relay() -> Any:
        OutboxMessage.objects.filter(state=MessageState.PENDING).update(next_attempt_at=timezone.now())
        return outbox_relay()

    return relay


def _tracking(order: Order, *, partial: bool, lines: list[dict[str, Any]]) -> None:
    with transaction.atomic():
        outbox_publish(topic=f"platform.tracking.{order.channel.platform}", aggregate=order, payload={
            "channel": order.channel.code, "platform": order.channel.platform,
            "platform_order_id": order.platform_order_id, "courier": "SF", "courier_name": "顺丰速运",
            "tracking_number": "SF1234567890", "shipped_at": timezone.now().isoformat(), "lines": lines,
            "partial": partial,
        })  # fmt: skip


def test_tracking_of_a_partial_shipment_names_the_sub_orders_in_the_parcel(
    tb_shop: Sim, put_trade: Callable[..., Any], relay_to_this_app: Callable[[], Any]
) -> None:
    shop, sim = tb_shop
    put_trade(sim, "W001", 5)
    shop_pull(shop=shop, now=T0 + timedelta(hours=1))
    (order,) = Order.objects.filter(channel=shop.channel)
    _tracking(order, partial=True, lines=[{"line": 2, "sku": "NUT-002", "quantity": 1}])
    result = relay_to_this_app()
    assert len(result.delivered) == 1
    assert sim.write_backs == [{"kind": "shipment", "tid": "W001", "out_sid": "SF1234567890", "company_code": "SF",
                                "is_split": "1", "sub_tid": "W00102"}]  # fmt: skip
    assert WriteBack.objects.get(shop=shop).state == "done"


def test_a_platform_failure_is_retried_by_the_outbox_and_visible_on_the_shop(
    tb_shop: Sim, put_trade: Callable[..., Any], relay_to_this_app: Callable[[], Any]
) -> None:
    shop, sim = tb_shop
    put_trade(sim, "W101", 5)
    shop_pull(shop=shop, now=T0 + timedelta(hours=1))
    (order,) = Order.objects.filter(channel=shop.channel)
    sim.faults = Faults(rate_limit_next=1)
    _tracking(order, partial=False, lines=[])
    first = relay_to_this_app()
    assert first.delivered == [] and sim.write_backs == []
    failed = WriteBack.objects.get(shop=shop)
    assert (failed.state, failed.error_code) == ("failed", "top_7")
    message = OutboxMessage.objects.get(topic="platform.tracking.tmall", aggregate_id=str(order.pk))
    assert message.state == MessageState.PENDING and message.last_status_code == 502
    second = relay_to_this_app()
    assert len(second.delivered) == 1
    assert [w["out_sid"] for w in sim.write_backs] == ["SF1234567890"]
    done = WriteBack.objects.get(shop=shop)
    assert (done.state, done.attempts) == ("done", 2)


def test_stock_figures_go_out_with_the_platform_sku_code(
    tb_shop: Sim, skus: Any, relay_to_this_app: Callable[[], Any]
) -> None:
    shop, sim = tb_shop
    PlatformSkuMapping.objects.create(channel=shop.channel, platform_sku_code="4800000000011", sku=skus[0])
    with transaction.atomic():
        outbox_publish(topic="platform.stock.tmall", aggregate=shop.channel, payload={
            "channel": shop.channel.code, "platform": "tmall", "batch": 1, "batches": 1,
            "items": [{"sku": "TEA-001", "quantity": 37, "available": 40},
                      {"sku": "NUT-002", "quantity": 0, "available": 0}],
        })  # fmt: skip
    assert len(relay_to_this_app().delivered) == 1
    assert sim.write_backs == [
        {"kind": "stock", "sku_id": "4800000000011", "quantity": "37"},
        {"kind": "stock", "sku_id": "NUT-002", "quantity": "0"},
    ]


def test_the_receiver_refuses_unsigned_deliveries(tb_shop: Sim) -> None:
    shop, _sim = tb_shop
    answer = Client().post(f"/api/v1/connectors/shops/{shop.pk}/write-back", b"{}", content_type="application/json")
    assert answer.status_code == 401 and not WriteBack.objects.exists()
