"""Issuing through the local provider: pending → issuing → issued by a signed callback; the PDF read back;
replays, bad signatures, unknown requests and second blue invoices refused, nothing changed."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader

from oms.core.errors import Conflict, NotFound, ValidationFailed
from oms.invoicing.models import Invoice, InvoiceLine, InvoicePdf, InvoiceShare, InvoiceState
from oms.invoicing.providers import provider_secret
from oms.invoicing.services.callback import invoice_callback_receive
from oms.invoicing.services.issue import invoice_request, order_invoice_issue
from oms.orders.models import Order, OrderLine
from oms.outbox.domain.signing import SignatureInvalid, signature_headers


def _issue(order: Order, actor: Any, capture: Any) -> list[Invoice]:
    with capture(execute=True):
        invoices = order_invoice_issue(order=order, actor=actor)
    return [Invoice.objects.get(pk=i.pk) for i in invoices]


def test_issue_numbers_renders_and_reconciles_to_the_cent(
    shipped_order: Callable[..., Order], admin_operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = shipped_order()
    (invoice,) = _issue(order, admin_operator, django_capture_on_commit_callbacks)
    assert invoice.state == InvoiceState.ISSUED and len(invoice.provider_number) == 20
    assert invoice.seller_name == "华东分公司" and invoice.buyer_tax_id == "91330100799655058B"
    # The amount including tax is what the buyer paid: goods rows per line, shipping its own row.
    assert invoice.amount_minor == order.payable_minor == invoice.excl_minor + invoice.tax_minor
    rows = list(InvoiceLine.objects.filter(invoice=invoice).order_by("row_no"))
    assert [r.kind for r in rows] == ["goods", "goods", "goods", "shipping"]
    paid = {ln.pk: ln.paid_minor for ln in OrderLine.objects.filter(order=order)}
    carried: dict[int, int] = {}
    for share in InvoiceShare.objects.filter(line__invoice=invoice):
        carried[share.order_line_id] = carried.get(share.order_line_id, 0) + share.amount_minor
    assert carried == paid
    assert [r.rate for r in rows] == ["9", "9", "13", "6"]
    # The PDF, read back.
    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(InvoicePdf.objects.get(invoice=invoice).content)).pages
    )
    assert invoice.provider_number in text
    assert f"{invoice.amount_minor // 100}.{invoice.amount_minor % 100:02d}" in text
    assert "91330100799655058B" in text


def _signed(body: dict[str, Any], secret: str | None = None) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(body).encode()
    return signature_headers(
        secret=secret or provider_secret("local"), event_id="x", timestamp=int(time.time()), body=raw
    ), raw


def test_callbacks_replayed_forged_or_unknown_change_nothing(
    shipped_order: Callable[..., Order], admin_operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    (invoice,) = _issue(shipped_order(), admin_operator, django_capture_on_commit_callbacks)
    answer = {"request_id": str(invoice.request_id), "status": "issued", "invoice_number": invoice.provider_number,
              "issued_on": invoice.issued_on.isoformat(), "download_url": invoice.download_url}  # fmt: skip
    headers, raw = _signed(answer)
    assert invoice_callback_receive(provider="local", headers=headers, body=raw).updated_at == invoice.updated_at
    headers, raw = _signed({**answer, "invoice_number": "99999999999999999999"})
    with pytest.raises(Conflict) as conflict:
        invoice_callback_receive(provider="local", headers=headers, body=raw)
    assert conflict.value.extra["field"] == "invoice_number"
    headers, raw = _signed(answer, secret="not-the-secret-at-all")
    with pytest.raises(SignatureInvalid):
        invoice_callback_receive(provider="local", headers=headers, body=raw)
    headers, raw = _signed({**answer, "request_id": "6f1c1f43-0000-4000-8000-000000000000"})
    with pytest.raises(NotFound) as unknown:
        invoice_callback_receive(provider="local", headers=headers, body=raw)
    assert unknown.value.extra["field"] == "request_id"
    headers, raw = _signed({**answer, "issued_on": "yesterday"})
    with pytest.raises(ValidationFailed) as bad:
        invoice_callback_receive(provider="local", headers=headers, body=raw)
    assert [d.field for d in bad.value.details] == ["issued_on"]
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert (fresh.provider_number, fresh.state, fresh.updated_at) == (
        invoice.provider_number,
        "issued",
        invoice.updated_at,
    )


def test_never_two_blue_invoices_for_the_same_money(
    shipped_order: Callable[..., Order], admin_operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = shipped_order()
    _issue(order, admin_operator, django_capture_on_commit_callbacks)
    with pytest.raises(Conflict) as err:
        invoice_request(order=order, actor=admin_operator)
    assert err.value.code == "already_invoiced" and err.value.extra["field"] == "order"
    assert Invoice.objects.filter(order=order).count() == 1
    # Even past the service's check, the database holds each piece of money on one live blue share only.
    share = InvoiceShare.objects.filter(live=True).first()
    assert share is not None
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceShare.objects.create(line=share.line, blue=share.blue, order_line=share.order_line,
                                    component=share.component, part=share.part, amount_minor=1, live=True)  # fmt: skip


def test_bad_buyer_details_and_unknown_tax_codes_are_refused_naming_the_field(
    shipped_order: Callable[..., Order], admin_operator: Any
) -> None:
    bad_id = shipped_order(invoice={"kind": "company", "title": "某公司", "tax_id": "91330100MA2B3C4D5E"})
    with pytest.raises(ValidationFailed) as err:
        invoice_request(order=bad_id, actor=admin_operator)
    assert [(d.field, d.code) for d in err.value.details] == [("invoice.tax_id", "bad_tax_id")]
    special = shipped_order(invoice={"kind": "company", "title": "某公司", "tax_id": "91330100799655058B"})
    Order.objects.filter(pk=special.pk).update(invoice_type="special")
    special.refresh_from_db()
    with pytest.raises(ValidationFailed) as err:
        invoice_request(order=special, actor=admin_operator)
    assert {d.field for d in err.value.details} == {
        "invoice.address",
        "invoice.phone",
        "invoice.bank",
        "invoice.account",
    }
    order = shipped_order()
    OrderLine.objects.get(order=order, line_no=3).sku.__class__.objects.filter(code="CUP-003").update(tax_code="")
    with pytest.raises(ValidationFailed) as err:
        invoice_request(order=order, actor=admin_operator)
    assert err.value.code == "unknown_tax_code" and err.value.details[0].field == "lines[3].tax_code"
    assert Invoice.objects.count() == 0
