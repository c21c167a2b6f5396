"""Periodic automatic merge, before the review buffer runs out (see CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from oms.core.context import request_context
from oms.splitmerge.services.auto import orders_auto_merge


@shared_task(name="splitmerge.auto_merge")
def auto_merge() -> int:
    with request_context(channel="task"):
        return len(orders_auto_merge(actor="auto-merge", max_orders=settings.OMS_AUTO_MERGE_MAX_ORDERS))
