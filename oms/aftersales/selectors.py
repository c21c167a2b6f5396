"""Reading cases: the queue with its filters and counts, one case with its lines and timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, QuerySet
from django.utils import timezone

from oms.aftersales.domain import states
from oms.aftersales.models import Case
from oms.core.errors import NotFound

# The oldest age a queue filter takes: ten years (a larger one would overflow the date arithmetic).
MAX_AGE_DAYS = 3650


@dataclass(frozen=True)
class CaseFilters:
    kind: str = ""
    status: str = ""
    channel: str = ""
    reason: str = ""
    older_than_days: int | None = None
    order: str = ""


def _filtered(f: CaseFilters) -> QuerySet[Case]:
    qs = Case.objects.select_related("order", "channel")
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.channel:
        qs = qs.filter(channel__code=f.channel)
    if f.reason:
        qs = qs.filter(reason_code=f.reason)
    if f.older_than_days is not None:
        days = min(max(f.older_than_days, 0), MAX_AGE_DAYS)  # the console passes what was typed
        qs = qs.filter(created_at__lte=timezone.now() - timedelta(days=days))
    if f.order:
        qs = qs.filter(order__number=f.order)
    return qs


def case_list(*, filters: CaseFilters, limit: int = 100) -> list[Case]:
    return list(_filtered(filters).order_by("-created_at", "-id")[: max(1, min(limit, 500))])


def case_counts(*, filters: CaseFilters) -> dict[str, int]:
    """Cases per status under the other filters (the queue's tabs)."""
    rows = _filtered(CaseFilters(**{**filters.__dict__, "status": ""})).values("status").annotate(n=Count("id"))
    counts = dict.fromkeys(states.STATUSES, 0)
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


def case_get(*, number: str) -> Case:
    case = Case.objects.select_related("order", "channel", "refund_request", "warehouse").filter(number=number).first()
    if case is None:
        raise NotFound(f"No after-sales case {number}.", code="case_not_found")
    return case
