"""Periodic report work (scheduled in CELERY_BEAT_SCHEDULE; run in process by `oms serve` without a broker)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="reports.refresh_rollups")
def refresh_rollups() -> int:
    """Bring the daily rollups up to date with the orders and payments changed since the last run."""
    from oms.reports.services.rollups import rollups_refresh

    result = rollups_refresh()
    return len(result.sales_days) + len(result.cash_days)
