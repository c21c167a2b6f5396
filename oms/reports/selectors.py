"""Order tracking (订单跟踪, O6): where orders are in the lifecycle and which are stuck.

An order is stuck when it has sat in one status longer than that status's limit (settings
``OMS_STUCK_AFTER_MINUTES`` (status → minutes)). Everything here is a fixed number of aggregate queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from oms.orders.domain.status import STATUS_LABELS, Status
from oms.orders.models import Order

# The lifecycle in order, without the end states: the columns of the tracking board.
PIPELINE: tuple[Status, ...] = (
    Status.NEW,
    Status.PENDING_PAYMENT,
    Status.PENDING_REVIEW,
    Status.PENDING_SPLIT,
    Status.PENDING_DISPATCH,
    Status.PENDING_SHIPMENT,
    Status.PARTIALLY_SHIPPED,
    Status.SHIPPED,
)

DEFAULT_STUCK_AFTER_MINUTES: dict[str, int] = {
    Status.NEW: 10,
    Status.PENDING_PAYMENT: 60,
    Status.PENDING_REVIEW: 120,
    Status.PENDING_SPLIT: 120,
    Status.PENDING_DISPATCH: 60,
    Status.PENDING_SHIPMENT: 24 * 60,
    Status.PARTIALLY_SHIPPED: 24 * 60,
    Status.SHIPPED: 7 * 24 * 60,
}


@dataclass(frozen=True)
class StageFigures:
    status: str
    label: str
    count: int
    stuck: int
    oldest_since: datetime | None
    stuck_after_minutes: int


def stuck_limits() -> dict[str, int]:
    overrides: dict[str, int] = getattr(settings, "OMS_STUCK_AFTER_MINUTES", {})
    return {**DEFAULT_STUCK_AFTER_MINUTES, **overrides}


def _stuck_q(now: datetime, limits: dict[str, int]) -> Q:
    q = Q(pk__in=[])
    for status in PIPELINE:
        q |= Q(status=status.value, updated_at__lt=now - timedelta(minutes=limits[status]))
    return q


def order_pipeline_board(*, now: datetime | None = None, channel_id: int | None = None) -> list[StageFigures]:
    """Count, stuck count and oldest entry time per lifecycle stage: one query."""
    now = now or timezone.now()
    limits = stuck_limits()
    qs = Order.objects.filter(status__in=[s.value for s in PIPELINE])
    if channel_id:
        qs = qs.filter(channel_id=channel_id)
    rows = {
        r["status"]: r
        for r in qs.values("status").annotate(
            n=Count("id"), stuck=Count("id", filter=_stuck_q(now, limits)), oldest=Min("updated_at")
        )
    }
    return [
        StageFigures(
            status=s.value,
            label=STATUS_LABELS[s][0],
            count=rows.get(s.value, {}).get("n", 0),
            stuck=rows.get(s.value, {}).get("stuck", 0),
            oldest_since=rows.get(s.value, {}).get("oldest"),
            stuck_after_minutes=limits[s],
        )
        for s in PIPELINE
    ]


def orders_stuck(*, now: datetime | None = None, limit: int = 20) -> list[Order]:
    """The orders waiting longest past their stage's limit, oldest first: one query."""
    now = now or timezone.now()
    return list(
        Order.objects.filter(_stuck_q(now, stuck_limits()))
        .select_related("channel")
        .only("number", "status", "updated_at", "channel__name", "receiver_name", "payable_minor", "currency")
        .order_by("updated_at", "id")[:limit]
    )
