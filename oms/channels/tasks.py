"""Periodic channel-stock work (scheduled in CELERY_BEAT_SCHEDULE; run in process by `oms serve` without a broker)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from oms.core.context import request_context


@shared_task(name="channels.stock_push", ignore_result=True)
def stock_push() -> dict[str, Any]:
    """Push changed available-to-sell figures of every online channel through the outbox. Idempotent: a
    second run finds the figures already sent and writes nothing."""
    from oms.channels.services.push import stock_push_all

    with request_context(channel="task"):
        results = stock_push_all(actor="system")
    return {r.channel: {"skus": r.skus, "events": len(r.event_ids), "skipped": r.skipped} for r in results}
