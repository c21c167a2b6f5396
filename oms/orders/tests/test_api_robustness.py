"""Bad input never becomes a 500, and the OpenAPI document describes the order endpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from oms.testing.orders import order_payload


@pytest.fixture
def cs(make_operator: Any, api_client: Any, tmall: Any, skus: Any) -> Any:
    return api_client(make_operator("customer_service"))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.update(lines=[{"sku_code": "TEA-001", "quantity": 1, "unit_price": "9" * 30}]),
        lambda p: p.update(lines=[{"sku_code": "TEA-001", "quantity": 10**30, "unit_price": "1.00"}]),
        lambda p: p.update(lines=[5, None, "x"]),
        lambda p: p.update(receiver="nope"),
        lambda p: p.update(buyer=[1, 2]),
        lambda p: p.update(placed_at="yesterday"),
        lambda p: p.update(platform_order_id="x" * 65),
        lambda p: p.update(channel={"code": "TMALL"}),
        lambda p: p.update(totals={"payable": 12.5}),
        lambda p: p.update(order_discount="-1.00"),
        lambda p: p.update(payment={"method": "", "amount": "abc"}),
        lambda p: p.update(invoice={"kind": "company"}),
    ],
)
def test_malformed_orders_are_422(cs: Any, mutate: Any) -> None:
    payload = order_payload()
    mutate(payload)
    response = cs.post("/api/v1/orders", data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 422, response.content
    assert response.json()["error"]["details"]


def test_bulk_with_garbage_items_answers_per_item(cs: Any) -> None:
    body = {"orders": [5, "x", None, order_payload()]}
    response = cs.post("/api/v1/orders/bulk", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    assert [r["result"] for r in response.json()["results"]] == ["error", "error", "error", "created"]


def test_openapi_describes_intake(admin_operator: Any) -> None:
    client = Client()
    client.force_login(admin_operator)
    schema = client.get("/api/v1/openapi.json").json()
    body = schema["paths"]["/api/v1/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "lines" in body["properties"] and "$ref" not in json.dumps(body)
    assert "/api/v1/payments/callbacks/{method}" in schema["paths"]
