"""The provider's answer: a signed callback with the invoice number, date and download link, or a failure.

Checked before anything changes: the provider must have a secret, the signature must match the body within five
minutes, the body must name a request of that provider. A replay of an answer already taken changes nothing; a
second, different number for the same request is refused. When a blue invoice is issued, the red ones waiting
for it are sent; when a red one is issued and its blue holds nothing any more, the blue is reversed (已红冲).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.actors import SystemActor
from oms.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from oms.invoicing import actions
from oms.invoicing.domain.reverse import groups_of
from oms.invoicing.models import Invoice, InvoiceKind, InvoiceShare, InvoiceState
from oms.invoicing.providers import provider_secret
from oms.invoicing.selectors import blue_with_reds_rows
from oms.outbox.domain.signing import SignatureInvalid, verify_signature
from oms.outbox.services import outbox_publish

TOLERANCE_S = 300


def provider_actor(code: str) -> SystemActor:
    return SystemActor(f"invoice-provider:{code}")


def _read(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise ValidationFailed("The callback body is not JSON.", code="bad_body", extra={"field": "body"}) from None
    if not isinstance(data, dict):
        raise ValidationFailed("The callback body is a JSON object.", code="bad_body", extra={"field": "body"})
    errors = []
    if data.get("status") not in ("issued", "failed"):
        errors.append(FieldError("status", "issued or failed.", "choice"))
    if data.get("status") == "issued":
        if not str(data.get("invoice_number") or "").strip():
            errors.append(FieldError("invoice_number", "The issued invoice's number is required.", "required"))
        try:
            date.fromisoformat(str(data.get("issued_on")))
        except ValueError:
            errors.append(FieldError("issued_on", "A date such as 2026-01-15.", "bad_date"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    return data


def invoice_callback_receive(*, provider: str, headers: Mapping[str, str], body: bytes) -> Invoice:
    secret = provider_secret(provider)
    if not secret:
        raise SignatureInvalid(f"No secret is configured for provider {provider!r}.", code="provider_unknown")
    verify_signature(secret, headers, body, TOLERANCE_S, now=time.time())
    data = _read(body)
    return _apply(provider=provider, data=data)


@transaction.atomic(durable=True)
def _apply(*, provider: str, data: dict[str, Any]) -> Invoice:
    request_id = str(data.get("request_id") or "")
    invoice = (
        Invoice.objects.select_for_update().filter(request_id=request_id, provider=provider).first()
        if _is_uuid(request_id)
        else None
    )
    if invoice is None:
        raise NotFound(f"No invoice request {request_id!r} for provider {provider}.", code="unknown_request",
                       extra={"field": "request_id"})  # fmt: skip
    actor = provider_actor(provider)
    if data["status"] == "failed":
        if invoice.state == InvoiceState.ISSUED:
            return invoice  # a late failure after the success: the success stands
        return _failed(invoice, str(data.get("error_code") or "provider_failed"), str(data.get("error") or ""), actor)
    number = str(data["invoice_number"]).strip()[:32]
    if invoice.state in (InvoiceState.ISSUED, InvoiceState.REVERSED):
        if invoice.provider_number == number:
            return invoice  # a replay: nothing changes
        raise Conflict(
            f"Invoice {invoice.number} was already issued as {invoice.provider_number}.",
            code="already_issued",
            extra={"field": "invoice_number"},
        )
    before = {"state": invoice.state}
    invoice.state = InvoiceState.ISSUED
    invoice.provider_number = number
    invoice.issued_on = date.fromisoformat(str(data["issued_on"]))
    invoice.download_url = str(data.get("download_url") or "")[:500]
    invoice.error_code = invoice.last_error = ""
    invoice.updated_at = timezone.now()
    invoice.save()
    audit_record(actor=actor, action=actions.INVOICE_ISSUED, obj=invoice, before=before,
                 after={"state": invoice.state, "provider_number": number})  # fmt: skip
    outbox_publish(topic="invoice.issued", aggregate=invoice,
                   payload={"number": invoice.number, "invoice_number": number, "order": invoice.order.number,
                            "kind": invoice.kind, "amount_minor": invoice.amount_minor})  # fmt: skip
    if invoice.kind == InvoiceKind.RED and invoice.against is not None:
        _blue_reversed_if_empty(invoice.against, actor)
    else:
        _send_waiting_reds(invoice, actor)
    return invoice


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _blue_reversed_if_empty(blue: Invoice, actor: SystemActor) -> None:
    locked = Invoice.objects.select_for_update().get(pk=blue.pk)
    if locked.state != InvoiceState.ISSUED or InvoiceShare.objects.filter(blue=locked, live=True).exists():
        return
    groups = groups_of(blue_with_reds_rows(locked))
    reds_open = Invoice.objects.filter(against=locked).exclude(state=InvoiceState.ISSUED).exists()
    if reds_open or any(g.amount_minor or g.quantity for g in groups):
        return
    locked.state = InvoiceState.REVERSED
    locked.updated_at = timezone.now()
    locked.save(update_fields=["state", "updated_at"])
    audit_record(actor=actor, action=actions.INVOICE_REVERSE, obj=locked, before={"state": InvoiceState.ISSUED},
                 after={"state": InvoiceState.REVERSED})  # fmt: skip
    outbox_publish(topic="invoice.reversed", aggregate=locked, payload={"number": locked.number})


def _send_waiting_reds(blue: Invoice, actor: SystemActor) -> None:
    from oms.invoicing.services.issue import invoice_submit_locked

    for red in Invoice.objects.filter(against=blue, state=InvoiceState.PENDING).order_by("pk"):
        invoice_submit_locked(invoice=red, actor=actor)


def _failed(invoice: Invoice, code: str, message: str, actor: SystemActor) -> Invoice:
    before = {"state": invoice.state}
    invoice.state = InvoiceState.FAILED
    invoice.error_code, invoice.last_error = code[:64], message[:500]
    invoice.updated_at = timezone.now()
    invoice.save(update_fields=["state", "error_code", "last_error", "updated_at"])
    audit_record(actor=actor, action=actions.INVOICE_FAILED, obj=invoice, before=before,
                 after={"state": invoice.state, "error_code": invoice.error_code})  # fmt: skip
    outbox_publish(topic="invoice.failed", aggregate=invoice,
                   payload={"number": invoice.number, "error_code": invoice.error_code})  # fmt: skip
    return invoice


@transaction.atomic
def invoice_failure_record(*, request_id: str, code: str, message: str) -> None:
    """A provider that could not even answer (the local one raising): the invoice shows it failed."""
    invoice = Invoice.objects.select_for_update().filter(request_id=request_id).first()
    if invoice is not None and invoice.state == InvoiceState.ISSUING:
        _failed(invoice, code, message, provider_actor(invoice.provider))
