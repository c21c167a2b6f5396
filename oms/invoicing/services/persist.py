"""Writing planned documents as invoice rows: the invoice, its lines, the shares of order-line money they carry
(live for a blue invoice: the database refuses a second live blue share of the same money), audit and outbox."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.actors import Actor
from oms.core.errors import Conflict
from oms.inventory.models import Subsidiary
from oms.invoicing import actions
from oms.invoicing.domain.rows import Document
from oms.invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceShare
from oms.orders.models import Order
from oms.outbox.services import outbox_publish


def _number(order: Order, kind: str) -> str:
    """``<order number>-B1``, ``-R1`` …: readable, and counted under the order's lock, so never taken twice."""
    letter = "B" if kind == InvoiceKind.BLUE else "R"
    taken = Invoice.objects.filter(order=order, number__startswith=f"{order.number}-{letter}").count()
    return f"{order.number}-{letter}{taken + 1}"


def buyer_columns(order: Order) -> dict[str, str]:
    return {
        "invoice_type": order.invoice_type,
        "buyer_kind": order.invoice_kind,
        "buyer_title": order.invoice_title,
        "buyer_tax_id": order.invoice_tax_id,
        "buyer_email": order.invoice_email,
        "buyer_mobile": order.invoice_mobile,
        "buyer_address": order.invoice_address,
        "buyer_phone": order.invoice_phone,
        "buyer_bank": order.invoice_bank,
        "buyer_account": order.invoice_account,
    }


@transaction.atomic(savepoint=False)
def documents_save(
    *,
    order: Order,
    documents: Sequence[Document],
    kind: str,
    reason: str,
    seller: Subsidiary,
    provider: str,
    actor: Actor,
    against: Sequence[Invoice] = (),
    replaces: Invoice | None = None,
    buyer_from: Invoice | None = None,
) -> list[Invoice]:
    """One invoice per document (a red one against ``against[doc.against]``); the caller holds the order lock.
    A blue document whose money is already held by a live blue invoice is refused (409), nothing written."""
    saved = []
    for doc in documents:
        blue_of = against[doc.against] if kind == InvoiceKind.RED and doc.against is not None else None
        buyer = (
            {k: getattr(buyer_from, k) for k in buyer_columns(order)}
            if buyer_from is not None
            else buyer_columns(order)
        )
        invoice = Invoice.objects.create(
            number=_number(order, kind),
            order=order,
            kind=kind,
            reason=reason,
            against=blue_of,
            replaces=replaces,
            seller=seller,
            seller_name=seller.name,
            seller_tax_id=seller.tax_id,
            currency=order.currency,
            amount_minor=doc.amount_minor,
            excl_minor=doc.excl_minor,
            tax_minor=doc.tax_minor,
            provider=provider,
            **buyer,
        )
        _lines_save(invoice, doc, blue_of)
        audit_record(
            actor=actor,
            action=actions.INVOICE_CREATE,
            obj=invoice,
            after={
                "order": order.number,
                "kind": kind,
                "reason": reason,
                "against": blue_of.number if blue_of else None,
                "amount_minor": invoice.amount_minor,
                "tax_minor": invoice.tax_minor,
            },
        )
        outbox_publish(
            topic="invoice.created",
            aggregate=invoice,
            payload={"number": invoice.number, "order": order.number, "kind": kind, "reason": reason},
        )
        saved.append(invoice)
    return saved


def _lines_save(invoice: Invoice, doc: Document, blue_of: Invoice | None) -> None:
    lines = InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            row_no=n,
            kind=row.kind,
            name=row.item.name,
            tax_code=row.item.tax_code,
            unit=row.item.unit,
            rate=row.item.rate.code,
            quantity=row.quantity,
            amount_minor=row.amount_minor,
            excl_minor=row.excl_minor,
            tax_minor=row.tax_minor,
        )
        for n, row in enumerate(doc.rows, start=1)
    )
    shares = [
        InvoiceShare(
            line=line,
            blue=blue_of or invoice,
            order_line_id=share.key,
            component=share.component,
            part=share.part,
            amount_minor=share.amount_minor,
            quantity=share.quantity,
            live=blue_of is None and row.kind != "discount",
        )
        for line, row in zip(lines, doc.rows, strict=True)
        for share in row.shares
    ]
    try:
        with transaction.atomic():
            InvoiceShare.objects.bulk_create(shares)
    except IntegrityError:
        raise Conflict(
            "This money is already on a blue invoice: never two blue invoices for the same money.",
            code="already_invoiced",
            extra={"field": "order"},
        ) from None


def blue_release_if_empty(blue: Invoice, *, still_held: bool) -> None:
    """A blue invoice reversed to nothing lets go of its money (a new blue may take it)."""
    if not still_held:
        InvoiceShare.objects.filter(blue=blue, live=True).update(live=False)
        blue.updated_at = timezone.now()
        blue.save(update_fields=["updated_at"])
