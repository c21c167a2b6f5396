"""The daily rollups (日报汇总): the one writer of ``SalesDay``, ``SkuSalesDay`` and ``CashDay``.

``rollups_refresh`` is incremental: it reads which orders changed since its cursor (every order write sets
``updated_at``; payments and refund settlements carry their own times), turns them into the local days whose
figures moved — an order's placing day for sales, its payments' paying days for cash — and recomputes only
those days (delete and insert, in one transaction). The cursor re-reads a short lag (``ROLLUP_LAG_S``) behind
itself, so a transaction that committed late with an earlier ``updated_at`` is still seen; recomputing a day
twice gives the same rows. ``rollups_rebuild`` recomputes everything (first run, repairs, the benchmark).

A report never scans orders or lines: it sums these rows (``oms.reports.selectors``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderLine, OrderType, Payment, RefundSettlement
from oms.orders.selectors import retired_expression
from oms.reports.models import CashDay, RollupCursor, SalesDay, SkuSalesDay

CURSOR = "daily"
DEFAULT_LAG_S = 300
BATCH = 2_000


@dataclass(frozen=True)
class RefreshResult:
    sales_days: list[date]
    cash_days: list[date]
    rebuilt: bool = False


def lag() -> timedelta:
    configured: dict[str, Any] = getattr(settings, "OMS_REPORTS", {})
    return timedelta(seconds=float(configured.get("ROLLUP_LAG_S", DEFAULT_LAG_S)))


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _in_days(field: str, days: Iterable[date] | None) -> Q:
    """``field`` within the given local days (None: any time)."""
    if days is None:
        return Q()
    q = Q(pk__in=[])
    for day in sorted(set(days)):
        q |= Q(**{f"{field}__gte": day_start(day), f"{field}__lt": day_start(day + timedelta(days=1))})
    return q


# ---- what counts as sales: living sale orders (not replaced by a split or merge), never invalid ones


def sales_orders(days: Iterable[date] | None = None) -> QuerySet[Order]:
    return (
        Order.objects.filter(_in_days("placed_at", days), order_type=OrderType.SALE)
        .exclude(status=Status.INVALID.value)
        .annotate(is_retired=retired_expression())
        .filter(is_retired=False)
    )


def _cancelled(prefix: str = "") -> ExpressionWrapper:
    return ExpressionWrapper(Q(**{f"{prefix}status": Status.CANCELLED.value}), output_field=BooleanField())


def _sales_rows(days: Iterable[date] | None) -> list[SalesDay]:
    orders = sales_orders(days)
    keyed: dict[tuple[Any, ...], SalesDay] = {}
    for r in (
        orders.annotate(day=TruncDate("placed_at"), is_cancelled=_cancelled())
        .values("day", "channel_id", "receiver_province", "currency", "is_cancelled")
        .annotate(
            n=Count("id"),
            goods=Sum("goods_minor"),
            line_discount=Sum("line_discount_minor"),
            order_discount=Sum("order_discount_minor"),
            shipping=Sum("shipping_minor"),
            payable=Sum("payable_minor"),
            received=Sum("received_minor"),
            refunded=Sum("refunded_minor"),
        )
        .order_by()
    ):
        key = (r["day"], r["channel_id"], r["receiver_province"], r["currency"], r["is_cancelled"])
        keyed[key] = SalesDay(
            day=r["day"],
            channel_id=r["channel_id"],
            province=r["receiver_province"],
            currency=r["currency"],
            cancelled=r["is_cancelled"],
            orders=r["n"],
            units=0,
            goods_minor=r["goods"],
            line_discount_minor=r["line_discount"],
            order_discount_minor=r["order_discount"],
            shipping_minor=r["shipping"],
            payable_minor=r["payable"],
            received_minor=r["received"],
            refunded_minor=r["refunded"],
        )
    for r in (
        OrderLine.objects.filter(order__in=sales_orders(days).values("pk"))
        .annotate(day=TruncDate("order__placed_at"), is_cancelled=_cancelled("order__"))
        .values("day", "order__channel_id", "order__receiver_province", "order__currency", "is_cancelled")
        .annotate(units=Sum("quantity"))
        .order_by()
    ):
        key = (r["day"], r["order__channel_id"], r["order__receiver_province"], r["order__currency"], r["is_cancelled"])
        keyed[key].units = r["units"]
    return list(keyed.values())


def _sku_rows(days: Iterable[date] | None) -> list[SkuSalesDay]:
    return [
        SkuSalesDay(
            day=r["day"],
            channel_id=r["order__channel_id"],
            sku_id=r["sku_id"],
            currency=r["order__currency"],
            cancelled=r["is_cancelled"],
            orders=r["n"],
            units=r["units"],
            gross_minor=r["gross"],
            line_discount_minor=r["line_discount"],
            order_discount_minor=r["order_discount"],
            paid_minor=r["paid"],
        )
        for r in OrderLine.objects.filter(order__in=sales_orders(days).values("pk"))
        .annotate(day=TruncDate("order__placed_at"), is_cancelled=_cancelled("order__"))
        .values("day", "order__channel_id", "sku_id", "order__currency", "is_cancelled")
        .annotate(
            n=Count("order_id", distinct=True),
            units=Sum("quantity"),
            gross=Sum("gross_minor"),
            line_discount=Sum("line_discount_minor"),
            order_discount=Sum("order_discount_minor"),
            paid=Sum("paid_minor"),
        )
        .order_by()
    ]


def _cash_rows(days: Iterable[date] | None) -> list[CashDay]:
    return [
        CashDay(
            day=r["day"],
            channel_id=r["order__channel_id"],
            method=r["method"],
            kind=r["kind"],
            currency=r["currency"],
            count=r["n"],
            amount_minor=r["amount"],
            refund_due_minor=r["due"],
        )
        for r in Payment.objects.filter(_in_days("paid_at", days))
        .annotate(day=TruncDate("paid_at"))
        .values("day", "order__channel_id", "method", "kind", "currency")
        .annotate(n=Count("id"), amount=Sum("amount_minor"), due=Sum("refund_due_minor"))
        .order_by()
    ]


# ---- which days moved since the cursor


def _days(qs: QuerySet[Any], field: str) -> set[date]:
    return set(qs.annotate(local_day=TruncDate(field)).values_list("local_day", flat=True).order_by().distinct())


def changed_days(since: datetime) -> tuple[set[date], set[date]]:
    """(sales days, cash days) whose figures may have changed since ``since``."""
    changed = Order.objects.filter(updated_at__gte=since)
    sales = _days(changed, "placed_at")
    cash = _days(
        Payment.objects.filter(
            Q(order__in=changed.values("pk"))
            | Q(received_at__gte=since)
            | Q(pk__in=RefundSettlement.objects.filter(at__gte=since).values("payment_id"))
            | Q(pk__in=RefundSettlement.objects.filter(at__gte=since).values("refund_id"))
        ),
        "paid_at",
    )
    return sales, cash


# ---- writing


def _replace(model: Any, rows: list[Any], days: set[date] | None) -> None:
    (model.objects.all() if days is None else model.objects.filter(day__in=sorted(days))).delete()
    model.objects.bulk_create(rows, batch_size=BATCH)


def _recompute(sales_days: set[date] | None, cash_days: set[date] | None) -> None:
    if sales_days is None or sales_days:
        _replace(SalesDay, _sales_rows(sales_days), sales_days)
        _replace(SkuSalesDay, _sku_rows(sales_days), sales_days)
    if cash_days is None or cash_days:
        _replace(CashDay, _cash_rows(cash_days), cash_days)


@transaction.atomic
def rollups_rebuild(*, now: datetime | None = None) -> RefreshResult:
    """Recompute every day from the orders and payments, and move the cursor to ``now``."""
    now = now or timezone.now()
    cursor = _cursor_locked()
    _recompute(None, None)
    _cursor_move(cursor, now)
    return RefreshResult(sales_days=[], cash_days=[], rebuilt=True)


@transaction.atomic
def rollups_refresh(*, now: datetime | None = None) -> RefreshResult:
    """Recompute the days changed since the cursor (all days on the first run). Takes the cursor's row lock,
    so two refreshes run one after the other."""
    now = now or timezone.now()
    cursor = _cursor_locked()
    if cursor.watermark is None:
        _recompute(None, None)
        _cursor_move(cursor, now)
        return RefreshResult(sales_days=[], cash_days=[], rebuilt=True)
    sales, cash = changed_days(cursor.watermark - lag())
    _recompute(sales, cash)
    _cursor_move(cursor, now)
    return RefreshResult(sales_days=sorted(sales), cash_days=sorted(cash))


def _cursor_locked() -> RollupCursor:
    RollupCursor.objects.get_or_create(name=CURSOR)
    return RollupCursor.objects.select_for_update().get(name=CURSOR)


def _cursor_move(cursor: RollupCursor, now: datetime) -> None:
    cursor.watermark = now
    cursor.refreshed_at = timezone.now()
    cursor.save(update_fields=["watermark", "refreshed_at"])


def rollups_as_of() -> datetime | None:
    """Up to when the figures are complete (None: never refreshed)."""
    return RollupCursor.objects.filter(name=CURSOR).values_list("watermark", flat=True).first()
