"""The operation log (日志管理, P3) as the console searches it: by operator, action, object and time.

Read-only; keyset pages on (at, id) descending so the thousandth page costs what the first does."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from oms.audit.models import OperationLog
from oms.core.errors import ValidationFailed

PAGE = 50


@dataclass(frozen=True)
class OperationLogFilters:
    operator: str = ""  # the operator's name as logged (exact; system actors by their name, e.g. "system")
    action: str = ""  # an action code, or a prefix ending in "." (e.g. "order.")
    object_type: str = ""
    object_id: str = ""  # e.g. an order number's id, or the object's text
    day_from: date | None = None
    day_to: date | None = None


@dataclass
class OperationLogPage:
    items: list[OperationLog]
    next_cursor: str | None


def _start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def operation_log_queryset(*, filters: OperationLogFilters) -> QuerySet[OperationLog]:
    f = filters
    qs = OperationLog.objects.all()
    if f.operator:
        qs = qs.filter(actor_name=f.operator)
    if f.action:
        qs = qs.filter(action__startswith=f.action) if f.action.endswith(".") else qs.filter(action=f.action)
    if f.object_type:
        qs = qs.filter(object_type=f.object_type)
    if f.object_id:
        qs = qs.filter(Q(object_id=f.object_id) | Q(object_repr=f.object_id))
    if f.day_from:
        qs = qs.filter(at__gte=_start(f.day_from))
    if f.day_to:
        qs = qs.filter(at__lt=_start(f.day_to) + timedelta(days=1))
    return qs.order_by("-at", "-id")


def _cursor(entry: OperationLog) -> str:
    return base64.urlsafe_b64encode(f"{entry.at.isoformat()}|{entry.pk}".encode()).decode()


def operation_log_page(*, filters: OperationLogFilters, cursor: str = "", limit: int = PAGE) -> OperationLogPage:
    """One query: a page of entries plus one look-ahead row."""
    qs = operation_log_queryset(filters=filters).select_related(None)
    if cursor:
        try:
            at_text, pk_text = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
            at, pk = datetime.fromisoformat(at_text), int(pk_text)
        except (ValueError, UnicodeDecodeError):
            raise ValidationFailed(
                "The page cursor is not valid; start from the first page.", code="bad_cursor"
            ) from None
        qs = qs.filter(Q(at__lt=at) | Q(at=at, id__lt=pk))
    rows = list(qs[: limit + 1])
    items = rows[:limit]
    return OperationLogPage(items=items, next_cursor=_cursor(items[-1]) if len(rows) > limit else None)
