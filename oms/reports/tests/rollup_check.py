"""A second, independent way to the daily figures: plain Python over every order and payment row. The tests
compare the rollups with it; nothing here is shared with the service that writes them."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils import timezone

from oms.orders.models import Order, OrderLine, Payment
from oms.reports.models import CashDay, SalesDay, SkuSalesDay
from oms.splitmerge.models import OrderLineage

SALES_FIELDS = (
    "orders",
    "units",
    "goods_minor",
    "line_discount_minor",
    "order_discount_minor",
    "shipping_minor",
    "payable_minor",
    "received_minor",
    "refunded_minor",
)
SKU_FIELDS = ("orders", "units", "gross_minor", "line_discount_minor", "order_discount_minor", "paid_minor")


def living_sales_orders() -> dict[int, Order]:
    replaced = set(OrderLineage.objects.values_list("parent_id", flat=True))
    return {o.pk: o for o in Order.objects.filter(order_type="sale").exclude(status="invalid") if o.pk not in replaced}


def _key(o: Order) -> tuple[Any, ...]:
    return (timezone.localdate(o.placed_at), o.channel_id, o.receiver_province, o.currency, o.status == "cancelled")


def expected_sales() -> dict[tuple[Any, ...], dict[str, int]]:
    out: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(SALES_FIELDS, 0))
    orders = living_sales_orders()
    for o in orders.values():
        row = out[
            (timezone.localdate(o.placed_at), o.channel_id, o.receiver_province, o.currency, o.status == "cancelled")
        ]
        row["orders"] += 1
        for f in SALES_FIELDS[2:]:
            row[f] += getattr(o, f)
    for line in OrderLine.objects.filter(order_id__in=list(orders)):
        out[_key(orders[line.order_id])]["units"] += line.quantity
    return dict(out)


def expected_sku_sales() -> dict[tuple[Any, ...], dict[str, int]]:
    out: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(SKU_FIELDS, 0))
    seen: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    orders = living_sales_orders()
    for line in OrderLine.objects.filter(order_id__in=list(orders)):
        o = orders[line.order_id]
        key = (timezone.localdate(o.placed_at), o.channel_id, line.sku_id, o.currency, o.status == "cancelled")
        seen[key].add(o.pk)
        row = out[key]
        row["units"] += line.quantity
        row["gross_minor"] += line.gross_minor
        row["line_discount_minor"] += line.line_discount_minor
        row["order_discount_minor"] += line.order_discount_minor
        row["paid_minor"] += line.paid_minor
    for key, ids in seen.items():
        out[key]["orders"] = len(ids)
    return dict(out)


def expected_cash() -> dict[tuple[Any, ...], tuple[int, int, int]]:
    out: dict[tuple[Any, ...], tuple[int, int, int]] = {}
    for p in Payment.objects.select_related("order"):
        key = (timezone.localdate(p.paid_at), p.order.channel_id, p.method, p.kind, p.currency)
        n, amount, due = out.get(key, (0, 0, 0))
        out[key] = (n + 1, amount + p.amount_minor, due + p.refund_due_minor)
    return out


def stored_sales() -> dict[tuple[Any, ...], dict[str, int]]:
    return {
        (r.day, r.channel_id, r.province, r.currency, r.cancelled): {f: getattr(r, f) for f in SALES_FIELDS}
        for r in SalesDay.objects.all()
    }


def stored_sku_sales() -> dict[tuple[Any, ...], dict[str, int]]:
    return {
        (r.day, r.channel_id, r.sku_id, r.currency, r.cancelled): {f: getattr(r, f) for f in SKU_FIELDS}
        for r in SkuSalesDay.objects.all()
    }


def stored_cash() -> dict[tuple[Any, ...], tuple[int, int, int]]:
    return {
        (r.day, r.channel_id, r.method, r.kind, r.currency): (r.count, r.amount_minor, r.refund_due_minor)
        for r in CashDay.objects.all()
    }


def assert_rollups_match() -> None:
    assert stored_sales() == expected_sales()
    assert stored_sku_sales() == expected_sku_sales()
    assert stored_cash() == expected_cash()
