"""Invoice providers (开票服务商): the adapter interface and the ones that ship.

A provider gets a request (`submit`, inside the submitting transaction: it schedules, never blocks on the
network) and answers later by a callback signed with its secret (`oms.invoicing.services.callback`): the
invoice number, date and download link, or a failure. Two ship:

- ``local``: for the demo and tests; numbers invoices deterministically and renders the PDF itself
  (`oms.invoicing.providers.local`), answering through the same signed callback.
- ``http:<name>``: any real provider behind a gateway: the request is an outbox event (topic
  ``invoice.issue.<name>``) delivered by the outbox to the webhook endpoint subscribed to it, signed, retried
  with backoff and dead-lettered visibly; the gateway calls back ``POST /api/v1/invoicing/callbacks/<name>``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from typing import Any, Protocol

from django.conf import settings

from oms.core.errors import ValidationFailed
from oms.invoicing.models import Invoice


class InvoiceProvider(Protocol):
    @property
    def code(self) -> str: ...

    def submit(self, *, invoice: Invoice, payload: dict[str, Any]) -> None: ...


def provider_secret(code: str) -> str:
    """The provider's callback secret: settings ``OMS["INVOICE_PROVIDER_SECRETS"][code]``, else the environment
    ``OMS_INVOICE_SECRET_<CODE>``; the local provider's defaults to one derived from SECRET_KEY."""
    configured: Any = settings.OMS.get("INVOICE_PROVIDER_SECRETS") or {}
    value = configured.get(code) if isinstance(configured, dict) else ""
    value = value or os.environ.get(f"OMS_INVOICE_SECRET_{re.sub(r'[^A-Z0-9]', '_', code.upper())}", "")
    if not value and code == "local":
        value = hmac.new(settings.SECRET_KEY.encode(), b"oms.invoicing.local", hashlib.sha256).hexdigest()
    return str(value)


def provider_get(code: str) -> InvoiceProvider:
    from oms.invoicing.providers.local import LocalProvider
    from oms.invoicing.providers.outbox import OutboxProvider

    if code == "local":
        return LocalProvider()
    if code.startswith("http:") and len(code) > 5:
        return OutboxProvider(code)
    raise ValidationFailed(f"Unknown invoice provider {code!r}.", code="unknown_provider", extra={"field": "provider"})
