"""Periodic inventory work (scheduled in CELERY_BEAT_SCHEDULE; run in process by `oms serve` without a broker)."""

from __future__ import annotations

from celery import shared_task

from oms.core.context import request_context


@shared_task(name="inventory.sweep_reservation_requests", ignore_result=True)
def sweep_reservation_requests() -> int:
    """Delete hot-SKU reservation requests nobody came back for (a caller that died while queued)."""
    from oms.inventory.services.hot_reserve import reservation_requests_sweep

    with request_context(channel="task"):
        return reservation_requests_sweep()
