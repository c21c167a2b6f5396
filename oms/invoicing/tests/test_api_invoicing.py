"""The invoicing API as finance sees it: issue, list, read, download, reverse, correct; and the provider's
signed callback endpoint. Errors name the field; a bad signature is 401; nothing changes on a refusal."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

from django.test import Client
from pypdf import PdfReader

from oms.accounts.tokens import api_token_create
from oms.invoicing.models import Invoice
from oms.invoicing.providers import provider_secret
from oms.orders.models import Order
from oms.outbox.domain.signing import signature_headers


def _client(make_operator: Callable[..., Any], role: str) -> Client:
    _token, plaintext = api_token_create(operator=make_operator(role, username=f"api-{role}"), name="t")
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")


def test_finance_issues_downloads_and_reverses_through_the_api(
    shipped_order: Callable[..., Order], make_operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = shipped_order()
    finance = _client(make_operator, "finance")
    service = _client(make_operator, "customer_service")
    assert service.post(f"/api/v1/orders/{order.number}/invoices").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        issued = finance.post(f"/api/v1/orders/{order.number}/invoices")
    assert issued.status_code == 200, issued.content
    (number,) = [i["number"] for i in issued.json()["invoices"]]
    detail = finance.get(f"/api/v1/invoicing/invoices/{number}").json()
    assert detail["state"] == "issued" and detail["amount"] == "301.79"
    assert [ln["kind"] for ln in detail["lines"]] == ["goods", "goods", "goods", "shipping"]
    listed = service.get("/api/v1/invoicing/invoices?state=issued").json()
    assert listed["counts"]["issued"] == 1 and listed["invoices"][0]["number"] == number
    pdf = finance.get(f"/api/v1/invoicing/invoices/{number}/pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert detail["invoice_number"] in text and "301.79" in text
    # Issuing twice for the same money: 409 naming the order; reversing more than invoiced: 422 naming the line.
    again = finance.post(f"/api/v1/orders/{order.number}/invoices")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_invoiced"
    too_much = finance.post(
        f"/api/v1/invoicing/invoices/{number}/reverse", json.dumps({"amounts": {"1": "999.00"}}), "application/json"
    )
    assert too_much.status_code == 422
    assert too_much.json()["error"]["details"][0]["field"] == "amounts[1]"
    assert Invoice.objects.filter(kind="red").count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        red = finance.post(f"/api/v1/invoicing/invoices/{number}/reverse", "{}", "application/json")
    assert red.status_code == 200 and red.json()["invoices"][0]["amount"] == "-301.79"
    assert finance.get(f"/api/v1/invoicing/invoices/{number}").json()["state"] == "reversed"
    chain = finance.get(f"/api/v1/orders/{order.number}/invoices").json()["invoices"]
    assert [(i["kind"], i["against"]) for i in chain] == [("blue", None), ("red", number)]


def test_the_buyer_details_are_checked_naming_the_field(
    shipped_order: Callable[..., Order], make_operator: Any
) -> None:
    order = shipped_order()
    finance = _client(make_operator, "finance")
    body = {"kind": "company", "type": "special", "title": "某公司", "tax_id": "91330100799655058C"}
    answer = finance.put(f"/api/v1/orders/{order.number}/invoice-profile", json.dumps(body), "application/json")
    assert answer.status_code == 422
    fields = {d["field"] for d in answer.json()["error"]["details"]}
    assert fields == {"invoice.tax_id", "invoice.address", "invoice.phone", "invoice.bank", "invoice.account"}
    order.refresh_from_db()
    assert order.invoice_tax_id == "91330100799655058B"


def test_the_callback_endpoint_wants_the_providers_signature(
    shipped_order: Callable[..., Order], make_operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    finance = _client(make_operator, "finance")
    order = shipped_order()
    with django_capture_on_commit_callbacks(execute=True):
        number = finance.post(f"/api/v1/orders/{order.number}/invoices").json()["invoices"][0]["number"]
    invoice = Invoice.objects.get(number=number)
    answer = {"request_id": str(invoice.request_id), "status": "issued"}
    raw = json.dumps(
        {**answer, "invoice_number": invoice.provider_number, "issued_on": str(invoice.issued_on)}
    ).encode()
    url = "/api/v1/invoicing/callbacks/local"
    forged = signature_headers(secret="wrong-secret-wrong", event_id="e", timestamp=int(time.time()), body=raw)
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in forged.items()}
    assert Client().post(url, raw, "application/json", **headers).status_code == 401
    assert finance.post(url, raw, "application/json").status_code == 401
    good = signature_headers(secret=provider_secret("local"), event_id="e", timestamp=int(time.time()), body=raw)
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in good.items()}
    replay = Client().post(url, raw, "application/json", **headers)
    assert replay.status_code == 200 and replay.json()["invoice_number"] == invoice.provider_number
    assert Invoice.objects.get(pk=invoice.pk).updated_at == invoice.updated_at
