"""Reads for the API and console (O6, P1). Read-only; the tests pin each one's query count.

The list pages with a keyset cursor on (created_at, id) descending, so page 1,000 costs what page 1
costs and rows inserted meanwhile never shift a page.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import BooleanField, Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.utils import timezone

from oms.core.errors import NotFound, ValidationFailed
from oms.orders.models import Customer, Order, OrderEvent, OrderLine, OrderLineVersion, OrderPlatformRef, Payment

MAX_PAGE = 200


@dataclass(frozen=True)
class Replacements:
    """How an app above orders (split/merge) tells orders which orders it retired and what replaced them,
    without orders importing it: ``retired()`` is an ``Exists`` over ``OuterRef("pk")``, true for a replaced
    order; ``living(order_ids)`` maps each replaced order id to its living successors (the orders nothing
    replaced in turn, any status), oldest first. Registered in `oms.wiring`."""

    retired: Callable[[], Exists]
    living: Callable[[Sequence[int]], dict[int, list[Order]]]


ORDER_REPLACEMENTS: list[Replacements] = []


def retired_expression() -> Any:
    """A boolean per order row: replaced by others (a split parent, a merged source), so not living."""
    found = [r.retired() for r in ORDER_REPLACEMENTS]
    if not found:
        return Value(False, output_field=BooleanField())
    expr: Any = found[0]
    for more in found[1:]:
        expr = expr | more
    return expr


def order_living_successors(*, order_ids: Sequence[int]) -> dict[int, list[Order]]:
    """For each of ``order_ids`` that was replaced: the living orders that now stand for it."""
    out: dict[int, list[Order]] = {}
    for r in ORDER_REPLACEMENTS:
        for pk, living in r.living(order_ids).items():
            out.setdefault(pk, []).extend(living)
    return out


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    channel: str = ""
    order_type: str = ""
    created_from: date | None = None
    created_to: date | None = None
    paid_from: date | None = None
    paid_to: date | None = None
    placed_from: date | None = None  # the day the buyer placed it: what the sales report counts by
    placed_to: date | None = None
    province: str = ""  # receiver province adcode
    category: str = ""  # has a line of a SKU in this category (code)
    platform_order_id: str = ""
    buyer_phone: str = ""
    sku: str = ""
    q: str = ""  # free search: order number, platform order id, receiver phone or name
    customer_id: int | None = None
    living_only: bool = False  # leave out orders replaced by a split or merge

    @property
    def living_first(self) -> bool:
        """A look-up (platform order id, free search) finds an order and what replaced it: the living
        orders come first, the replaced ones after them, marked. A few rows, so the sort is cheap."""
        return bool(self.platform_order_id or self.q)


@dataclass
class Page:
    items: list[Order]
    next_cursor: str | None
    filters: OrderFilters = field(default_factory=OrderFilters)


def _day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def _cursor_encode(order: Order) -> str:
    retired = "|1" if getattr(order, "is_retired", False) else "|0"
    return base64.urlsafe_b64encode(f"{order.created_at.isoformat()}|{order.pk}{retired}".encode()).decode()


def _cursor_decode(cursor: str) -> tuple[datetime, int, bool]:
    try:
        created, pk, *rest = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        if len(rest) > 1 or rest not in ([], ["0"], ["1"]):
            raise ValueError(cursor)
        return datetime.fromisoformat(created), int(pk), rest == ["1"]
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("The page cursor is not valid; start from the first page.", code="bad_cursor") from None


def _filtered(f: OrderFilters) -> QuerySet[Order]:
    qs = Order.objects.all()
    if f.status:
        qs = qs.filter(status=f.status)
    if f.channel:
        qs = qs.filter(channel__code=f.channel)
    if f.order_type:
        qs = qs.filter(order_type=f.order_type)
    if f.created_from:
        qs = qs.filter(created_at__gte=_day_start(f.created_from))
    if f.created_to:
        qs = qs.filter(created_at__lt=_day_start(f.created_to) + timedelta(days=1))
    if f.paid_from:
        qs = qs.filter(paid_at__gte=_day_start(f.paid_from))
    if f.paid_to:
        qs = qs.filter(paid_at__lt=_day_start(f.paid_to) + timedelta(days=1))
    if f.placed_from:
        qs = qs.filter(placed_at__gte=_day_start(f.placed_from))
    if f.placed_to:
        qs = qs.filter(placed_at__lt=_day_start(f.placed_to) + timedelta(days=1))
    if f.province:
        qs = qs.filter(receiver_province=f.province)
    if f.category:
        qs = qs.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), sku__category__code=f.category)))
    if f.platform_order_id:
        qs = qs.filter(
            Exists(OrderPlatformRef.objects.filter(order=OuterRef("pk"), platform_order_id=f.platform_order_id))
        )
    if f.buyer_phone:
        qs = qs.filter(receiver_phone=f.buyer_phone)
    if f.sku:
        qs = qs.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), sku__code=f.sku)))
    if f.customer_id:
        qs = qs.filter(customer_id=f.customer_id)
    qs = qs.annotate(is_retired=retired_expression())
    if f.living_only:
        qs = qs.filter(is_retired=False)
    if f.q:
        term = f.q.strip()
        qs = qs.filter(
            Q(number=term)
            | Q(receiver_phone=term)
            | Q(receiver_name=term)
            | Exists(OrderPlatformRef.objects.filter(order=OuterRef("pk"), platform_order_id=term))
        )
    return qs


def order_queryset(*, filters: OrderFilters) -> QuerySet[Order]:
    """Every order the list shows under ``filters`` (unordered, unevaluated): what exports stream."""
    return _filtered(filters)


def order_list(*, filters: OrderFilters, cursor: str = "", limit: int = 50) -> Page:
    """One query: the page of orders (with channel and customer joined) plus one look-ahead row."""
    limit = max(1, min(limit, MAX_PAGE))
    qs = _filtered(filters).select_related("channel", "customer")
    qs = qs.order_by("is_retired", "-created_at", "-id") if filters.living_first else qs.order_by("-created_at", "-id")
    if cursor:
        created, pk, retired = _cursor_decode(cursor)
        after = Q(created_at__lt=created) | Q(created_at=created, id__lt=pk)
        if filters.living_first:
            after = Q(is_retired=retired) & after
            if not retired:
                after |= Q(is_retired=True)
        qs = qs.filter(after)
    rows = list(qs[: limit + 1])
    items = rows[:limit]
    return Page(items=items, next_cursor=_cursor_encode(items[-1]) if len(rows) > limit else None, filters=filters)


def order_get(*, number: str) -> Order:
    """The order with everything its detail page shows: 5 queries whatever the number of lines."""
    order = (
        Order.objects.select_related("channel", "customer", "warehouse", "final_warehouse", "courier")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("sku").order_by("line_no")),
            Prefetch("payments", queryset=Payment.objects.order_by("paid_at", "id")),
            Prefetch("events", queryset=OrderEvent.objects.order_by("at", "id")),
            Prefetch("platform_refs", queryset=OrderPlatformRef.objects.order_by("id")),
        )
        .annotate(is_retired=retired_expression())
        .filter(number=number)
        .first()
    )
    if order is None:
        raise NotFound(f"No order {number}.", code="order_not_found")
    return order


def customer_get(*, pk: int) -> Customer:
    customer = Customer.objects.select_related("channel").filter(pk=pk).first()
    if customer is None:
        raise NotFound(f"No customer {pk}.", code="customer_not_found")
    return customer


def customer_list(*, q: str = "", channel: str = "", limit: int = 50) -> list[Customer]:
    qs = Customer.objects.select_related("channel").order_by("-created_at", "-id")
    if channel:
        qs = qs.filter(channel__code=channel)
    if q:
        qs = qs.filter(Q(platform_buyer_id=q) | Q(phone=q) | Q(nickname=q) | Q(name=q))
    return list(qs[: max(1, min(limit, MAX_PAGE))])


def order_totals_check(order: Order) -> dict[str, Any]:
    """Sums of the (prefetched) lines next to the order's amounts, for the detail page's totals row."""
    lines = list(order.lines.all())
    return {
        "quantity": sum(ln.quantity for ln in lines),
        "gross_minor": sum(ln.gross_minor for ln in lines),
        "line_discount_minor": sum(ln.line_discount_minor for ln in lines),
        "order_discount_minor": sum(ln.order_discount_minor for ln in lines),
        "shipping_minor": sum(ln.shipping_minor for ln in lines),
        "paid_minor": sum(ln.paid_minor for ln in lines),
    }


def order_lines_current(*, order: Order) -> list[tuple[OrderLine, int, int, int]]:
    """Each line with its latest figures: (line, units the buyer has, paid for them, shipping part), from its
    newest version after a return (重摊), else the purchase figures."""
    lines = list(OrderLine.objects.filter(order=order).order_by("line_no"))
    latest: dict[int, OrderLineVersion] = {}
    for v in OrderLineVersion.objects.filter(line__order=order).order_by("line_id", "version"):
        latest[v.line_id] = v
    out = []
    for ln in lines:
        newest = latest.get(ln.pk)
        if newest is None:
            out.append((ln, ln.quantity, ln.paid_minor, ln.shipping_minor))
        else:
            out.append((ln, newest.quantity, newest.paid_minor, newest.shipping_minor))
    return out
