"""The operations report (运营报表): orders per lifecycle stage by how long they have sat there, interceptions
(review holds) by reason with their median release time, split and merge counts, and the time from payment
to dispatch and to shipment (p50/p90) for the orders paid in a period.

A fixed number of aggregate queries. The percentiles are computed by the database on PostgreSQL
(``percentile_cont``, the same linear interpolation as :func:`percentile` here); on other databases (SQLite,
for development) the durations of the period are read and the same function is applied.

What counts: stages are the living orders' current status, aged by their last change (``updated_at``, as the
tracking board does). Timings count living sale orders paid in the period (a split or merged order is counted
as what replaced it), from ``paid_at`` to their first dispatch document sent and to their first shipment
shipped. Interceptions count holds raised in the period. Split and merge count the operations of the period
and the orders they made (read from the operation log).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from oms.audit.models import OperationLog
from oms.fulfillment.models import Shipment
from oms.orders.domain.status import STATUS_LABELS
from oms.orders.models import Order
from oms.orders.selectors import retired_expression
from oms.reports.domain.filters import ReportFilters
from oms.reports.forms import ReportFilterForm
from oms.reports.selectors import PIPELINE
from oms.review.models import Interception, InterceptionState

# How long an order has sat in its stage: (key, from, to or None).
STAGE_AGES: tuple[tuple[str, timedelta, timedelta | None], ...] = (
    ("lt1h", timedelta(0), timedelta(hours=1)),
    ("1to4h", timedelta(hours=1), timedelta(hours=4)),
    ("4to24h", timedelta(hours=4), timedelta(hours=24)),
    ("1to3d", timedelta(days=1), timedelta(days=3)),
    ("ge3d", timedelta(days=3), None),
)
# The operation-log actions of split/merge (strings stored in the log; reports cannot import splitmerge,
# which sits in the same layer).
SPLIT_MERGE_ACTIONS = {"split": "order.split", "merge": "order.merge", "unmerge": "order.unmerge"}


class OperationsFilterForm(ReportFilterForm):
    """The period and the channel (nothing else means anything here)."""

    KNOWN = {"from", "to", "channel"}


def operations_filters_parse(params: Any) -> ReportFilters:
    return OperationsFilterForm(params).filters()


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (PostgreSQL's ``percentile_cont``)."""
    xs = sorted(values)
    if not xs:
        return None
    pos = fraction * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


class _PercentileSeconds(Aggregate):
    """percentile_cont over an interval, in seconds (PostgreSQL only)."""

    function = None
    name = "PercentileSeconds"
    template = "percentile_cont(%(fraction)s) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float) -> None:
        super().__init__(expression, fraction=float(fraction))


def _duration(end: str, start: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class StageRow:
    status: str
    label: str
    count: int
    ages: list[int]  # one count per STAGE_AGES bucket


@dataclass(frozen=True)
class InterceptionRow:
    reason_code: str
    reason: str  # the latest reason text of the code (what the rule said)
    raised: int
    open: int
    released: int
    void: int
    median_release_s: float | None


@dataclass(frozen=True)
class Timing:
    key: str  # "dispatch" or "shipment"
    orders: int  # orders that reached it
    p50_s: float | None
    p90_s: float | None


@dataclass
class OperationsReport:
    filters: ReportFilters
    now: datetime
    stages: list[StageRow]
    interceptions: list[InterceptionRow]
    split_merge: dict[str, dict[str, int]]  # kind → {"operations", "orders"}
    paid_orders: int
    timings: list[Timing]


def _period(f: ReportFilters) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(f.day_from, time.min))
    end = timezone.make_aware(datetime.combine(f.day_to, time.min)) + timedelta(days=1)
    return start, end


def _stages(f: ReportFilters, now: datetime) -> list[StageRow]:
    qs = Order.objects.filter(status__in=[s.value for s in PIPELINE])
    if f.channel_id:
        qs = qs.filter(channel_id=f.channel_id)
    buckets: dict[str, Any] = {}
    for key, low, high in STAGE_AGES:
        window = Q(updated_at__lte=now - low)
        if high is not None:
            window &= Q(updated_at__gt=now - high)
        buckets[f"a_{key}"] = Count("id", filter=window)
    rows = {r["status"]: r for r in qs.values("status").annotate(n=Count("id"), **buckets).order_by()}
    return [
        StageRow(
            status=s.value,
            label=STATUS_LABELS[s][0],
            count=rows.get(s.value, {}).get("n", 0),
            ages=[rows.get(s.value, {}).get(f"a_{key}", 0) for key, _low, _high in STAGE_AGES],
        )
        for s in PIPELINE
    ]


def _interceptions(f: ReportFilters) -> list[InterceptionRow]:
    start, end = _period(f)
    qs = Interception.objects.filter(created_at__gte=start, created_at__lt=end)
    if f.channel_id:
        qs = qs.filter(order__channel_id=f.channel_id)
    counts = list(
        qs.values("reason_code")
        .annotate(
            raised=Count("id"),
            open_=Count("id", filter=Q(state=InterceptionState.OPEN)),
            released=Count("id", filter=Q(state=InterceptionState.RELEASED)),
            void=Count("id", filter=Q(state=InterceptionState.VOID)),
            reason_=Max("reason"),
        )
        .order_by("-raised", "reason_code")
    )
    released = qs.filter(state=InterceptionState.RELEASED, resolved_at__isnull=False)
    if _on_postgres():
        medians = {
            r["reason_code"]: r["p50"]
            for r in released.values("reason_code")
            .annotate(p50=_PercentileSeconds(_duration("resolved_at", "created_at"), 0.5))
            .order_by()
        }
    else:
        waits: dict[str, list[float]] = {}
        for code, created, resolved in released.values_list("reason_code", "created_at", "resolved_at"):
            if resolved is not None:
                waits.setdefault(code, []).append((resolved - created).total_seconds())
        medians = {code: percentile(v, 0.5) for code, v in waits.items()}
    return [
        InterceptionRow(
            reason_code=r["reason_code"],
            reason=r["reason_"] or "",
            raised=r["raised"],
            open=r["open_"],
            released=r["released"],
            void=r["void"],
            median_release_s=medians.get(r["reason_code"]),
        )
        for r in counts
    ]


def _split_merge(f: ReportFilters) -> dict[str, dict[str, int]]:
    start, end = _period(f)
    qs = OperationLog.objects.filter(at__gte=start, at__lt=end, action__in=list(SPLIT_MERGE_ACTIONS.values()))
    rows = {
        r["action"]: r
        for r in qs.values("action")
        .annotate(orders=Count("id"), operations=Count(KeyTextTransform("from", "after"), distinct=True))
        .order_by()
    }
    return {
        kind: {"operations": rows.get(action, {}).get("operations", 0), "orders": rows.get(action, {}).get("orders", 0)}
        for kind, action in SPLIT_MERGE_ACTIONS.items()
    }


def paid_orders(f: ReportFilters) -> QuerySet[Order]:
    """The living sale orders paid in the period (the timings' population)."""
    start, end = _period(f)
    qs = Order.objects.filter(paid_at__gte=start, paid_at__lt=end, order_type="sale")
    if f.channel_id:
        qs = qs.filter(channel_id=f.channel_id)
    return qs.annotate(is_retired=retired_expression()).filter(is_retired=False)


def _timings(f: ReportFilters) -> tuple[int, list[Timing]]:
    sent = Shipment.objects.filter(order_id=OuterRef("pk")).order_by("created_at").values("created_at")[:1]
    shipped = (
        Shipment.objects.filter(order_id=OuterRef("pk"), shipped_at__isnull=False)
        .order_by("shipped_at")
        .values("shipped_at")[:1]
    )
    qs = paid_orders(f).annotate(sent_=Subquery(sent), shipped_=Subquery(shipped))
    sums: dict[str, Any] = {"paid": Count("id"), "n_dispatch": Count("sent_"), "n_shipment": Count("shipped_")}
    if _on_postgres():
        for key, field in (("dispatch", "sent_"), ("shipment", "shipped_")):
            sums[f"p50_{key}"] = _PercentileSeconds(_duration(field, "paid_at"), 0.5)
            sums[f"p90_{key}"] = _PercentileSeconds(_duration(field, "paid_at"), 0.9)
        agg = qs.aggregate(**sums)
    else:
        agg = qs.aggregate(**sums)
        waits: dict[str, list[float]] = {"dispatch": [], "shipment": []}
        for paid, sent_at, shipped_at in qs.values_list("paid_at", "sent_", "shipped_"):
            if sent_at:
                waits["dispatch"].append((sent_at - paid).total_seconds())
            if shipped_at:
                waits["shipment"].append((shipped_at - paid).total_seconds())
        for key, values in waits.items():
            agg[f"p50_{key}"], agg[f"p90_{key}"] = percentile(values, 0.5), percentile(values, 0.9)
    return agg["paid"], [
        Timing(key=key, orders=agg[f"n_{key}"], p50_s=agg[f"p50_{key}"], p90_s=agg[f"p90_{key}"])
        for key in ("dispatch", "shipment")
    ]


def operations_report(*, filters: ReportFilters, now: datetime | None = None) -> OperationsReport:
    now = now or timezone.now()
    paid, timings = _timings(filters)
    return OperationsReport(
        filters=filters,
        now=now,
        stages=_stages(filters, now),
        interceptions=_interceptions(filters),
        split_merge=_split_merge(filters),
        paid_orders=paid,
        timings=timings,
    )
