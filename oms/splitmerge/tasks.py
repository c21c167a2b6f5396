"""Periodic automatic merge, before the review buffer runs out (see CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from oms.core.actors import AUTO_MERGE, AUTO_SPLIT
from oms.core.context import request_context
from oms.splitmerge.services.auto import orders_auto_merge, orders_auto_split_pending


@shared_task(name="splitmerge.auto_merge")
def auto_merge() -> int:
    with request_context(channel="task"):
        return len(orders_auto_merge(actor=AUTO_MERGE, max_orders=settings.OMS_AUTO_MERGE_MAX_ORDERS))


@shared_task(name="splitmerge.auto_split")
def auto_split() -> int:
    """Split orders allocation proposed to split (pending_split) by their warehouse plan."""
    if not settings.OMS_AUTO_SPLIT_BY_WAREHOUSE:
        return 0
    with request_context(channel="task"):
        return len(orders_auto_split_pending(actor=AUTO_SPLIT))
