"""Invoicing API (发票): the queue, an invoice with its lines and PDF, issuing (one order, one invoice, in bulk),
red-letter reversal (whole or per line), the buyer's invoice details, and the provider's signed callback.

The callback is not an operator call: it carries no token or session and is authenticated by its signature
under the provider's secret (`oms.invoicing.providers.provider_secret`), like payment callbacks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.security import APIKeyHeader

from oms.api.auth import require_perm
from oms.core.domain.money import format_minor, parse_minor
from oms.core.errors import NotFound
from oms.invoicing.models import Invoice, InvoicePdf
from oms.invoicing.providers import provider_secret
from oms.invoicing.selectors import invoice_counts, invoice_get, invoice_lines, invoice_list, order_invoices
from oms.invoicing.services.callback import invoice_callback_receive
from oms.invoicing.services.issue import invoice_submit, invoices_submit, order_invoice_issue
from oms.invoicing.services.reverse import invoice_buyer_correct, invoice_reverse
from oms.orders.selectors import order_get
from oms.orders.services.invoice_profile import order_invoice_profile_update
from oms.outbox.domain.signing import HEADER_SIGNATURE, SignatureInvalid, verify_signature

router = Router(tags=["invoicing"])
F = TypeVar("F", bound=Callable[..., Any])
MAX_PAGE = 200


class InvoiceSignatureAuth(APIKeyHeader):
    """Authenticates an invoice provider, not an operator: a fresh signature of the body under its secret."""

    param_name = HEADER_SIGNATURE

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        match = request.resolver_match
        provider = str(match.kwargs.get("provider", "")) if match else ""
        secret = provider_secret(provider) if provider else ""
        if not secret or not key:
            return None
        try:
            verify_signature(secret, request.headers, request.body, now=time.time())
        except SignatureInvalid:
            return None
        return f"invoice-provider:{provider}"


def signed_callback(func: F) -> F:
    func.required_perms = ()  # type: ignore[attr-defined]
    func.auth_kind = "invoice_signature"  # type: ignore[attr-defined]
    return func


def invoice_out(invoice: Invoice, *, lines: bool = False) -> dict[str, Any]:
    c = invoice.currency
    out: dict[str, Any] = {
        "number": invoice.number,
        "order": invoice.order.number,
        "kind": invoice.kind,
        "state": invoice.state,
        "reason": invoice.reason,
        "against": invoice.against.number if invoice.against_id and invoice.against else None,
        "invoice_number": invoice.provider_number,
        "issued_on": invoice.issued_on.isoformat() if invoice.issued_on else None,
        "download_url": invoice.download_url,
        "invoice_type": invoice.invoice_type,
        "seller": {"name": invoice.seller_name, "tax_id": invoice.seller_tax_id},
        "buyer": {"kind": invoice.buyer_kind, "title": invoice.buyer_title, "tax_id": invoice.buyer_tax_id},
        "amount": format_minor(invoice.amount_minor, c),
        "amount_excl_tax": format_minor(invoice.excl_minor, c),
        "tax": format_minor(invoice.tax_minor, c),
        "currency": c,
        "attempts": invoice.attempts,
        "error": {"code": invoice.error_code, "message": invoice.last_error} if invoice.error_code else None,
        "created_at": invoice.created_at.isoformat(),
    }
    if lines:
        out["lines"] = [
            {
                "row": ln.row_no,
                "kind": ln.kind,
                "name": ln.name,
                "tax_code": ln.tax_code,
                "unit": ln.unit,
                "rate": ln.rate,
                "quantity": ln.quantity,
                "amount": format_minor(ln.amount_minor, c),
                "amount_excl_tax": format_minor(ln.excl_minor, c),
                "tax": format_minor(ln.tax_minor, c),
            }
            for ln in invoice_lines(invoice=invoice)
        ]
    return out


@router.get("/invoicing/invoices", response=dict[str, Any], summary="The invoice queue, with counts per state")
@require_perm("invoicing.view_invoice")
def invoices_list(
    request: HttpRequest, state: str = "", kind: str = "", q: str = "", limit: int = Query(50, ge=1, le=MAX_PAGE)
) -> dict[str, Any]:
    rows = invoice_list(state=state, kind=kind, q=q)[:limit]
    return {"counts": invoice_counts(), "invoices": [invoice_out(i) for i in rows]}


@router.get("/invoicing/invoices/{number}", response=dict[str, Any], summary="One invoice with its lines")
@require_perm("invoicing.view_invoice")
def invoice_detail(request: HttpRequest, number: str) -> dict[str, Any]:
    return invoice_out(invoice_get(number=number), lines=True)


@router.get("/invoicing/invoices/{number}/pdf", summary="The invoice's PDF (local provider)")
@require_perm("invoicing.view_invoice")
def invoice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    invoice = invoice_get(number=number)
    stored = InvoicePdf.objects.filter(invoice=invoice).first()
    if stored is None:
        raise NotFound(f"Invoice {number} has no PDF (yet).", code="no_pdf", extra={"field": "number"})
    response = HttpResponse(bytes(stored.content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


@router.get("/orders/{number}/invoices", response=dict[str, Any], summary="An order's invoices, blue and red")
@require_perm("invoicing.view_invoice", "orders.view_order")
def order_invoices_list(request: HttpRequest, number: str) -> dict[str, Any]:
    order = order_get(number=number)
    return {"order": order.number, "invoices": [invoice_out(i, lines=True) for i in order_invoices(order=order)]}


@router.post("/orders/{number}/invoices", response=dict[str, Any], summary="Issue the order's blue invoices")
@require_perm("invoicing.issue_invoice", "orders.view_order")
def order_invoices_issue(request: HttpRequest, number: str) -> dict[str, Any]:
    invoices = order_invoice_issue(order=order_get(number=number), actor=request.user)
    return {"invoices": [invoice_out(Invoice.objects.get(pk=i.pk)) for i in invoices]}


class SubmitIn(Schema):
    numbers: list[str] = Field(..., min_length=1, max_length=MAX_PAGE)


@router.post("/invoicing/submit", response=dict[str, Any], summary="Send pending or failed invoices")
@require_perm("invoicing.issue_invoice")
def invoices_submit_bulk(request: HttpRequest, body: SubmitIn) -> dict[str, Any]:
    return {"results": invoices_submit(numbers=body.numbers, actor=request.user)}


@router.post("/invoicing/invoices/{number}/submit", response=dict[str, Any], summary="Send (or retry) one invoice")
@require_perm("invoicing.issue_invoice")
def invoice_submit_one(request: HttpRequest, number: str) -> dict[str, Any]:
    invoice = invoice_submit(invoice=invoice_get(number=number), actor=request.user)
    return invoice_out(Invoice.objects.get(pk=invoice.pk))


class ReverseIn(Schema):
    amounts: dict[int, str] | None = Field(
        None, description='Order line no → amount to take back ("12.34"); none: reverse the whole invoice.'
    )


@router.post(
    "/invoicing/invoices/{number}/reverse", response=dict[str, Any], summary="Red-letter (红冲) a blue invoice"
)
@require_perm("invoicing.reverse_invoice")
def invoice_reverse_endpoint(request: HttpRequest, number: str, body: ReverseIn) -> dict[str, Any]:
    invoice = invoice_get(number=number)
    amounts = (
        {k: parse_minor(v, invoice.currency, field=f"amounts[{k}]") for k, v in body.amounts.items()}
        if body.amounts is not None
        else None
    )
    reds = invoice_reverse(invoice=invoice, actor=request.user, amounts=amounts)
    return {"invoices": [invoice_out(Invoice.objects.get(pk=r.pk)) for r in reds]}


class ProfileIn(Schema):
    kind: str = Field(..., description="personal or company")
    type: str = Field("normal", description="normal (电子普票), special (增值税专用发票), paper")
    title: str = Field(..., max_length=100)
    tax_id: str = Field("", max_length=20, description="统一社会信用代码: 18 characters with its check character")
    email: str = Field("", max_length=254)
    mobile: str = Field("", max_length=32)
    address: str = Field("", max_length=200)
    phone: str = Field("", max_length=32)
    bank: str = Field("", max_length=100)
    account: str = Field("", max_length=40)
    save_to_customer: bool = Field(False, description="Keep these details for the buyer's next orders.")
    correct_issued: bool = Field(
        False, description="The order is invoiced: reverse its invoices and re-issue them to these details."
    )


@router.put("/orders/{number}/invoice-profile", response=dict[str, Any], summary="The buyer's invoice details")
@require_perm("invoicing.edit_invoice_details", "orders.view_order")
def order_invoice_profile(request: HttpRequest, number: str, body: ProfileIn) -> dict[str, Any]:
    order = order_get(number=number)
    data = body.model_dump(exclude={"save_to_customer", "correct_issued"})
    if body.correct_issued:
        if not request.user.has_perm("invoicing.reverse_invoice"):
            from oms.core.errors import PermissionDenied

            raise PermissionDenied(
                "You lack the permission invoicing.reverse_invoice for this action.",
                extra={"missing_permissions": ["invoicing.reverse_invoice"]},
            )
        invoice_buyer_correct(order=order, actor=request.user, data=data)
    else:
        order_invoice_profile_update(order=order, actor=request.user, data=data, save_to_customer=body.save_to_customer)
    order = order_get(number=number)
    return {"order": order.number, "invoices": [invoice_out(i) for i in order_invoices(order=order)]}


@router.post(
    "/invoicing/callbacks/{provider}",
    auth=InvoiceSignatureAuth(),
    summary="Invoice provider result callback (HMAC-signed, not for operators)",
)
@signed_callback
def invoice_callback(request: HttpRequest, provider: str) -> dict[str, Any]:
    """``{request_id, status: issued|failed, invoice_number, issued_on, download_url, error_code, error}``;
    a replay changes nothing; an unknown request is a 404 naming ``request_id``."""
    invoice = invoice_callback_receive(provider=provider, headers=dict(request.headers), body=request.body)
    return invoice_out(invoice)
