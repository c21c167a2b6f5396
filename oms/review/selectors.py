"""Reads for review: order facts in bulk (a fixed number of queries for any number of orders)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from django.db.models import Q, QuerySet

from oms.core.bulk import ids_in
from oms.core.domain.money import format_minor
from oms.core.domain.regions import province_lookup
from oms.orders.domain.status import Status
from oms.orders.models import RECEIVER_ADDRESS_FIELDS, Order, OrderLine
from oms.review.models import BlacklistEntry, BlacklistKind, Interception, InterceptionState, RefundRequest

PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
UNSHIPPED = (
    Status.PENDING_REVIEW,
    Status.PENDING_SPLIT,
    Status.PENDING_DISPATCH,
    Status.PENDING_SHIPMENT,
)


def _yuan(minor: int, currency: str) -> float:
    # Rules compare amounts written in yuan; the exact decimal text avoids binary rounding surprises.
    return float(format_minor(minor, currency))


class _Line(NamedTuple):
    """The columns of an order line (and its SKU) that facts read; names are the ORM paths."""

    order_id: int
    sku_id: int | None
    quantity: int
    gross_minor: int
    paid_minor: int
    is_gift: bool
    sku__code: str
    sku__weight_g: int
    sku__volume_cm3: int
    sku__category__code: str | None


class FactProvider(Protocol):
    """Contexts above review add facts they own (split/merge adds the unmerged-orders count) without review
    importing them: orders → {pk: {fact: value}}. Registered in `oms.wiring`."""

    def __call__(self, orders: Sequence[Order], /) -> dict[int, dict[str, Any]]: ...


FACT_PROVIDERS: list[FactProvider] = []


def order_facts_many(*, orders: Sequence[Order]) -> dict[int, dict[str, Any]]:
    """Facts for each order (keyed by pk). Orders should come with channel and customer selected."""
    if not orders:
        return {}
    ids = [o.pk for o in orders]
    # Tuples, not model instances: a pipeline batch reads thousands of lines.
    lines_by_order: dict[int, list[_Line]] = defaultdict(list)
    for row in (
        OrderLine.objects.filter(ids_in("order_id", ids)).order_by("order_id", "line_no").values_list(*_Line._fields)
    ):
        lines_by_order[row[0]].append(_Line(*row))

    phones = {o.receiver_phone for o in orders}
    buyer_ids = {o.customer.platform_buyer_id for o in orders if o.customer_id and o.customer}
    blacklist = list(
        BlacklistEntry.objects.filter(
            Q(kind=BlacklistKind.PHONE, value__in=phones)
            | Q(kind=BlacklistKind.BUYER, value__in=buyer_ids)
            | Q(kind=BlacklistKind.ADDRESS)
        ).values_list("kind", "value")
    )
    refund_open = set(
        RefundRequest.objects.filter(ids_in("order_id", ids), is_open=True).values_list("order_id", flat=True)
    )

    customer_ids = {o.customer_id for o in orders if o.customer_id}
    open_by_customer: dict[int, list[Order]] = defaultdict(list)
    if customer_ids:
        for other in Order.objects.filter(
            ids_in("customer_id", customer_ids), status__in=[s.value for s in UNSHIPPED]
        ).only("pk", "customer_id", *RECEIVER_ADDRESS_FIELDS):
            open_by_customer[other.customer_id].append(other)  # type: ignore[index]

    facts: dict[int, dict[str, Any]] = {}
    for o in orders:
        lines = lines_by_order.get(o.pk, [])
        province = province_lookup(o.receiver_province)
        full_address = f"{o.receiver_city}{o.receiver_district}{o.receiver_address}"
        buyer_id = o.customer.platform_buyer_id if o.customer_id and o.customer else ""
        listed = any(
            (kind == BlacklistKind.PHONE and value == o.receiver_phone)
            or (kind == BlacklistKind.BUYER and value == buyer_id)
            or (kind == BlacklistKind.ADDRESS and value and value in full_address)
            for kind, value in blacklist
        )
        others = [x for x in open_by_customer.get(o.customer_id or 0, []) if x.pk != o.pk]
        priced = [ln for ln in lines if ln.gross_minor > 0]
        facts[o.pk] = {
            "paid_amount": _yuan(o.received_minor - o.refunded_minor, o.currency),
            "payable_amount": _yuan(o.payable_minor, o.currency),
            "goods_amount": _yuan(o.goods_minor, o.currency),
            "discount_amount": _yuan(o.line_discount_minor + o.order_discount_minor, o.currency),
            "line_count": len(lines),
            "total_quantity": sum(ln.quantity for ln in lines),
            "skus": sorted({ln.sku__code for ln in lines if ln.sku_id is not None}),
            "categories": sorted({ln.sku__category__code for ln in lines if ln.sku__category__code is not None}),
            "weight_g": sum(ln.sku__weight_g * ln.quantity for ln in lines if ln.sku_id is not None),
            "volume_cm3": sum(ln.sku__volume_cm3 * ln.quantity for ln in lines if ln.sku_id is not None),
            "buyer_remark": o.buyer_remark,
            "seller_remark": o.seller_remark,
            "has_remark": bool(o.buyer_remark.strip() or o.seller_remark.strip()),
            "buyer_id": buyer_id,
            "buyer_phone": o.receiver_phone,
            "blacklisted": listed,
            "province": province.name if province else o.receiver_province,
            "city": o.receiver_city,
            "district": o.receiver_district,
            "address": full_address,
            "address_complete": bool(
                province
                and o.receiver_city.strip()
                and len(o.receiver_address.strip()) >= 4
                and PHONE_RE.match(o.receiver_phone.strip())
            ),
            "channel": o.channel.code,
            "platform": o.channel.platform,
            "order_type": o.order_type,
            "cod": o.is_cod,
            "presale": o.is_presale,
            "paid_at": o.paid_at,
            "refund_pending": o.pk in refund_open,
            "has_unmapped_sku": any(ln.sku_id is None for ln in lines),
            "has_gift": any(ln.is_gift for ln in lines),
            "lowest_paid_ratio": min((ln.paid_minor / ln.gross_minor for ln in priced if not ln.is_gift), default=1.0),
            "other_open_orders_other_address": sum(
                1 for x in others if x.receiver_address_key() != o.receiver_address_key()
            ),
            "same_buyer_open_orders": len(others),
            "unmerged_mergeable_orders": 0,
        }
    for provider in FACT_PROVIDERS:
        for pk, extra in provider(orders).items():
            facts[pk].update(extra)
    return facts


def interception_list(*, state: str = "open", reason_code: str = "", order_number: str = "") -> QuerySet[Interception]:
    qs = Interception.objects.select_related(
        "order", "order__channel", "order__customer", "rule", "resolved_by"
    ).order_by("-created_at", "-id")
    if state:
        qs = qs.filter(state=state)
    if reason_code:
        qs = qs.filter(reason_code=reason_code)
    if order_number:
        qs = qs.filter(order__number=order_number)
    return qs


def order_open_interceptions(*, order: Order) -> list[Interception]:
    return list(Interception.objects.filter(order=order, state=InterceptionState.OPEN).order_by("id"))


def after_review_holds(*, orders: Sequence[Order]) -> list[tuple[str, str]]:
    """(order number, reason code) of the open holds raised after review on these orders."""
    return list(
        Interception.objects.filter(order__in=orders, state=InterceptionState.OPEN, after_review=True).values_list(
            "order__number", "reason_code"
        )
    )
