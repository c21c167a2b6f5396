"""Invoicing in the console (发票): the queue with filters, counts and bulk issue; an invoice's page with its
lines, its blue/red chain and its actions; the order page's invoice panel (loaded by htmx); XLSX export."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from oms.console.permissions import console_view
from oms.core.domain.money import format_minor, parse_minor
from oms.core.errors import ApplicationError
from oms.invoicing.exports import invoices_xlsx
from oms.invoicing.models import Invoice, InvoiceKind, InvoicePdf, InvoiceShare, InvoiceState
from oms.invoicing.selectors import invoice_counts, invoice_get, invoice_lines, invoice_list, order_invoices
from oms.invoicing.services.issue import invoice_submit, invoices_submit, order_invoice_issue
from oms.invoicing.services.reverse import invoice_buyer_correct, invoice_reverse
from oms.orders.models import InvoiceKind as TitleKind
from oms.orders.models import InvoiceType, Order
from oms.orders.services.invoice_profile import order_invoice_profile_update

PAGE = 200
PROFILE_KEYS = ("kind", "type", "title", "tax_id", "email", "mobile", "address", "phone", "bank", "account")


# Refusals in the operator's language, by code; the fields they name follow.
ERROR_MESSAGES = {
    "already_invoiced": gettext_lazy("This money is already on a blue invoice; reverse it first."),
    "invoiced_in_lineage": gettext_lazy("An order split or merged with this one is already invoiced."),
    "nothing_to_invoice": gettext_lazy("Nothing to invoice: no line was paid for."),
    "no_invoice_request": gettext_lazy("The order asks for no invoice; fill in the buyer's invoice details first."),
    "no_seller": gettext_lazy("No seller: the order has no shipping warehouse and the shop no configured seller."),
    "unknown_tax_code": gettext_lazy("A SKU has no tax classification code (税收分类编码)."),
    "bad_tax_rate": gettext_lazy("A SKU's tax rate is not an invoice rate (13%, 9%, 6%, 0%, exempt)."),
    "bad_tax_id": gettext_lazy("The taxpayer id is not a valid unified social credit code."),
    "required": gettext_lazy("Required."),
    "special_needs_company": gettext_lazy("A VAT special invoice is issued to a company title."),
    "reverse_exceeds_invoiced": gettext_lazy("More than the invoice holds for this line."),
    "unknown_line": gettext_lazy("The invoice has no such line."),
    "not_reversible": gettext_lazy("This invoice holds nothing to reverse."),
    "not_blue": gettext_lazy("Only a blue invoice is reversed."),
    "invoice_not_pending": gettext_lazy("Only a pending or failed invoice is sent."),
    "provider_not_configured": gettext_lazy("The invoice provider cannot be reached: no endpoint is configured."),
    "line_over_limit": gettext_lazy("One unit costs more than the per-invoice amount limit."),
    "order_final": gettext_lazy("The order is invalid; it is not invoiced."),
}


def _error(request: HttpRequest, exc: ApplicationError) -> None:
    """The refusal in the operator's language, naming each field."""
    words = str(ERROR_MESSAGES.get(exc.code, exc.message))
    fields = [f"{d.field}: {ERROR_MESSAGES.get(d.code, d.message)}" for d in exc.details]
    named = exc.extra.get("field") if isinstance(exc.extra, dict) else None
    text = words + (f" ({'; '.join(fields)})" if fields else f" ({named})" if named else "")
    messages.error(request, text)


def _decorate(invoices: list[Invoice]) -> list[Invoice]:
    for i in invoices:
        c = i.currency
        i.amount_text = format_minor(i.amount_minor, c)  # type: ignore[attr-defined]
        i.tax_text = format_minor(i.tax_minor, c)  # type: ignore[attr-defined]
        i.excl_text = format_minor(i.excl_minor, c)  # type: ignore[attr-defined]
    return invoices


def _filters(g: QueryDict) -> dict[str, str]:
    return {
        "state": g.get("state", "")[:10] if g.get("state", "") in InvoiceState.values else "",
        "kind": g.get("kind", "") if g.get("kind", "") in InvoiceKind.values else "",
        "q": g.get("q", "").strip()[:64],
    }


def _listed(filters: dict[str, str]) -> QuerySet[Invoice]:
    return invoice_list(state=filters["state"], kind=filters["kind"], q=filters["q"])


@console_view("invoicing.view_invoice")
def invoicing_queue(request: HttpRequest) -> HttpResponse:
    filters = _filters(request.GET)
    counts = invoice_counts()
    context: dict[str, Any] = {
        "invoices": _decorate(list(_listed(filters)[:PAGE])),
        "counts": [(code, label, counts[code]) for code, label in InvoiceState.choices],
        "states": InvoiceState.choices,
        "kinds": InvoiceKind.choices,
        "filters": filters,
        "query": request.GET.urlencode(),
    }
    htmx = getattr(request, "htmx", False)
    template = "console/invoicing/_queue_table.html" if htmx else "console/invoicing/queue.html"
    return render(request, template, context)


@require_POST
@console_view("invoicing.issue_invoice")
def invoicing_bulk_submit(request: HttpRequest) -> HttpResponse:
    numbers = [n[:48] for n in request.POST.getlist("numbers")][:PAGE]
    if not numbers:
        messages.error(request, _("Tick the invoices to issue."))
        return redirect("console:invoicing")
    results = invoices_submit(numbers=numbers, actor=request.user)
    sent = sum(1 for state in results.values() if state in (InvoiceState.ISSUING, InvoiceState.ISSUED))
    messages.success(request, _("%(sent)s of %(total)s invoices sent.") % {"sent": sent, "total": len(results)})
    return redirect("console:invoicing")


@console_view("invoicing.view_invoice")
def invoice_page(request: HttpRequest, number: str) -> HttpResponse:
    invoice = invoice_get(number=number)
    lines = list(invoice_lines(invoice=invoice))
    for ln in lines:
        ln.amount_text = format_minor(ln.amount_minor, invoice.currency)  # type: ignore[attr-defined]
        ln.excl_text = format_minor(ln.excl_minor, invoice.currency)  # type: ignore[attr-defined]
        ln.tax_text = format_minor(ln.tax_minor, invoice.currency)  # type: ignore[attr-defined]
    line_nos = dict(
        InvoiceShare.objects.filter(line__invoice=invoice, component="goods").values_list(
            "line_id", "order_line__line_no"
        )
    )
    for ln in lines:
        ln.order_line_no = line_nos.get(ln.pk)  # type: ignore[attr-defined]
    chain = _decorate(order_invoices(order=invoice.order))
    context = {
        "invoice": _decorate([invoice])[0],
        "lines": lines,
        "chain": chain,
        "has_pdf": InvoicePdf.objects.filter(invoice=invoice).exists(),
        "can_send": invoice.state in (InvoiceState.PENDING, InvoiceState.FAILED),
        "can_reverse": invoice.kind == InvoiceKind.BLUE and invoice.state == InvoiceState.ISSUED,
    }
    return render(request, "console/invoicing/invoice.html", context)


@console_view("invoicing.view_invoice")
def invoice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    invoice = invoice_get(number=number)
    stored = get_object_or_404(InvoicePdf, invoice=invoice)
    response = HttpResponse(bytes(stored.content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


@require_POST
@console_view("invoicing.issue_invoice")
def invoice_send(request: HttpRequest, number: str) -> HttpResponse:
    try:
        invoice_submit(invoice=invoice_get(number=number), actor=request.user)
        messages.success(request, _("Invoice sent to the provider."))
    except ApplicationError as exc:
        _error(request, exc)
    return redirect("console:invoice", number=number)


def _amounts(request: HttpRequest, currency: str) -> dict[int, int] | None:
    """``amount_<line no>`` fields typed on the reverse form; none typed: reverse the whole invoice."""
    out: dict[int, int] = {}
    for key in request.POST:
        value = request.POST.get(key, "")
        if key.startswith("amount_") and value.strip():
            line_no = int(key.removeprefix("amount_")) if key.removeprefix("amount_").isdigit() else 0
            out[line_no] = parse_minor(value.strip()[:20], currency, field=f"amounts[{line_no}]")
    return out or None


@require_POST
@console_view("invoicing.reverse_invoice")
def invoice_reverse_view(request: HttpRequest, number: str) -> HttpResponse:
    invoice = invoice_get(number=number)
    try:
        reds = invoice_reverse(invoice=invoice, actor=request.user, amounts=_amounts(request, invoice.currency))
        messages.success(
            request, _("Red invoice %(numbers)s requested.") % {"numbers": ", ".join(r.number for r in reds)}
        )
    except ApplicationError as exc:
        _error(request, exc)
    return redirect("console:invoice", number=number)


@console_view("invoicing.view_invoice", "orders.view_order")
def order_invoice_panel(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    invoices = _decorate(order_invoices(order=order))
    for invoice in invoices:
        invoice.rows = list(invoice_lines(invoice=invoice))  # type: ignore[attr-defined]
        for ln in invoice.rows:  # type: ignore[attr-defined]
            ln.amount_text = format_minor(ln.amount_minor, invoice.currency)
            ln.tax_text = format_minor(ln.tax_minor, invoice.currency)
    context = {
        "order": order,
        "invoices": invoices,
        "title_kinds": [(v, label) for v, label in TitleKind.choices if v != TitleKind.NONE],
        "invoice_types": InvoiceType.choices,
        "any_live": any(i.kind == InvoiceKind.BLUE and i.state != InvoiceState.REVERSED for i in invoices),
    }
    return render(request, "console/invoicing/_order_panel_body.html", context)


@require_POST
@console_view("invoicing.issue_invoice", "orders.view_order")
def order_invoice_issue_view(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    try:
        invoices = order_invoice_issue(order=order, actor=request.user)
        messages.success(
            request, _("Invoice %(numbers)s requested.") % {"numbers": ", ".join(i.number for i in invoices)}
        )
    except ApplicationError as exc:
        _error(request, exc)
    return redirect("console:order_detail", number=number)


@require_POST
@console_view("invoicing.edit_invoice_details", "orders.view_order")
def order_invoice_profile_view(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    data = {key: request.POST.get(key, "").strip()[:254] for key in PROFILE_KEYS}
    try:
        if request.POST.get("correct_issued") and request.user.has_perm("invoicing.reverse_invoice"):
            invoice_buyer_correct(order=order, actor=request.user, data=data)
        else:
            order_invoice_profile_update(
                order=order, actor=request.user, data=data, save_to_customer=bool(request.POST.get("save_to_customer"))
            )
        messages.success(request, _("Invoice details saved."))
    except ApplicationError as exc:
        _error(request, exc)
    return redirect("console:order_detail", number=number)


@require_POST
@console_view("invoicing.export_invoice")
def invoicing_export(request: HttpRequest) -> HttpResponse:
    """The queue's invoices (with the filters it shows, posted back) and their lines, as XLSX."""
    content = invoices_xlsx(_listed(_filters(request.POST)), language=get_language() or "zh-hans")
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="invoices-{timezone.localtime():%Y%m%d-%H%M}.xlsx"'
    return response
