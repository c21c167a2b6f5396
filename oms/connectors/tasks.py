"""Scheduled pulls: every enabled shop whose interval has passed (beat entry "connectors-pull-due")."""

from __future__ import annotations

from celery import shared_task

from oms.connectors.services.pull import shops_pull_due


@shared_task(name="connectors.pull_due")
def pull_due() -> list[int]:
    return shops_pull_due()
