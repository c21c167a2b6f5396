"""The local provider: numbers invoices deterministically, renders the PDF, and answers by the same signed
callback a real provider would send (after the submitting transaction commits)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.invoicing.models import Invoice, InvoicePdf, InvoiceState
from oms.outbox.domain.signing import signature_headers

logger = logging.getLogger("oms.invoicing")

CODE = "local"


def local_number(invoice: Invoice) -> str:
    """A 20-digit number like a fully digitalised e-invoice's (全电发票号码): the year, then the request's id."""
    return f"{invoice.created_at:%y}{invoice.pk:018d}"


@dataclass(frozen=True)
class LocalProvider:
    code: str = CODE

    def submit(self, *, invoice: Invoice, payload: dict[str, Any]) -> None:
        request_id = str(invoice.request_id)
        transaction.on_commit(lambda: local_issue(request_id))


def local_issue(request_id: str) -> None:
    """Issue one request: the PDF stored, then the signed callback. A failure here leaves the invoice issuing;
    it is recorded as failed (visible, and retried from the queue)."""
    from oms.invoicing.providers import provider_secret
    from oms.invoicing.services.callback import invoice_callback_receive, invoice_failure_record

    invoice = Invoice.objects.select_related("against").filter(request_id=request_id).first()
    if invoice is None or invoice.state != InvoiceState.ISSUING:
        return
    try:
        number = local_number(invoice)
        issued_on = timezone.localdate()
        _pdf_store(invoice, number, issued_on.isoformat())
        body = json.dumps(
            {
                "request_id": request_id,
                "status": "issued",
                "invoice_number": number,
                "issued_on": issued_on.isoformat(),
                "download_url": f"/api/v1/invoicing/invoices/{invoice.number}/pdf",
            }
        ).encode()
        headers = signature_headers(
            secret=provider_secret(CODE), event_id=request_id, timestamp=int(time.time()), body=body
        )
        invoice_callback_receive(provider=CODE, headers=headers, body=body)
    except Exception as exc:  # the provider's own failure: shown on the invoice, never lost
        logger.exception("Local invoice provider failed for %s", request_id)
        invoice_failure_record(request_id=request_id, code="provider_error", message=f"{type(exc).__name__}: {exc}")


@transaction.atomic
def _pdf_store(invoice: Invoice, number: str, issued_on: str) -> None:
    from oms.invoicing.pdf import invoice_pdf

    content = invoice_pdf(invoice, number=number, issued_on=issued_on)
    InvoicePdf.objects.update_or_create(
        invoice=invoice, defaults={"content": content, "sha256": hashlib.sha256(content).hexdigest()}
    )
