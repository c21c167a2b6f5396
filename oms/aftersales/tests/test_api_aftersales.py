"""The after-sales API: every step by the role allowed it, 403 for the others, 4xx naming the field, replays."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oms.aftersales.models import Case


def post(client: Any, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def clients(make_operator: Any, api_client: Any) -> dict[str, Any]:
    return {
        role: api_client(make_operator(role, username=role))
        for role in ("customer_service", "warehouse_coordinator", "finance")
    }


def test_every_step_by_its_role(shipped: Any, clients: dict[str, Any]) -> None:
    order = shipped()
    cs, wh, fin = clients["customer_service"], clients["warehouse_coordinator"], clients["finance"]
    body = {"kind": "return_refund", "reason_code": "quality", "units": {"2": 1}, "request_key": "api-1"}
    preview = post(cs, f"/api/v1/orders/{order.number}/aftersales/preview", body)
    assert preview.status_code == 200, preview.content
    assert preview.json()["refund"] == "50.00"
    assert any("满300减50" in line for line in preview.json()["explanation"])
    created = post(cs, f"/api/v1/orders/{order.number}/aftersales", body)
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    replay = post(cs, f"/api/v1/orders/{order.number}/aftersales", body)
    assert replay.status_code == 200 and replay.json()["number"] == number and Case.objects.count() == 1
    assert post(wh, f"/api/v1/aftersales/{number}/approve", {}).status_code == 403
    assert post(cs, f"/api/v1/aftersales/{number}/approve", {}).json()["status"] == "awaiting_return"
    assert post(cs, f"/api/v1/aftersales/{number}/receive", {"units": {"2": 1}}).status_code == 403
    too_many = post(wh, f"/api/v1/aftersales/{number}/receive", {"units": {"2": 2}})
    assert too_many.status_code == 422 and too_many.json()["error"]["details"][0]["field"] == "received.2"
    assert post(wh, f"/api/v1/aftersales/{number}/receive", {"units": {"2": 1}}).json()["status"] == "received"
    inspected = post(wh, f"/api/v1/aftersales/{number}/inspect", {"good": {"2": 1}})
    assert inspected.json()["status"] == "refunding"
    assert (
        post(wh, f"/api/v1/aftersales/{number}/refund", {"method": "alipay", "transaction_id": "R1"}).status_code == 403
    )
    refunded = post(fin, f"/api/v1/aftersales/{number}/refund", {"method": "alipay", "transaction_id": "R1"})
    assert refunded.status_code == 200 and refunded.json()["status"] == "refunded"
    again = post(fin, f"/api/v1/aftersales/{number}/refund", {"method": "alipay", "transaction_id": "R1"})
    assert again.status_code == 200 and again.json()["timeline"] == refunded.json()["timeline"]
    listing = fin.get("/api/v1/aftersales?status=refunded")
    assert listing.status_code == 200 and listing.json()["counts"]["refunded"] == 1
    assert [c["number"] for c in listing.json()["items"]] == [number]


def test_bad_requests_name_the_field_and_write_nothing(shipped: Any, clients: dict[str, Any]) -> None:
    order = shipped()
    cs = clients["customer_service"]
    bad = post(
        cs, f"/api/v1/orders/{order.number}/aftersales", {"kind": "nope", "reason_code": "quality", "units": {"2": 1}}
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "kind"
    over = post(
        cs,
        f"/api/v1/orders/{order.number}/aftersales",
        {"kind": "return_refund", "reason_code": "quality", "units": {"2": 5}},
    )
    assert over.status_code == 422 and over.json()["error"]["details"][0]["field"] == "lines.2"
    assert Case.objects.count() == 0
    denied = post(
        clients["finance"],
        f"/api/v1/orders/{order.number}/aftersales",
        {"kind": "return_refund", "reason_code": "quality", "units": {"2": 1}},
    )
    assert denied.status_code == 403 and Case.objects.count() == 0


def test_an_exchange_by_api_shows_what_the_buyer_pays_and_its_order(shipped: Any, clients: dict[str, Any]) -> None:
    order = shipped()
    cs, wh = clients["customer_service"], clients["warehouse_coordinator"]
    body = {
        "kind": "exchange",
        "reason_code": "wrong_item",
        "units": {"2": 1},
        "replacements": [{"replaces": 2, "sku": "CUP-003", "quantity": 1, "unit_price": "130.00"}],
    }
    preview = post(cs, f"/api/v1/orders/{order.number}/aftersales/preview", body)
    assert preview.status_code == 200 and (preview.json()["refund"], preview.json()["buyer_pays"]) == ("0.00", "30.00")
    bad_price = {**body, "replacements": [{**body["replacements"][0], "unit_price": "1.234"}]}
    refused = post(cs, f"/api/v1/orders/{order.number}/aftersales", bad_price)
    assert refused.status_code == 422 and "replacements[0].unit_price" in refused.content.decode()
    number = post(cs, f"/api/v1/orders/{order.number}/aftersales", body).json()["number"]
    post(cs, f"/api/v1/aftersales/{number}/approve", {})
    post(wh, f"/api/v1/aftersales/{number}/receive", {"units": {"2": 1}})
    case = post(wh, f"/api/v1/aftersales/{number}/inspect", {"good": {"2": 1}}).json()
    assert case["status"] == "refunded" and case["linked_order"].startswith("EX")
    assert case["replacements"] == [
        {"replaces": 2, "sku": "CUP-003", "quantity": 1, "unit_price": "130.00", "priced_at": "112.43"}
    ]
    lineage = cs.get(f"/api/v1/orders/{case['linked_order']}/lineage")
    assert lineage.status_code == 200, lineage.content
    assert [(e["parent"], e["kind"]) for e in lineage.json()["edges"]] == [(order.number, "exchange")]
