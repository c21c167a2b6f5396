"""A provider reached over HTTP through the outbox: retries, backoff and dead letters are the outbox's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oms.core.errors import Conflict
from oms.invoicing.models import Invoice
from oms.outbox.domain.envelope import topic_matches
from oms.outbox.models import WebhookEndpoint
from oms.outbox.services import outbox_publish


@dataclass(frozen=True)
class OutboxProvider:
    code: str  # "http:<name>"

    @property
    def topic(self) -> str:
        return f"invoice.issue.{self.code.removeprefix('http:')}"

    def submit(self, *, invoice: Invoice, payload: dict[str, Any]) -> None:
        subscribed = any(
            topic_matches(str(pattern), self.topic)
            for endpoint in WebhookEndpoint.objects.filter(is_active=True)
            for pattern in endpoint.topics or []
        )
        if not subscribed:
            raise Conflict(
                f"No active webhook endpoint is subscribed to {self.topic}: the provider cannot be reached.",
                code="provider_not_configured",
                extra={"field": "provider"},
            )
        outbox_publish(topic=self.topic, aggregate=invoice, payload=payload)
