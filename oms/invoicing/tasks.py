"""Periodic issuing by the shops' policies (on shipment, on signing); see CELERY_BEAT_SCHEDULE."""

from __future__ import annotations

from celery import shared_task

from oms.core.actors import SystemActor
from oms.core.context import request_context
from oms.invoicing.services.issue import invoices_issue_due

INVOICING = SystemActor("invoicing")


@shared_task(name="invoicing.issue_due")
def issue_due() -> int:
    with request_context(channel="task"):
        return sum(1 for result in invoices_issue_due(actor=INVOICING).values() if result == "issued")
