"""Periodic fulfilment work (scheduled in CELERY_BEAT_SCHEDULE; eager in process without a broker)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from oms.core.actors import SYSTEM
from oms.core.context import request_context


@shared_task(name="fulfillment.pipeline")
def pipeline() -> dict[str, Any]:
    """Review after the buffer, allocate, assign couriers and dispatch whatever is due. Idempotent: every
    step re-checks each order under its row lock."""
    from oms.fulfillment.services.pipeline import pipeline_run

    with request_context(channel="task"):
        summary = pipeline_run(actor=SYSTEM)
    return {k: v for k, v in vars(summary).items() if k != "order_ids"}


@shared_task(name="fulfillment.stockouts")
def stockouts(sku_ids: list[int] | None = None) -> dict[str, Any]:
    """Re-reserve open stockouts against newly arrived stock, oldest first."""
    from oms.fulfillment.services.stockouts import stockouts_resolve

    with request_context(channel="task"):
        summary = stockouts_resolve(sku_ids=sku_ids, actor=SYSTEM)
    return {"resolved": summary.resolved, "reduced": summary.reduced, "cancelled": summary.cancelled}
