"""Periodic channel-stock work (scheduled in CELERY_BEAT_SCHEDULE; run in process by `oms serve` without a broker)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from oms.core.actors import SYSTEM
from oms.core.context import request_context


@shared_task(name="channels.stock_push", ignore_result=True)
def stock_push(full: bool = False) -> dict[str, Any]:
    """Push changed available-to-sell figures of every online channel through the outbox. Idempotent: a
    second run finds the figures already sent and writes nothing. ``full`` compares every SKU with what the
    platform was last sent instead of reading the change log past the cursor (scheduled hourly, it heals a
    change whose transaction stayed open past the cursor's lag)."""
    from oms.channels.services.push import stock_push_all

    with request_context(channel="task"):
        results = stock_push_all(actor=SYSTEM, full=full)
    return {r.channel: {"skus": r.skus, "events": len(r.event_ids), "skipped": r.skipped} for r in results}


@shared_task(name="channels.reallocate", ignore_result=True)
def reallocate() -> dict[str, int]:
    """Full quota re-allocation of every stocked SKU. Stock documents re-allocate the SKUs they touch in their
    own transaction; this run catches what moves without a document — forecast-weighted shares as sales
    age out of their window, rules edited — and, like every run, writes only the rows that change."""
    from oms.channels.services.allocation import channel_stock_reallocate

    with request_context(channel="task"):
        summary = channel_stock_reallocate()
    return {"skus": summary.skus, "rows_changed": summary.rows_changed, "over_committed": len(summary.over_committed)}
