"""The sales report (销售报表): figures per day and per channel, province, SKU or category, read from the daily
rollups only (a handful of aggregate queries over a few thousand rows, whatever the number of orders).

Orders, units, GMV (goods at list price), discounts and payable count orders that were not cancelled; paid
and refunds count every living order (money that came in for an order later cancelled, and went back).
With a SKU or category filter or breakdown the figures come from the per-SKU rollup, which has no shipping,
payments or provinces: those read as None.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet, Sum

from oms.catalog.models import Category, Sku
from oms.channels.models import Channel
from oms.core.domain.money import format_minor
from oms.core.domain.regions import provinces
from oms.reports.domain.filters import ReportFilters
from oms.reports.forms import day_list
from oms.reports.models import SalesDay, SkuSalesDay
from oms.reports.services.rollups import rollups_as_of

TOP = 10
LIVE = Q(cancelled=False)


@dataclass(frozen=True)
class SalesFigures:
    orders: int = 0
    units: int = 0
    goods_minor: int = 0
    line_discount_minor: int = 0
    order_discount_minor: int = 0
    payable_minor: int = 0
    cancelled_orders: int = 0
    shipping_minor: int | None = None
    received_minor: int | None = None
    refunded_minor: int | None = None

    @property
    def discount_minor(self) -> int:
        return self.line_discount_minor + self.order_discount_minor

    @property
    def net_minor(self) -> int | None:
        if self.received_minor is None or self.refunded_minor is None:
            return None
        return self.received_minor - self.refunded_minor

    @property
    def average_order_minor(self) -> int:
        return self.payable_minor // self.orders if self.orders else 0


@dataclass(frozen=True)
class SalesRow:
    key: str  # the code the drill-down filters on (day ISO date, channel/SKU/category code, province adcode)
    label: str
    figures: SalesFigures


@dataclass
class SalesReport:
    filters: ReportFilters
    totals: SalesFigures
    days: list[SalesRow]
    rows: list[SalesRow]
    top_skus: list[SalesRow]
    as_of: datetime | None
    line_level: bool = False
    notes: list[str] = field(default_factory=list)


def _order_sums() -> dict[str, Any]:
    return {
        "orders_": Sum("orders", filter=LIVE),
        "cancelled_": Sum("orders", filter=~LIVE),
        "units_": Sum("units", filter=LIVE),
        "goods_": Sum("goods_minor", filter=LIVE),
        "line_discount_": Sum("line_discount_minor", filter=LIVE),
        "order_discount_": Sum("order_discount_minor", filter=LIVE),
        "payable_": Sum("payable_minor", filter=LIVE),
        "shipping_": Sum("shipping_minor", filter=LIVE),
        "received_": Sum("received_minor"),
        "refunded_": Sum("refunded_minor"),
    }


def _line_sums() -> dict[str, Any]:
    return {
        "orders_": Sum("orders", filter=LIVE),
        "cancelled_": Sum("orders", filter=~LIVE),
        "units_": Sum("units", filter=LIVE),
        "goods_": Sum("gross_minor", filter=LIVE),
        "line_discount_": Sum("line_discount_minor", filter=LIVE),
        "order_discount_": Sum("order_discount_minor", filter=LIVE),
        "payable_": Sum("paid_minor", filter=LIVE),
    }


def _figures(r: dict[str, Any], line_level: bool) -> SalesFigures:
    def n(name: str) -> int:
        return int(r.get(name) or 0)

    return SalesFigures(
        orders=n("orders_"),
        units=n("units_"),
        goods_minor=n("goods_"),
        line_discount_minor=n("line_discount_"),
        order_discount_minor=n("order_discount_"),
        payable_minor=n("payable_"),
        cancelled_orders=n("cancelled_"),
        shipping_minor=None if line_level else n("shipping_"),
        received_minor=None if line_level else n("received_"),
        refunded_minor=None if line_level else n("refunded_"),
    )


def _base(f: ReportFilters) -> QuerySet[Any]:
    qs: QuerySet[Any] = (SkuSalesDay if f.line_level else SalesDay).objects.filter(
        day__gte=f.day_from, day__lte=f.day_to, currency=f.currency
    )
    if f.channel_id:
        qs = qs.filter(channel_id=f.channel_id)
    if f.province and not f.line_level:
        qs = qs.filter(province=f.province)
    if f.sku_id:
        qs = qs.filter(sku_id=f.sku_id)
    if f.category_id:
        qs = qs.filter(sku__category_id=f.category_id)
    return qs


def _grouped(qs: QuerySet[Any], field_name: str, f: ReportFilters) -> dict[Any, SalesFigures]:
    sums = _line_sums() if f.line_level else _order_sums()
    return {r[field_name]: _figures(r, f.line_level) for r in qs.values(field_name).annotate(**sums).order_by()}


def _labels(by: str, keys: Iterable[Any]) -> dict[Any, tuple[str, str]]:
    """(drill-down code, label) per breakdown key."""
    ids = [k for k in keys if k is not None]
    if by == "channel":
        return {
            pk: (code, name) for pk, code, name in Channel.objects.filter(pk__in=ids).values_list("pk", "code", "name")
        }
    if by == "sku":
        return {
            pk: (code, f"{code} {name}")
            for pk, code, name in Sku.objects.filter(pk__in=ids).values_list("pk", "code", "name")
        }
    if by == "category":
        return {
            pk: (code, name) for pk, code, name in Category.objects.filter(pk__in=ids).values_list("pk", "code", "name")
        }
    if by == "province":
        names = {p.adcode: p.name for p in provinces()}
        return {k: (k, names.get(k, k)) for k in ids}
    return {k: (k.isoformat(), k.isoformat()) for k in ids}


_BY_FIELD = {
    "day": "day",
    "channel": "channel_id",
    "province": "province",
    "sku": "sku_id",
    "category": "sku__category_id",
}


def _rows(f: ReportFilters, qs: QuerySet[Any]) -> list[SalesRow]:
    if f.by == "day":
        return []
    grouped = _grouped(qs, _BY_FIELD[f.by], f)
    labels = _labels(f.by, grouped)
    rows = [
        SalesRow(key=labels.get(k, ("", ""))[0], label=labels.get(k, ("", "—"))[1], figures=v)
        for k, v in grouped.items()
    ]
    return sorted(rows, key=lambda r: (-r.figures.payable_minor, r.key))


def sales_report(*, filters: ReportFilters) -> SalesReport:
    """The sales figures for ``filters``: totals, one row per day of the period, the breakdown, top SKUs."""
    f = filters
    if f.province and f.line_level:
        f = f.narrowed(province="")
    qs = _base(f)
    total = qs.aggregate(**(_line_sums() if f.line_level else _order_sums()))
    by_day = _grouped(qs, "day", f)
    days = [
        SalesRow(key=d.isoformat(), label=d.isoformat(), figures=by_day.get(d, SalesFigures()))
        for d in day_list(f.day_from, f.day_to)
    ]
    sku_filters = f.narrowed(by="sku")
    top = _rows(sku_filters, _base(sku_filters))[:TOP] if not f.province else []
    return SalesReport(
        filters=f,
        totals=_figures(total, f.line_level),
        days=days,
        rows=_rows(f, qs),
        top_skus=top,
        as_of=rollups_as_of(),
        line_level=f.line_level,
    )


def sales_days_for_chart(report: SalesReport) -> dict[str, list[Any]]:
    """The day series as plain lists (for the chart's JSON)."""
    return {
        "days": [r.key for r in report.days],
        "payable": [format_minor(r.figures.payable_minor, report.filters.currency) for r in report.days],
        "orders": [r.figures.orders for r in report.days],
        "units": [r.figures.units for r in report.days],
    }
