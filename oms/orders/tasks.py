"""Periodic order work (scheduled in CELERY_BEAT_SCHEDULE; run in process by `oms serve` without a broker)."""

from __future__ import annotations

from celery import shared_task

from oms.core.context import request_context


@shared_task(name="orders.cancel_unpaid")
def cancel_unpaid() -> int:
    """Cancel orders left unpaid past OMS["UNPAID_TIMEOUT_MINUTES"]; each re-checked under its row lock, so
    a payment landing at the same moment wins."""
    from oms.orders.services.cancel import orders_cancel_unpaid

    with request_context(channel="task"):
        return len(orders_cancel_unpaid())


@shared_task(name="orders.import_job_run", acks_late=True)
def import_job_run(job_id: int) -> str:
    """Import a stored order file (oms.orders.services.import_jobs)."""
    from oms.orders.services.import_jobs import import_job_run as run

    with request_context(channel="task"):
        job = run(job_id=job_id)
    return job.state if job is not None else "not claimed"
