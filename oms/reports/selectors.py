"""Order tracking (订单跟踪, O6): where orders are in the lifecycle and which are stuck; cash figures.

An order is stuck when it has sat in one status longer than that status's limit (settings
``OMS_STUCK_AFTER_MINUTES`` (status → minutes)). Everything here is a fixed number of aggregate queries.

Cash figures count money that moved: payment records of a real method. Rows of the ``carried`` method (an
order made by a split or merge carrying its share of what its originals received) are bookkeeping that
keeps each order's own paid status right; counting them would count the same money again. Summing
orders' ``received_minor`` across orders double-counts for the same reason: never do it for cash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone

from oms.core.domain.money import format_minor
from oms.orders.domain.payments import CARRIED_METHOD
from oms.orders.domain.status import STATUS_LABELS, Status
from oms.orders.models import Order, Payment, PaymentKind

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


@dataclass(frozen=True)
class CashFigures:
    currency: str
    received_minor: int
    refunded_minor: int
    payments: int
    refunds: int
    # What is still owed back of the payments paid in the period: flagged, less the refunds that settled it.
    refund_due_minor: int = 0
    # Refunds reported beyond what their orders held (an anomaly for finance): not in ``refunded_minor``.
    refund_excess_minor: int = 0
    refund_excesses: int = 0

    @property
    def net_minor(self) -> int:
        return self.received_minor - self.refunded_minor

    def shown(self) -> dict[str, str | int]:
        """The figures as the API and the console show them (amounts as decimal strings)."""
        return {
            "currency": self.currency,
            "received": format_minor(self.received_minor, self.currency),
            "refunded": format_minor(self.refunded_minor, self.currency),
            "net": format_minor(self.net_minor, self.currency),
            "payments": self.payments,
            "refunds": self.refunds,
            "refund_due": format_minor(self.refund_due_minor, self.currency),
            "refund_excess": format_minor(self.refund_excess_minor, self.currency),
            "refund_excesses": self.refund_excesses,
        }


def cash_totals(
    *, day_from: date | None = None, day_to: date | None = None, channel_id: int | None = None
) -> list[CashFigures]:
    """Money received and refunded per currency, by the day it was paid (local days, both ends included):
    real payment records only, never the carried bookkeeping of split/merge. One query. Refunded money is
    what the orders held; a refund's part beyond that is counted apart as an anomaly (``refund_excess``).

    ``refund_due_minor`` is what is still owed back on the payments of the period. It counts carried rows
    too: a split child or merge result that is cancelled owes back its carried share (the retired original's
    real row is never flagged for that same money), and refunds settle it there."""
    qs = Payment.objects.all()
    real = ~Q(method=CARRIED_METHOD)
    if day_from:
        qs = qs.filter(paid_at__gte=timezone.make_aware(datetime.combine(day_from, time.min)))
    if day_to:
        qs = qs.filter(paid_at__lt=timezone.make_aware(datetime.combine(day_to, time.min)) + timedelta(days=1))
    if channel_id:
        qs = qs.filter(order__channel_id=channel_id)
    rows = (
        qs.values("currency")
        .annotate(
            received=Sum("amount_minor", filter=real & Q(kind=PaymentKind.PAYMENT)),
            refunded=Sum(F("amount_minor") - F("excess_minor"), filter=real & Q(kind=PaymentKind.REFUND)),
            excess=Sum("excess_minor", filter=real & Q(kind=PaymentKind.REFUND)),
            excesses=Count("id", filter=real & Q(kind=PaymentKind.REFUND, excess_minor__gt=0)),
            payments=Count("id", filter=real & Q(kind=PaymentKind.PAYMENT)),
            refunds=Count("id", filter=real & Q(kind=PaymentKind.REFUND)),
            refund_due=Sum("refund_due_minor", filter=Q(kind=PaymentKind.PAYMENT)),
            real_rows=Count("id", filter=real),
        )
        .order_by("currency")
    )
    return [
        CashFigures(
            currency=r["currency"],
            received_minor=r["received"] or 0,
            refunded_minor=r["refunded"] or 0,
            payments=r["payments"],
            refunds=r["refunds"],
            refund_due_minor=r["refund_due"] or 0,
            refund_excess_minor=r["excess"] or 0,
            refund_excesses=r["excesses"],
        )
        for r in rows
        if r["real_rows"] or r["refund_due"]
    ]
