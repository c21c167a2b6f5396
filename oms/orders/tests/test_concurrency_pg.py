"""Real threads on PostgreSQL: duplicates racing each other still make exactly one order / one payment."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from oms.channels.models import ChannelStock
from oms.orders.models import IdempotencyKey, Order, Payment
from oms.orders.services.intake import order_intake
from oms.outbox.domain.signing import signature_headers
from oms.testing.orders import order_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 50


def race(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work`` in n threads released together; returns results (or the exceptions raised)."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_fifty_identical_intakes_make_one_order(tmall: Any, skus: Any, admin_operator: Any) -> None:
    for sku in skus:
        ChannelStock.objects.create(channel=tmall, sku=sku, quota=1000)
    payload = order_payload()
    results = race(THREADS, lambda i: order_intake(payload=payload, actor=admin_operator))
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert Order.objects.count() == 1
    assert sum(1 for r in results if r.created) == 1
    assert {r.order.number for r in results} == {Order.objects.get().number}
    # Reserved once, not fifty times.
    assert ChannelStock.objects.get(channel=tmall, sku__code="TEA-001").sales_reserved == 2


def test_fifty_duplicate_payment_callbacks_make_one_payment(make_order: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_PAYMENT_SECRET_ALIPAY", "s3cret")
    order = make_order(payment=None)
    raw = json.dumps(
        {"order_number": order.number, "transaction_id": "ALI-RACE", "trade_status": "success", "amount": "301.79"}
    ).encode()
    headers = signature_headers(secret="s3cret", event_id="evt-race", timestamp=int(time.time()), body=raw)

    def call(i: int) -> tuple[int, str]:
        response = Client(headers=headers).post(
            "/api/v1/payments/callbacks/alipay", data=raw, content_type="application/json"
        )
        return response.status_code, response.json().get("result", "")

    results = race(THREADS, call)
    assert sorted(set(results)) == [(200, "duplicate"), (200, "recorded")]
    assert sum(1 for r in results if r == (200, "recorded")) == 1
    assert Payment.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.received_minor) == ("pending_review", "paid", 30179)


def test_concurrent_requests_with_one_idempotency_key(
    tmall: Any, skus: Any, make_operator: Any, api_client: Any
) -> None:
    client = api_client(make_operator("customer_service", username="kefu"))
    auth = client.defaults["HTTP_AUTHORIZATION"]
    body = json.dumps(order_payload())

    def call(i: int) -> int:
        response = Client(HTTP_AUTHORIZATION=auth).post(
            "/api/v1/orders", data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="race-1"
        )
        return response.status_code

    statuses = race(20, call)
    assert set(statuses) <= {201, 409}
    assert statuses.count(201) >= 1
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.get(key="race-1").response_status == 201


def test_overlapping_bulk_batches_in_parallel_take_each_order_once(tmall: Any, skus: Any, admin_operator: Any) -> None:
    import random

    from oms.orders.services.intake import order_intake_bulk

    payloads = [order_payload(buyer={"platform_buyer_id": f"b{i % 7}"}) for i in range(40)]

    def work(i: int) -> list[Any]:
        batch = random.Random(i).sample(payloads, 25)
        return order_intake_bulk(payloads=batch, actor=admin_operator)

    results = race(12, work)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    outcomes = [o for batch in results for o in batch]
    assert all(o.error is None for o in outcomes), [o.error.as_dict() for o in outcomes if o.error]
    taken = {p["platform_order_id"] for r in range(12) for p in random.Random(r).sample(payloads, 25)}
    assert Order.objects.count() == len(taken)
    assert sum(1 for o in outcomes if o.created) == len(taken)
