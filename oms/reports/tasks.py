"""Periodic report work (scheduled in CELERY_BEAT_SCHEDULE; run in process by `oms serve` without a broker)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="reports.refresh_rollups")
def refresh_rollups() -> int:
    """Bring the daily rollups up to date with the orders and payments changed since the last run."""
    from oms.reports.services.rollups import rollups_refresh

    result = rollups_refresh()
    return len(result.sales_days) + len(result.cash_days)


@shared_task(name="reports.export_run", acks_late=True)
def export_run_task(job_id: int) -> str:
    """Write one export's file (a job runs once: it is claimed with a conditional update)."""
    from oms.reports.services.exports import export_run

    job = export_run(job_id)
    return job.state if job else "not_queued"


@shared_task(name="reports.ship_by_alerts")
def ship_by_alerts() -> int:
    """Announce orders newly at risk of missing, or past, their ship-by deadline (once per order and kind)."""
    from oms.reports.services.shipby import ship_by_alerts_send

    sent = ship_by_alerts_send()
    return sent.at_risk + sent.overdue
