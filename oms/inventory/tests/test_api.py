from __future__ import annotations

import datetime as dt

import pytest

from oms.channels.models import AllocationRule
from oms.inventory import selectors
from oms.inventory.models import StockDocument, StockMove
from oms.inventory.tests.factories import make_bundle, make_channel, make_sku, make_warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(make_operator, api_client):
    wh, wh2 = make_warehouse("HZ01"), make_warehouse("GZ01")
    ch = make_channel("TMALL", warehouses=[wh])
    AllocationRule.objects.create(channel=ch, ratio_bp=10_000, safety_stock=1)
    a, b = make_sku("A-1"), make_sku("B-1")
    make_bundle([(a, 2), (b, 1)], code="GIFT-BOX")
    coordinator = api_client(make_operator("warehouse_coordinator"))
    return {"wh": wh, "wh2": wh2, "ch": ch, "a": a, "b": b, "client": coordinator}


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_receipt_then_feed_and_sku_stock(setup):
    client = setup["client"]
    r = post(
        client,
        "/api/v1/stock/receipts",
        {
            "warehouse": "HZ01",
            "lines": [
                {"sku": "A-1", "quantity": 10, "batch_no": "L1", "expiry_date": "2027-06-01"},
                {"sku": "B-1", "quantity": 3},
            ],
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["doc_type"] == "receipt"
    feed = client.get("/api/v1/channels/TMALL/stock").json()
    by_sku = {i["sku"]: i for i in feed["items"]}
    assert by_sku["A-1"]["available"] == 10 and by_sku["A-1"]["quantity"] == 9
    assert by_sku["GIFT-BOX"]["available"] == 3
    as_of = feed["as_of"]
    post(client, "/api/v1/stock/counts", {"warehouse": "HZ01", "lines": [{"sku": "B-1", "quantity": 1}]})
    delta = client.get("/api/v1/channels/TMALL/stock", {"changed_since": as_of}).json()
    assert {i["sku"] for i in delta["items"]} == {"B-1", "GIFT-BOX"}
    stock = client.get("/api/v1/skus/A-1/stock").json()
    assert stock["warehouses"][0]["on_hand"] == 10
    assert stock["batches"][0]["batch_no"] == "L1"
    assert stock["channels"][0]["channel"] == "TMALL"


def test_bad_document_names_fields_and_changes_nothing(setup):
    r = post(
        setup["client"],
        "/api/v1/stock/receipts",
        {"warehouse": "NOPE", "lines": [{"sku": "A-1", "quantity": 1}, {"sku": "ZZZ", "quantity": 1}]},
    )
    assert r.status_code == 422
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert fields == {"warehouse", "lines[1].sku"}
    # A negative quantity is outside the declared contract (minimum 0): refused by the schema.
    r = post(
        setup["client"], "/api/v1/stock/receipts", {"warehouse": "HZ01", "lines": [{"sku": "A-1", "quantity": -1}]}
    )
    assert r.status_code == 422
    assert [d["field"] for d in r.json()["error"]["details"]] == ["lines[0].quantity"]
    r = post(setup["client"], "/api/v1/stock/receipts", {"warehouse": "HZ01", "lines": [{"sku": "A-1", "quantity": 0}]})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "lines[0].quantity"
    assert not StockDocument.objects.exists() and not StockMove.objects.exists()


def test_transfer_over_api_and_receiving_too_much(setup):
    client = setup["client"]
    post(client, "/api/v1/stock/receipts", {"warehouse": "HZ01", "lines": [{"sku": "A-1", "quantity": 5}]})
    r = post(
        client,
        "/api/v1/stock/transfers",
        {"source": "HZ01", "destination": "GZ01", "lines": [{"sku": "A-1", "quantity": 9}]},
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "insufficient_stock"
    doc = post(
        client,
        "/api/v1/stock/transfers",
        {"source": "HZ01", "destination": "GZ01", "lines": [{"sku": "A-1", "quantity": 4}]},
    ).json()
    assert post(client, f"/api/v1/stock/transfers/{doc['id']}/ship", {}).status_code == 200
    line = doc["lines"][0]["id"]
    r = post(client, f"/api/v1/stock/transfers/{doc['id']}/receive", {"received": {str(line): 5}})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["code"] == "more_than_shipped"
    r = post(client, f"/api/v1/stock/transfers/{doc['id']}/receive", {})
    assert r.json()["status"] == "received"


def test_permissions(make_operator, api_client, setup):
    service = api_client(make_operator("customer_service"))
    r = post(service, "/api/v1/stock/receipts", {"warehouse": "HZ01", "lines": [{"sku": "A-1", "quantity": 1}]})
    assert r.status_code == 403
    assert service.get("/api/v1/skus/A-1/stock").status_code == 200
    assert service.get("/api/v1/channels/TMALL/stock").status_code == 200
    assert post(service, "/api/v1/stock/reallocate", {}).status_code == 403
    assert post(setup["client"], "/api/v1/stock/reallocate", {}).status_code == 200


def test_selectors_pin_query_counts(setup, admin_operator, django_assert_num_queries):
    from oms.inventory.services.documents import DocLine, stock_receipt_create

    stock_receipt_create(
        warehouse_id=setup["wh"].pk,
        lines=[DocLine(setup["a"].pk, 5, batch_no="X"), DocLine(setup["b"].pk, 5)],
        actor=admin_operator,
    )
    stock_receipt_create(warehouse_id=setup["wh2"].pk, lines=[DocLine(setup["a"].pk, 5)], actor=admin_operator)
    with django_assert_num_queries(6):
        s = selectors.sku_stock_get(sku_code="A-1")
        assert len(s.items) == 2 and len(s.moves) == 2
    with django_assert_num_queries(4):
        rows = selectors.channel_feed_list(channel_code="TMALL")
        assert len(rows) == 3
    with django_assert_num_queries(4):
        rows = selectors.channel_feed_list(channel_code="TMALL", changed_since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        assert len(rows) == 3
