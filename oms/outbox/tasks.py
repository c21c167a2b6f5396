"""Celery tasks of the outbox. Idempotent: running one twice, or in two workers, delivers nothing twice
that a single run would not (rows are claimed under a lease)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from oms.core.context import request_context
from oms.outbox.relay import outbox_relay, outbox_relay_until_idle


@shared_task(name="outbox.relay", ignore_result=True)
def relay(event_ids: list[str] | None = None) -> dict[str, Any]:
    """Deliver due messages: those of ``event_ids`` right after their commit, or every due one
    (the periodic run, which also picks up retries and rows whose relay died)."""
    with request_context(channel="task"):
        result = outbox_relay(event_ids=event_ids) if event_ids else outbox_relay_until_idle()
    return {
        "claimed": result.claimed,
        "delivered": len(result.delivered),
        "retrying": len(result.retrying),
        "dead": len(result.dead),
    }
