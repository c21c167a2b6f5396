"""Issue 17 items 3, 5, 7 (401/403 order) and 8: every input that used to answer 500 (or be taken
wrongly) is a clear 4xx naming the field, with nothing written; a bad order never blocks the good ones."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from oms.inventory.models import StockDocument
from oms.inventory.tests.factories import make_channel, make_sku, make_warehouse
from oms.orders.models import Order, Payment
from oms.orders.services.file_import import orders_import_file
from oms.outbox.domain.signing import signature_headers
from oms.testing.orders import order_payload

pytestmark = pytest.mark.django_db


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def detail_fields(response: Any) -> set[str]:
    return {d["field"] for d in response.json()["error"]["details"]}


@pytest.fixture
def admin(make_operator: Any, api_client: Any, tmall: Any, skus: Any) -> Client:
    client: Client = api_client(make_operator("administrator"))
    return client


# ---- item 3: one bad order in a batch (NUL, lone surrogate) never blocks the good ones


@pytest.mark.parametrize("bad", ["备注\x00", "\ud800"])
def test_bulk_with_an_unstorable_remark_takes_the_good_orders(admin: Client, bad: str) -> None:
    orders = [order_payload(), order_payload(buyer_remark=bad), order_payload(), order_payload()]
    body = json.dumps({"orders": orders})  # ensure_ascii: the surrogate travels as "\ud800", like a client's
    response = admin.post("/api/v1/orders/bulk", data=body, content_type="application/json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["result"] for r in results] == ["created", "error", "created", "created"]
    assert results[1]["status"] == 422
    assert [d["field"] for d in results[1]["error"]["details"]] == ["buyer_remark"]
    assert Order.objects.count() == 3


def test_csv_import_with_a_nul_remark_takes_the_good_orders(tmall: Any, skus: Any) -> None:
    header = "渠道,平台订单号,收货人,收货人手机,省,市,区,详细地址,商家编码,数量,单价,买家留言\n"
    rows = "".join(
        f"TMALL,CSV{i},张三,13800138000,浙江,杭州市,西湖区,文三路1号,TEA-001,1,9.90,{'坏' + chr(0) if i == 2 else ''}\n"
        for i in range(1, 4)
    )
    summary = orders_import_file(stream=io.BytesIO((header + rows).encode()), filename="x.csv", actor=None)
    assert (summary.created, summary.failed) == (2, 1)
    assert Order.objects.count() == 2


# ---- item 5: NUL bytes anywhere, size, depth, dates, files, headers before authentication, huge numbers


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/orders?q=%00", "q"),
        ("/api/v1/customers?q=%00", "q"),
        ("/api/v1/orders/SO%00", "number"),
        ("/api/v1/skus/A%00/stock", "code"),
        ("/api/v1/outbox/messages?topic=%00", "topic"),
        ("/api/v1/channels/TMALL/stock?changed_since=1770-01-09T22:28:08-18:48", "changed_since"),
        ("/api/v1/orders?limit=9223372036854775808", "limit"),
        ("/api/v1/stock/documents/9223372036854775808", "document_id"),
    ],
)
def test_bad_path_and_query_values_are_422_naming_the_field(admin: Client, url: str, field: str) -> None:
    response = admin.get(url)
    assert response.status_code == 422, response.content
    assert field in detail_fields(response)


def test_nul_in_a_body_string_is_422_and_writes_nothing(admin: Client) -> None:
    make_warehouse("HZ01")
    response = post(admin, "/api/v1/stock/receipts", {"warehouse": "HZ01", "lines": [{"sku": "A\x00", "quantity": 1}]})
    assert response.status_code == 422
    assert detail_fields(response) == {"lines[0].sku"}
    assert not StockDocument.objects.exists()


def test_stock_quantity_of_2_to_the_63_is_422(admin: Client) -> None:
    make_warehouse("HZ01")
    make_sku("A-1")
    response = post(
        admin, "/api/v1/stock/receipts", {"warehouse": "HZ01", "lines": [{"sku": "A-1", "quantity": 2**63}]}
    )
    assert response.status_code == 422
    assert "lines[0].quantity" in detail_fields(response)
    assert not StockDocument.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_a_body_over_the_size_limit_is_413(admin: Client) -> None:
    response = post(admin, "/api/v1/orders", order_payload(buyer_remark="x" * 20_000))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert not Order.objects.exists()


@pytest.mark.parametrize("url", ["/api/v1/orders", "/api/v1/orders/bulk", "/api/v1/rules"])
def test_json_nested_1000_deep_is_422(admin: Client, url: str) -> None:
    response = admin.post(url, data="[" * 1000 + "]" * 1000, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["code"] == "too_deep"


@pytest.mark.parametrize("content", [b"PK\x03\x04 not really a zip", b"\x00\x01garbage" * 100, b""])
def test_random_or_truncated_xlsx_is_a_clear_error(tmp_path: Any, content: bytes, tmall: Any) -> None:
    from openpyxl import Workbook

    if not content:  # a real workbook cut in half
        book, buffer = Workbook(), io.BytesIO()
        book.active.append(["渠道", "平台单号"])
        book.save(buffer)
        content = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    path = tmp_path / "orders.xlsx"
    path.write_bytes(content)
    with pytest.raises(CommandError, match="XLSX"):
        call_command("import_orders", str(path), "--no-progress")
    assert not Order.objects.exists()


@pytest.mark.parametrize("timestamp", [str(10**400), "١٢٣٤٥٦٧٨٩٠", "-1e9"])
def test_a_callback_with_an_absurd_timestamp_is_401(db: Any, timestamp: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("OMS_PAYMENT_SECRET_ALIPAY", "s3cret")
    response = Client(headers={"X-OMS-Timestamp": timestamp, "X-OMS-Signature": "v1=00"}).post(
        "/api/v1/payments/callbacks/alipay", data="{}", content_type="application/json"
    )
    assert response.status_code == 401


def test_a_signed_callback_with_a_nul_transaction_id_is_422(make_order: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("OMS_PAYMENT_SECRET_ALIPAY", "s3cret")
    order = make_order(payment=None)
    body = {"order_number": order.number, "transaction_id": "T\x00", "trade_status": "success", "amount": "1.00"}
    raw = json.dumps(body).encode()
    headers = signature_headers(secret="s3cret", event_id="e1", timestamp=int(time.time()), body=raw)
    response = Client(headers=headers).post(
        "/api/v1/payments/callbacks/alipay", data=raw, content_type="application/json"
    )
    assert response.status_code == 422
    assert detail_fields(response) == {"transaction_id"}
    assert not Payment.objects.filter(order=order).exists()


@pytest.mark.parametrize("header", ["Bearer oms_\x00_x", "Bearer \x00", "Basic abc", "Bearer", "Bearer " + "a" * 5000])
def test_a_malformed_authorization_header_is_401(db: Any, header: str) -> None:
    response = Client(HTTP_AUTHORIZATION=header).post("/api/v1/orders", data="{}", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


# ---- item 7: authorise before validating, 401 (not CSRF 403) without a valid token, sessions CSRF-checked


def test_no_role_token_gets_403_before_the_body_is_validated(make_operator: Any, api_client: Any) -> None:
    client = api_client(make_operator())
    for url, body in [("/api/v1/orders/SO1/split", {}), ("/api/v1/orders", {"nonsense": 1}), ("/api/v1/rules", [])]:
        response = post(client, url, body)
        assert response.status_code == 403, (url, response.content)
        assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("token", [None, "oms_dead_beef", "garbage"])
def test_writes_without_a_valid_token_are_401_not_csrf_403(db: Any, token: str | None) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}") if token else Client()
    response = post(client, "/api/v1/orders/SO1/split", {})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_console_session_writes_stay_csrf_checked(make_operator: Any, tmall: Any, skus: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_operator("administrator"))
    refused = post(client, "/api/v1/orders", order_payload())
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    client.get("/")  # the console sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    taken = client.post(
        "/api/v1/orders", data=json.dumps(order_payload()), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert taken.status_code == 201, taken.content


# ---- item 8: money in ASCII digits, quantities as JSON integers


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"sku_code": "TEA-001", "quantity": 1, "unit_price": "٩٩.٠٠"}, "lines[0].unit_price"),
        ({"sku_code": "TEA-001", "quantity": "3", "unit_price": "9.90"}, "lines[0].quantity"),
        ({"sku_code": "TEA-001", "quantity": 3.0, "unit_price": "9.90"}, "lines[0].quantity"),
        ({"sku_code": "TEA-001", "quantity": True, "unit_price": "9.90"}, "lines[0].quantity"),
    ],
)
def test_non_ascii_money_and_string_quantities_are_refused(admin: Client, line: dict[str, Any], field: str) -> None:
    response = post(admin, "/api/v1/orders", order_payload(lines=[line]))
    assert response.status_code == 422, response.content
    assert field in detail_fields(response)
    assert not Order.objects.exists()


def test_stock_quantity_as_a_string_is_refused(admin: Client) -> None:
    make_warehouse("HZ01")
    make_sku("A-1")
    make_channel("TM2", warehouses=[])
    response = post(admin, "/api/v1/stock/receipts", {"warehouse": "HZ01", "lines": [{"sku": "A-1", "quantity": "3"}]})
    assert response.status_code == 422
    assert "lines[0].quantity" in detail_fields(response)


@pytest.mark.parametrize("error", ["OperationalError", "InterfaceError"])
def test_a_database_outage_answers_503_with_retry_after(
    error: str, make_operator: Any, api_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that meets a restarting database commits nothing: the client is told to send it again (503,
    Retry-After), not that the server failed (500)."""
    import django.db

    from oms.api.routers import orders as orders_router

    def down(**_kwargs: Any) -> Any:
        raise getattr(django.db, error)("server closed the connection unexpectedly")

    client = api_client(make_operator("administrator"))
    monkeypatch.setattr(orders_router, "order_list", down)
    answer = client.get("/api/v1/orders")
    assert answer.status_code == 503
    assert answer["Retry-After"] == "1"
    assert answer.json()["error"]["code"] == "database_unavailable"
