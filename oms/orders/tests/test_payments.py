"""Payments (O4): signed callbacks, repeats, partial payments, late payments after cancellation."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from oms.orders.models import Order, OrderEvent, Payment
from oms.orders.services.cancel import order_cancel
from oms.outbox.domain.signing import signature_headers
from oms.testing.orders import order_payload

SECRET = "alipay-test-secret"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_PAYMENT_SECRET_ALIPAY", SECRET)


@pytest.fixture
def unpaid(make_order: Any) -> Order:
    order: Order = make_order(payment=None)
    assert order.status == "pending_payment" and order.payment_status == "unpaid"
    return order


def callback(body: dict[str, Any], *, secret: str = SECRET, method: str = "alipay", age_s: int = 0) -> Any:
    raw = json.dumps(body).encode()
    headers = signature_headers(secret=secret, event_id="evt-1", timestamp=int(time.time()) - age_s, body=raw)
    return Client(headers=headers).post(
        f"/api/v1/payments/callbacks/{method}", data=raw, content_type="application/json"
    )


def paid(order: Order, amount: str, txn: str = "2026T1", status: str = "success") -> dict[str, Any]:
    return {"order_number": order.number, "transaction_id": txn, "trade_status": status, "amount": amount}


def test_callback_pays_the_order_and_moves_it_to_review(unpaid: Order) -> None:
    response = callback(paid(unpaid, "301.79"))
    assert response.status_code == 200, response.content
    assert response.json()["result"] == "recorded"
    unpaid.refresh_from_db()
    assert (unpaid.status, unpaid.payment_status, unpaid.received_minor) == ("pending_review", "paid", 30179)
    assert unpaid.paid_at is not None


def test_repeated_callback_is_taken_once(unpaid: Order) -> None:
    assert callback(paid(unpaid, "301.79")).json()["result"] == "recorded"
    assert callback(paid(unpaid, "301.79")).json()["result"] == "duplicate"
    assert Payment.objects.filter(order=unpaid).count() == 1


def test_same_transaction_with_another_amount_is_409(unpaid: Order) -> None:
    callback(paid(unpaid, "100.00"))
    response = callback(paid(unpaid, "200.00"))
    assert response.status_code == 409 and response.json()["error"]["code"] == "payment_conflict"


def test_partial_payments_add_up(unpaid: Order) -> None:
    callback(paid(unpaid, "100.00", txn="A"))
    unpaid.refresh_from_db()
    assert (unpaid.status, unpaid.payment_status) == ("pending_payment", "partially_paid")
    callback(paid(unpaid, "201.79", txn="B"))
    unpaid.refresh_from_db()
    assert (unpaid.status, unpaid.payment_status, unpaid.received_minor) == ("pending_review", "paid", 30179)


def test_late_payment_after_cancel_is_flagged_and_never_reopens(unpaid: Order, admin_operator: Any) -> None:
    order_cancel(order=unpaid, actor=admin_operator, reason="超时未付")
    response = callback(paid(unpaid, "301.79"))
    assert response.status_code == 200
    unpaid.refresh_from_db()
    assert unpaid.status == "cancelled"
    late = Payment.objects.get(order=unpaid)
    assert late.needs_refund and late.refund_due_minor == late.amount_minor == 30179
    assert OrderEvent.objects.filter(order=unpaid, kind="payment_after_close").exists()


def test_out_of_order_refund_then_payment(unpaid: Order) -> None:
    callback(paid(unpaid, "301.79", txn="R1", status="refund"))
    callback(paid(unpaid, "301.79", txn="P1"))
    unpaid.refresh_from_db()
    assert unpaid.payment_status == "refunded" and unpaid.refunded_minor == 30179


def test_pending_status_is_acknowledged_and_changes_nothing(unpaid: Order) -> None:
    assert callback(paid(unpaid, "301.79", status="WAIT_BUYER_PAY")).json() == {"result": "ignored"}
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("secret", "method"), [("wrong-secret", "alipay"), (SECRET, "wechat_pay"), (SECRET, "no_such_method")]
)
def test_unsigned_or_wrongly_signed_callbacks_are_401(unpaid: Order, secret: str, method: str) -> None:
    response = callback(paid(unpaid, "301.79"), secret=secret, method=method)
    assert response.status_code == 401
    assert not Payment.objects.exists()


def test_callback_for_unknown_order_is_404(db: Any) -> None:
    response = callback({"order_number": "SO0000", "transaction_id": "x", "trade_status": "success", "amount": "1"})
    assert response.status_code == 404


def test_finance_records_a_bank_transfer(unpaid: Order, make_operator: Any, api_client: Any) -> None:
    client = api_client(make_operator("finance"))
    body = {"method": "bank_transfer", "transaction_id": "BANK-1", "amount": "301.79"}
    response = client.post(f"/api/v1/orders/{unpaid.number}/payments", data=body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["order"]["payment_status"] == "paid"
    cs = api_client(make_operator("customer_service"))
    denied = cs.post(f"/api/v1/orders/{unpaid.number}/payments", data=body, content_type="application/json")
    assert denied.status_code == 403


def test_payment_at_intake_is_a_payment_record(make_order: Any) -> None:
    order = make_order()
    payment = Payment.objects.get(order=order)
    assert (payment.method, payment.amount_minor) == ("alipay", order.payable_minor)


def test_cod_order_goes_to_review_unpaid(make_order: Any) -> None:
    order = make_order(payment=None, cod=True)
    assert (order.status, order.payment_status) == ("pending_review", "unpaid")


def test_order_payload_helper_is_valid() -> None:
    assert order_payload()["lines"]


@pytest.mark.parametrize("amount", ["0", "9" * 25, "abc", "-5"])
def test_callback_with_absurd_amount_is_422(unpaid: Order, amount: str) -> None:
    assert callback(paid(unpaid, amount)).status_code == 422
    assert not Payment.objects.exists()


def test_stale_signature_is_401(unpaid: Order) -> None:
    assert callback(paid(unpaid, "301.79"), age_s=600).status_code == 401
    assert not Payment.objects.exists()


def test_unsigned_callback_is_401(unpaid: Order) -> None:
    response = Client().post(
        "/api/v1/payments/callbacks/alipay", data=json.dumps(paid(unpaid, "301.79")), content_type="application/json"
    )
    assert response.status_code == 401


def test_cancel_divides_what_is_owed_back_over_the_payments_exactly(unpaid: Order, admin_operator: Any) -> None:
    # Paid in three parts, one refunded in part: the refund due is what was received less what was refunded,
    # divided over the payments by their amounts, each within its own amount, adding up to the cent.
    for txn, amount in (("P1", "100.00"), ("P2", "100.00"), ("P3", "101.79")):
        assert callback(paid(unpaid, amount, txn=txn)).status_code == 200
    assert callback(paid(unpaid, "33.33", txn="P1-R", status="refund")).status_code == 200
    unpaid.refresh_from_db()
    order_cancel(order=unpaid, actor=admin_operator, reason="买家申请取消")
    rows = list(Payment.objects.filter(order=unpaid, kind="payment").order_by("id"))
    assert all(p.needs_refund and 0 <= p.refund_due_minor <= p.amount_minor for p in rows)
    assert sum(p.refund_due_minor for p in rows) == unpaid.received_minor - unpaid.refunded_minor == 268_46
    total = sum(p.amount_minor for p in rows)
    for p in rows:  # each within one cent of its exact proportional share
        assert abs(p.refund_due_minor * total - 268_46 * p.amount_minor) < total
