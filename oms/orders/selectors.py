"""Reads for the API and console (O6, P1). Read-only; the tests pin each one's query count.

The list pages with a keyset cursor on (created_at, id) descending, so page 1,000 costs what page 1
costs and rows inserted meanwhile never shift a page.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils import timezone

from oms.catalog.models import Sku
from oms.channels.models import Channel
from oms.core.errors import NotFound, ValidationFailed
from oms.orders.counts_sql import status_counts_capped
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
    q: str = ""  # free search: order number, platform order id, receiver phone or name, SKU, address fragment
    customer_id: int | None = None
    living_only: bool = False  # leave out orders replaced by a split or merge
    numbers: tuple[str, ...] = ()  # exactly these orders (a selection: bulk export)
    sort: str = ""  # one of SORTS: newest created first (default), oldest first, by payment time either way

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


# The page order: newest first by creation time, or by payment time when the list filters or sorts on it
# (the (paid_at, id) index then yields page order, read backwards for oldest first). A cursor names the key
# and the direction it continues.
CREATED, PAID = "created_at", "paid_at"
SORTS = ("-created_at", "created_at", "-paid_at", "paid_at")


def _page_key(f: OrderFilters) -> str:
    return PAID if f.paid_from or f.paid_to or f.sort.lstrip("-") == PAID else CREATED


def _ascending(f: OrderFilters) -> bool:
    return f.sort in ("created_at", "paid_at")


def _cursor_encode(order: Order, key: str = CREATED, ascending: bool = False) -> str:
    retired = "|1" if getattr(order, "is_retired", False) else "|0"
    head = ("asc|" if ascending else "") + ("paid|" if key == PAID else "")
    value = getattr(order, key)
    return base64.urlsafe_b64encode(f"{head}{value.isoformat()}|{order.pk}{retired}".encode()).decode()


def _cursor_decode(cursor: str, key: str = CREATED, ascending: bool = False) -> tuple[datetime, int, bool]:
    try:
        parts = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        if (parts[0] == "asc") != ascending:
            raise ValueError(cursor)  # a cursor of the other direction
        if ascending:
            parts = parts[1:]
        if (parts[0] == "paid") != (key == PAID):
            raise ValueError(cursor)  # a cursor of the other page order
        value, pk, *rest = parts[1:] if key == PAID else parts
        if len(rest) > 1 or rest not in ([], ["0"], ["1"]):
            raise ValueError(cursor)
        return datetime.fromisoformat(value), int(pk), rest == ["1"]
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("The page cursor is not valid; start from the first page.", code="bad_cursor") from None


def _sku_id(code: str) -> int | None:
    """The SKU's id, looked up on its own: the planner then sees the id as a constant and knows from the
    statistics whether the SKU sells a lot (walk the newest orders, checking lines) or a little (its lines first)."""
    return Sku.objects.filter(code=code).values_list("id", flat=True).first()


def _filtered(f: OrderFilters) -> QuerySet[Order]:
    """Every filter but the free search, each one an index can serve (see order_list)."""
    qs = Order.objects.all()
    if f.status:
        qs = qs.filter(status=f.status)
    if f.channel:
        # The id as a constant (looked up first): the planner weighs a small channel against a big one.
        channel_id = Channel.objects.filter(code=f.channel).values_list("id", flat=True).first()
        if channel_id is None:
            return _nothing(qs)
        qs = qs.filter(channel_id=channel_id)
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
        sku_id = _sku_id(f.sku)
        if sku_id is None:
            return _nothing(qs)
        qs = qs.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), sku_id=sku_id)))
    if f.customer_id:
        qs = qs.filter(customer_id=f.customer_id)
    if f.numbers:
        qs = qs.filter(number__in=list(f.numbers))
    if _page_key(f) == PAID:
        qs = qs.filter(paid_at__isnull=False)  # listed by payment time: the paid ones
    qs = qs.annotate(is_retired=retired_expression())
    if f.living_only:
        qs = qs.filter(is_retired=False)
    return qs


def _nothing(qs: QuerySet[Order]) -> QuerySet[Order]:
    """No rows, with the columns the search and the page order refer to (an unknown channel or SKU)."""
    return qs.none().annotate(is_retired=retired_expression())


# The free search looks a term up as each kind of key it can be, every kind through its own index: order
# number (its pattern), platform order id (ASCII without spaces), receiver phone (digits), receiver name
# (exact; no digits), SKU code (when a SKU has it: the lines' index) and an address fragment (a trigram index
# on PostgreSQL) when the term can be one: SEARCH_FRAGMENT_MIN characters or more (a trigram needs three), at
# least one of them not ASCII (a Chinese address; identifiers are ASCII).
SEARCH_FRAGMENT_MIN = 3
_NUMBER = re.compile(r"[A-Z]{2}\d{6}[0-9A-Z]{10}")
_PHONE = re.compile(r"\+?[\d -]{5,20}")


def _search_kinds(term: str) -> list[Q]:
    kinds = []
    if _NUMBER.fullmatch(term):
        kinds.append(Q(number=term))
    if term.isascii() and not any(ch.isspace() for ch in term):
        kinds.append(Q(Exists(OrderPlatformRef.objects.filter(order=OuterRef("pk"), platform_order_id=term))))
    if _PHONE.fullmatch(term):
        kinds.append(Q(receiver_phone=term))
    if not any(ch.isdigit() for ch in term):
        kinds.append(Q(receiver_name=term))
    sku_id = _sku_id(term)
    if sku_id is not None:
        kinds.append(Q(Exists(OrderLine.objects.filter(order=OuterRef("pk"), sku_id=sku_id))))
    if len(term) >= SEARCH_FRAGMENT_MIN and not term.isascii():
        kinds.append(Q(receiver_address__contains=term))
    return kinds


def _is_fragment(kind: Q) -> bool:
    return any(isinstance(child, tuple) and child[0] == "receiver_address__contains" for child in kind.children)


def _fragment_order(key: str, ascending: bool = False) -> tuple[Any, ...]:
    """Page order for the address-fragment branch, written so no index yields it: the planner prices a
    ``%fragment%`` match at a fixed share of the table whatever the fragment, so with a LIMIT it would walk
    the (key, id) index filtering every row — the whole table for a rare address. Sorting what the trigram
    index finds is bounded by the matches instead."""
    value = ExpressionWrapper(F(key) + timedelta(0), output_field=DateTimeField())
    return (value.asc(), F("id").asc()) if ascending else (value.desc(), F("id").desc())


def _page_order(living_first: bool, key: str, ascending: bool = False) -> tuple[str, ...]:
    keys = (key, "id") if ascending else (f"-{key}", "-id")
    return ("is_retired", *keys) if living_first else keys


@dataclass(frozen=True)
class _Cursor:
    value: datetime
    pk: int
    retired: bool
    key: str
    ascending: bool = False

    def before(self) -> Q:
        """``(key, id) < (X, N)`` (``>`` oldest first): one row-value comparison, so the index on (key, id)
        seeks straight to the cursor instead of filtering its way there."""
        compare = TupleGreaterThan if self.ascending else TupleLessThan
        return Q(compare(Tuple(F(self.key), F("id")), (self.value, self.pk)))

    def after(self, living_first: bool) -> Q:
        """Rows after the cursor's row in page order (living first: the rest of its part, then the retired)."""
        if not living_first:
            return self.before()
        after = Q(is_retired=self.retired) & self.before()
        return after | Q(is_retired=True) if not self.retired else after


def _searched(
    qs: QuerySet[Order], term: str, *, cursor: _Cursor | None, key: str, size: int, ascending: bool = False
) -> QuerySet[Order]:
    """``qs`` narrowed to the orders ``term`` finds. On PostgreSQL each kind is looked up on its own: for
    living and for replaced orders apart (the page lists living ones first), the first ``size`` rows after
    the cursor in page order, from the kind's index; the page is taken from their union. Elsewhere (SQLite,
    the embedded default) the kinds are ORed."""
    kinds = _search_kinds(term)
    if not kinds:
        return qs.none()
    if not connection.features.supports_slicing_ordering_in_compound:
        any_kind = Q()
        for kind in kinds:
            any_kind |= kind
        return qs.filter(any_kind)
    branches = []
    for kind in kinds:
        for retired in (False, True):
            if cursor is not None and cursor.retired and not retired:
                continue  # the cursor is among the replaced orders: every living one came before it
            branch = qs.filter(kind & Q(is_retired=retired))
            if cursor is not None and cursor.retired == retired:
                branch = branch.filter(cursor.before())
            order = _fragment_order(key, ascending) if _is_fragment(kind) else _page_order(False, key, ascending)
            branches.append(branch.order_by(*order).values("pk")[:size])
    return qs.filter(pk__in=branches[0].union(*branches[1:]))


def order_queryset(*, filters: OrderFilters) -> QuerySet[Order]:
    """Every order the list shows under ``filters``, the free search included (unordered, unevaluated): what
    exports stream."""
    qs = _filtered(filters)
    term = filters.q.strip()
    if not term:
        return qs
    any_kind = Q()
    for kind in _search_kinds(term):
        any_kind |= kind
    return qs.filter(any_kind) if any_kind else qs.none()


def order_list(*, filters: OrderFilters, cursor: str = "", limit: int = 50) -> Page:
    """One query (two when filtering by channel or SKU or searching: the id first): the page of orders, with
    channel and customer joined, plus one look-ahead row. Each filter and search kind goes through an index
    that also yields page order; the tests pin the statements and check each plan uses indexes."""
    limit = max(1, min(limit, MAX_PAGE))
    key, ascending = _page_key(filters), _ascending(filters)
    qs = _filtered(filters).select_related("channel", "customer")
    at = _Cursor(*_cursor_decode(cursor, key, ascending), key=key, ascending=ascending) if cursor else None
    if filters.q.strip():
        qs = _searched(qs, filters.q.strip(), cursor=at, key=key, size=limit + 1, ascending=ascending)
    if at is not None:
        qs = qs.filter(at.after(filters.living_first))
    rows = list(qs.order_by(*_page_order(filters.living_first, key, ascending))[: limit + 1])
    items = rows[:limit]
    next_cursor = _cursor_encode(items[-1], key, ascending) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor, filters=filters)


# Counts stop here: past it the figure reads "10000+". Each count is then an index walk of at most this many
# entries, whatever the table holds (a million orders or more).
COUNT_CAP = 10_000


def order_count(*, filters: OrderFilters, cap: int = COUNT_CAP) -> int:
    """How many orders the list shows under ``filters``, up to ``cap + 1`` (more than ``cap`` reads "cap+")."""
    return order_queryset(filters=filters).values("pk")[: cap + 1].count()


def order_status_counts(*, statuses: Sequence[str], cap: int = COUNT_CAP) -> dict[str, int]:
    """Orders per status, each up to ``cap + 1``, in one statement: an index-only walk of (status, created_at,
    id) of at most ``cap + 1`` entries per status."""
    return status_counts_capped(statuses, cap + 1)


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
