"""An Idempotency-Key claim is a lease (issue 17, item 2): a request that died between claiming the key and
storing its answer blocks retries only until the lease runs out; then a retry runs the request again, which
the platform order id makes safe, and answers with the order if the dead request had written it."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from oms.accounts.models import Operator
from oms.orders.models import IdempotencyKey, Order
from oms.orders.services.idempotency import idempotency_begin, idempotency_finish, request_fingerprint
from oms.orders.services.intake import order_intake
from oms.testing.orders import order_payload

PATH = "/api/v1/orders"


@pytest.fixture
def kefu(make_operator: Any, tmall: Any, skus: Any) -> Operator:
    operator: Operator = make_operator("customer_service", username="kefu")
    return operator


@pytest.fixture
def client(kefu: Operator, api_client: Any) -> Any:
    return api_client(kefu)


def _crashed_claim(operator: Operator, key: str, body: bytes) -> IdempotencyKey:
    """What a request killed after claiming its key leaves behind: a claim with no answer."""
    claim = idempotency_begin(
        operator=operator,
        key=key,
        method="POST",
        path=PATH,
        fingerprint=request_fingerprint(method="POST", path=PATH, body=body),
    )
    assert isinstance(claim, IdempotencyKey)
    return claim


def _lease_runs_out(key: str) -> None:
    IdempotencyKey.objects.filter(key=key).update(lease_until=timezone.now() - timedelta(seconds=1))


def _retry(client: Any, body: bytes, key: str) -> Any:
    return client.post(PATH, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_within_the_lease_is_409_with_the_time_left(kefu: Operator, client: Any, settings: Any) -> None:
    settings.OMS = {**settings.OMS, "IDEMPOTENCY_LEASE_S": 40}
    body = json.dumps(order_payload()).encode()
    _crashed_claim(kefu, "k-lease-1", body)
    response = _retry(client, body, "k-lease-1")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_in_use" and 30 <= error["retry_after_s"] <= 41
    assert Order.objects.count() == 0


def test_after_the_lease_a_retry_answers_with_the_order_the_dead_request_wrote(kefu: Operator, client: Any) -> None:
    payload = order_payload()
    body = json.dumps(payload).encode()
    _crashed_claim(kefu, "k-lease-2", body)
    written = order_intake(payload=payload, actor=kefu).order  # the work committed, the answer never stored
    assert written is not None
    _lease_runs_out("k-lease-2")

    response = _retry(client, body, "k-lease-2")

    assert response.status_code == 200, response.content
    assert response.json()["number"] == written.number
    assert Order.objects.count() == 1
    stored = IdempotencyKey.objects.get(key="k-lease-2")
    assert (stored.response_status, stored.attempt) == (200, 2)
    again = _retry(client, body, "k-lease-2")
    assert again["Idempotent-Replayed"] == "true" and again.json()["number"] == written.number


def test_after_the_lease_a_retry_writes_the_order_the_dead_request_never_wrote(kefu: Operator, client: Any) -> None:
    body = json.dumps(order_payload()).encode()
    _crashed_claim(kefu, "k-lease-3", body)
    _lease_runs_out("k-lease-3")
    response = _retry(client, body, "k-lease-3")
    assert response.status_code == 201
    assert Order.objects.get().number == response.json()["number"]


def test_a_slow_first_request_finishing_after_a_take_over_stores_nothing(kefu: Operator, client: Any) -> None:
    body = json.dumps(order_payload()).encode()
    slow = _crashed_claim(kefu, "k-lease-4", body)
    _lease_runs_out("k-lease-4")
    assert _retry(client, body, "k-lease-4").status_code == 201
    idempotency_finish(record=slow, status=418, body={"late": True})
    idempotency_finish(record=slow, status=500, body=None)  # nor does its failure free the key
    stored = IdempotencyKey.objects.get(key="k-lease-4")
    assert stored.response_status == 201 and stored.response_body["number"] == Order.objects.get().number


def test_a_claim_from_before_leases_counts_as_expired(kefu: Operator, client: Any) -> None:
    body = json.dumps(order_payload()).encode()
    _crashed_claim(kefu, "k-lease-5", body)
    IdempotencyKey.objects.filter(key="k-lease-5").update(lease_until=None)
    assert _retry(client, body, "k-lease-5").status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_after_the_lease_run_it_once(kefu: Operator, api_client: Any) -> None:
    payload = order_payload()
    body = json.dumps(payload).encode()
    _crashed_claim(kefu, "k-race", body)
    written = order_intake(payload=payload, actor=kefu).order
    assert written is not None
    _lease_runs_out("k-race")
    auth = api_client(kefu).defaults["HTTP_AUTHORIZATION"]
    barrier = threading.Barrier(12)
    answers: list[tuple[int, str]] = []

    def retry() -> None:
        try:
            barrier.wait()
            response = Client(HTTP_AUTHORIZATION=auth).post(
                PATH, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-race"
            )
            data = response.json()
            answers.append((response.status_code, data.get("number") or data["error"]["code"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(answers) == 12
    assert set(answers) <= {(200, written.number), (409, "idempotency_key_in_use")}
    assert (200, written.number) in answers
    assert Order.objects.count() == 1
    stored = IdempotencyKey.objects.get(key="k-race")
    assert (stored.response_status, stored.attempt) == (200, 2)  # exactly one retry took the claim over
