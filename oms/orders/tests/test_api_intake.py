"""The intake API: create, replay, conflicting replay, every-problem 422s, bulk, Idempotency-Key."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from oms.orders.models import IdempotencyKey, Order, OrderLine
from oms.testing.orders import order_payload


@pytest.fixture
def cs(make_operator: Any, api_client: Any, tmall: Any, skus: Any) -> Any:
    return api_client(make_operator("customer_service", username="kefu"))


def post(client: Any, path: str, body: Any, **headers: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def test_create_returns_201_with_exact_money(cs: Any) -> None:
    response = post(cs, "/api/v1/orders", order_payload())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending_review" and body["payment_status"] == "paid"
    assert body["amounts"] == {
        "goods": "308.79",
        "line_discount": "5.00",
        "order_discount": "10.00",
        "shipping": "8.00",
        "payable": "301.79",
        "received": "301.79",
        "refunded": "0.00",
    }
    assert [ln["paid"] for ln in body["lines"]] == ["119.02", "83.44", "99.33"]
    assert [e["to_status"] for e in body["timeline"]] == ["new", "pending_review"]
    assert body["invoice"]["tax_id"] == "91330100MA2B3C4D5E"


def test_identical_replay_returns_the_existing_order(cs: Any) -> None:
    payload = order_payload()
    first = post(cs, "/api/v1/orders", payload).json()
    again = post(cs, "/api/v1/orders", payload)
    assert again.status_code == 200 and again.json()["number"] == first["number"]
    assert Order.objects.count() == 1


def test_same_platform_order_with_other_content_is_409_listing_differences(cs: Any) -> None:
    payload = order_payload()
    first = post(cs, "/api/v1/orders", payload).json()
    changed = {**payload, "shipping": "12.00", "buyer_remark": "不要发顺丰"}
    response = post(cs, "/api/v1/orders", changed)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "platform_order_conflict" and error["order_number"] == first["number"]
    fields = {d["field"]: (d["existing"], d["incoming"]) for d in error["differences"]}
    assert fields == {"shipping_minor": (800, 1200), "buyer_remark": ("请尽快发货", "不要发顺丰")}


def test_bad_order_lists_every_problem_with_its_path(cs: Any) -> None:
    payload = order_payload(currency="XXX", channel="NOPE")
    payload["receiver"] = {**payload["receiver"], "phone": "12345", "province": "火星", "city": ""}
    payload["lines"] = [
        {"sku_code": "NO-SUCH", "quantity": 0, "unit_price": "-1.00"},
        {"sku_code": "TEA-001", "quantity": "two", "unit_price": 1.5, "name": "x" * 201},
    ]
    response = post(cs, "/api/v1/orders", payload)
    assert response.status_code == 422
    fields = {(d["field"], d["code"]) for d in response.json()["error"]["details"]}
    assert fields >= {
        ("channel", "unknown_channel"),
        ("currency", "unsupported_currency"),
        ("receiver.phone", "bad_phone"),
        ("receiver.province", "bad_province"),
        ("receiver.city", "required"),
        ("lines[0].sku_code", "unknown_sku"),
        ("lines[0].quantity", "not_positive"),
        ("lines[0].unit_price", "negative_amount"),
        ("lines[1].quantity", "type"),
        ("lines[1].unit_price", "float_amount"),
        ("lines[1].name", "too_long"),
    }
    assert Order.objects.count() == 0


@pytest.mark.parametrize("body", [b"not json", b"[]", b"null", b'{"lines": 5}'])
def test_garbage_is_422_never_500(cs: Any, body: bytes) -> None:
    response = cs.post("/api/v1/orders", data=body, content_type="application/json")
    assert response.status_code == 422


def test_totals_that_do_not_reconcile_are_refused_naming_each_amount(cs: Any) -> None:
    payload = order_payload(totals={"goods": "308.79", "payable": "300.00", "shipping": "0.00"})
    response = post(cs, "/api/v1/orders", payload)
    assert response.status_code == 422
    details = {d["field"]: d["message"] for d in response.json()["error"]["details"]}
    assert set(details) == {"totals.payable", "totals.shipping"}
    assert "300.00" in details["totals.payable"] and "301.79" in details["totals.payable"]
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0


def test_bulk_bad_orders_never_block_good_ones(cs: Any) -> None:
    good = order_payload()
    bad = order_payload(receiver={"name": "x"})
    dup_conflict = {**good, "shipping": "0.00"}
    response = post(cs, "/api/v1/orders/bulk", {"orders": [good, bad, order_payload(), good, dup_conflict]})
    assert response.status_code == 200
    body = response.json()
    assert [r["result"] for r in body["results"]] == ["created", "error", "created", "existing", "error"]
    assert body["results"][1]["status"] == 422 and body["results"][4]["status"] == 409
    assert body["results"][3]["order_number"] == body["results"][0]["order_number"]
    assert body["counts"] == {"created": 2, "existing": 1, "error": 2}
    assert Order.objects.count() == 2


def test_bulk_over_the_limit_is_422(cs: Any, settings: Any) -> None:
    settings.OMS = {**settings.OMS, "BULK_INTAKE_MAX": 2}
    response = post(cs, "/api/v1/orders/bulk", {"orders": [order_payload() for _ in range(3)]})
    assert response.status_code == 422 and response.json()["error"]["details"][0]["code"] == "too_many"


def test_idempotency_key_replays_the_stored_response(cs: Any) -> None:
    payload = order_payload()
    first = post(cs, "/api/v1/orders", payload, HTTP_IDEMPOTENCY_KEY="k-1")
    second = post(cs, "/api/v1/orders", payload, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true" and second.json() == first.json()
    assert Order.objects.count() == 1


def test_idempotency_key_with_another_body_is_refused(cs: Any) -> None:
    post(cs, "/api/v1/orders", order_payload(), HTTP_IDEMPOTENCY_KEY="k-2")
    response = post(cs, "/api/v1/orders", order_payload(), HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422 and response.json()["error"]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_idempotency_key_still_in_flight_is_409(cs: Any, make_operator: Any) -> None:
    from oms.accounts.models import Operator
    from oms.orders.services.idempotency import request_fingerprint

    payload = order_payload()
    body = json.dumps(payload).encode()
    IdempotencyKey.objects.create(
        operator=Operator.objects.get(username="kefu"),
        key="k-3",
        method="POST",
        path="/api/v1/orders",
        request_fingerprint=request_fingerprint(method="POST", path="/api/v1/orders", body=body),
        lease_until=timezone.now() + timedelta(seconds=30),
    )
    response = cs.post("/api/v1/orders", data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert response.status_code == 409 and response.json()["error"]["code"] == "idempotency_key_in_use"


def test_idempotency_key_stores_error_answers_too(cs: Any) -> None:
    bad = order_payload(channel="NOPE")
    first = post(cs, "/api/v1/orders", bad, HTTP_IDEMPOTENCY_KEY="k-4")
    again = post(cs, "/api/v1/orders", bad, HTTP_IDEMPOTENCY_KEY="k-4")
    assert first.status_code == again.status_code == 422 and again["Idempotent-Replayed"] == "true"


def test_intake_needs_the_permission(make_operator: Any, api_client: Any, tmall: Any) -> None:
    response = post(api_client(make_operator("finance")), "/api/v1/orders", order_payload())
    assert response.status_code == 403
    assert response.json()["error"]["missing_permissions"] == ["orders.add_order"]
