"""The stock and reservations report (库存报表): channel quotas and what is reserved of them, the warehouses'
shelves and what is in transit, open stockouts by SKU and by age, and SKUs that hold stock but did not sell.

Everything is a fixed number of aggregate queries over the stock tables (``ChannelStock``, ``StockItem``,
``Stockout``) and the per-SKU daily sales rollup, read through their indexes: no loop issues a query per row.
Filters: a warehouse, a channel, a category; ``idle_days`` is how long without a sale makes a SKU non-moving.
A warehouse filter narrows the channels to those it feeds; a channel filter narrows the warehouses to those
that feed it (``ChannelWarehouse``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.catalog.models import Category
from oms.channels.models import Channel, ChannelStock, ChannelWarehouse
from oms.core.errors import FieldError, ValidationFailed
from oms.fulfillment.models import Stockout, StockoutState
from oms.inventory.models import StockItem, Warehouse
from oms.reports.models import SkuSalesDay

DEFAULT_IDLE_DAYS = 30
MAX_IDLE_DAYS = 366
LIST_LIMIT = 50
# Open stockouts by how long they have waited: (key, lower bound in days, upper bound or None).
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("lt1d", 0, 1),
    ("1to3d", 1, 3),
    ("3to7d", 3, 7),
    ("ge7d", 7, None),
)


@dataclass(frozen=True)
class StockFilters:
    warehouse: str = ""
    warehouse_id: int | None = None
    channel: str = ""
    channel_id: int | None = None
    category: str = ""
    category_id: int | None = None
    idle_days: int = DEFAULT_IDLE_DAYS

    def query(self) -> dict[str, str]:
        params = {
            "warehouse": self.warehouse,
            "channel": self.channel,
            "category": self.category,
            "idle_days": str(self.idle_days),
        }
        return {k: v for k, v in params.items() if v}


class StockReportForm(forms.Form):
    warehouse = forms.CharField(label=_("Warehouse"), required=False, max_length=32)
    channel = forms.CharField(label=_("Channel"), required=False, max_length=32)
    category = forms.CharField(label=_("Category"), required=False, max_length=32)
    idle_days = forms.IntegerField(label=_("No sale for (days)"), required=False, min_value=1, max_value=MAX_IDLE_DAYS)

    KNOWN = frozenset({"warehouse", "channel", "category", "idle_days"})

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        raw: dict[str, Any] = data.dict() if isinstance(data, QueryDict) else dict(data or {})
        self.unknown = sorted(set(raw) - self.KNOWN)
        super().__init__(raw)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.unknown:
            self.add_error(None, _("Unknown filter %(name)s.") % {"name": name})
        for name, qs, missing in (
            ("warehouse", Warehouse.objects.all(), _("No such warehouse.")),
            ("channel", Channel.objects.all(), _("No such channel.")),
            ("category", Category.objects.all(), _("No such category.")),
        ):
            code = (data.get(name) or "").strip()
            data[name], data[f"{name}_id"] = code, None
            if code:
                pk = qs.filter(code=code).values_list("pk", flat=True).first()
                if pk is None:
                    self.add_error(name, missing)
                data[f"{name}_id"] = pk
        return data

    def filters(self) -> StockFilters:
        if not self.is_valid():
            raise ValidationFailed(
                "The report filters are invalid.",
                details=[
                    FieldError("query" if name == "__all__" else name, str(message), "invalid")
                    for name, messages in self.errors.items()
                    for message in messages
                ],
            )
        d = self.cleaned_data
        return StockFilters(
            warehouse=d["warehouse"],
            warehouse_id=d["warehouse_id"],
            channel=d["channel"],
            channel_id=d["channel_id"],
            category=d["category"],
            category_id=d["category_id"],
            idle_days=d.get("idle_days") or DEFAULT_IDLE_DAYS,
        )


def stock_filters_parse(params: Mapping[str, Any]) -> StockFilters:
    return StockReportForm(params).filters()


@dataclass(frozen=True)
class ChannelRow:
    code: str
    name: str
    skus: int
    quota: int
    sales_reserved: int
    return_reserved: int
    available: int
    sold_out: int  # SKUs with nothing available


@dataclass(frozen=True)
class WarehouseRow:
    code: str
    name: str
    skus: int
    on_hand: int
    reserved: int
    sellable: int
    defective: int
    in_transit: int


@dataclass(frozen=True)
class SkuRow:
    code: str
    name: str
    units: int  # units short (stockouts), on hand (non-moving) or in transit
    orders: int = 0
    since: datetime | None = None
    age_days: int = 0
    last_sold: date | None = None


@dataclass(frozen=True)
class AgeBucket:
    key: str
    low_days: int
    high_days: int | None
    stockouts: int
    units: int


@dataclass
class StockReport:
    filters: StockFilters
    now: datetime
    channels: list[ChannelRow]
    warehouses: list[WarehouseRow]
    stockouts: list[SkuRow]
    stockout_skus: int
    stockout_ages: list[AgeBucket]
    idle: list[SkuRow]
    idle_skus: int
    in_transit: list[SkuRow]
    totals: dict[str, int] = field(default_factory=dict)


def _channel_stock(f: StockFilters) -> QuerySet[ChannelStock]:
    qs = ChannelStock.objects.all()
    if f.channel_id:
        qs = qs.filter(channel_id=f.channel_id)
    if f.warehouse_id:
        qs = qs.filter(channel_id__in=ChannelWarehouse.objects.filter(warehouse_id=f.warehouse_id).values("channel_id"))
    if f.category_id:
        qs = qs.filter(sku__category_id=f.category_id)
    return qs


def _stock_items(f: StockFilters) -> QuerySet[StockItem]:
    qs = StockItem.objects.all()
    if f.warehouse_id:
        qs = qs.filter(warehouse_id=f.warehouse_id)
    if f.channel_id:
        qs = qs.filter(warehouse_id__in=ChannelWarehouse.objects.filter(channel_id=f.channel_id).values("warehouse_id"))
    if f.category_id:
        qs = qs.filter(sku__category_id=f.category_id)
    return qs


def _open_stockouts(f: StockFilters) -> QuerySet[Stockout]:
    qs = Stockout.objects.filter(state=StockoutState.OPEN)
    if f.warehouse_id:
        qs = qs.filter(warehouse_id=f.warehouse_id)
    if f.channel_id:
        qs = qs.filter(order__channel_id=f.channel_id)
    if f.category_id:
        qs = qs.filter(sku__category_id=f.category_id)
    return qs


def _channels(f: StockFilters) -> list[ChannelRow]:
    available = F("quota") - F("sales_reserved") - F("return_reserved")
    rows = (
        _channel_stock(f)
        .values("channel__code", "channel__name")
        .annotate(
            skus=Count("id"),
            quota_=Sum("quota"),
            sales_=Sum("sales_reserved"),
            return_=Sum("return_reserved"),
            sold_out=Count("id", filter=Q(quota__lte=F("sales_reserved") + F("return_reserved"))),
            available_=Sum(available),
        )
        .order_by("channel__code")
    )
    return [
        ChannelRow(
            code=r["channel__code"],
            name=r["channel__name"],
            skus=r["skus"],
            quota=r["quota_"] or 0,
            sales_reserved=r["sales_"] or 0,
            return_reserved=r["return_"] or 0,
            available=r["available_"] or 0,
            sold_out=r["sold_out"],
        )
        for r in rows
    ]


def _warehouses(f: StockFilters) -> list[WarehouseRow]:
    rows = (
        _stock_items(f)
        .values("warehouse__code", "warehouse__name")
        .annotate(
            skus=Count("id", filter=Q(on_hand__gt=0) | Q(in_transit__gt=0) | Q(defective__gt=0)),
            on_hand_=Sum("on_hand"),
            reserved_=Sum("reserved"),
            defective_=Sum("defective"),
            in_transit_=Sum("in_transit"),
        )
        .order_by("warehouse__code")
    )
    return [
        WarehouseRow(
            code=r["warehouse__code"],
            name=r["warehouse__name"],
            skus=r["skus"],
            on_hand=r["on_hand_"] or 0,
            reserved=r["reserved_"] or 0,
            sellable=(r["on_hand_"] or 0) - (r["reserved_"] or 0),
            defective=r["defective_"] or 0,
            in_transit=r["in_transit_"] or 0,
        )
        for r in rows
    ]


def _age_days(now: datetime, since: datetime | None) -> int:
    return (now - since).days if since else 0


def _stockouts(f: StockFilters, now: datetime) -> tuple[list[SkuRow], int, list[AgeBucket]]:
    qs = _open_stockouts(f)
    grouped = qs.values("sku__code", "sku__name").annotate(
        units_=Sum("quantity"), orders_=Count("order_id", distinct=True), since_=Min("created_at")
    )
    rows = [
        SkuRow(
            code=r["sku__code"],
            name=r["sku__name"],
            units=r["units_"] or 0,
            orders=r["orders_"],
            since=r["since_"],
            age_days=_age_days(now, r["since_"]),
        )
        for r in grouped.order_by("-units_", "sku__code")[:LIST_LIMIT]
    ]
    sums: dict[str, Any] = {"skus": Count("sku_id", distinct=True)}
    for key, low, high in AGE_BUCKETS:
        window = Q(created_at__lte=now - timedelta(days=low))
        if high is not None:
            window &= Q(created_at__gt=now - timedelta(days=high))
        sums[f"n_{key}"] = Count("id", filter=window)
        sums[f"u_{key}"] = Sum("quantity", filter=window)
    agg = qs.aggregate(**sums)
    buckets = [
        AgeBucket(key=key, low_days=low, high_days=high, stockouts=agg[f"n_{key}"], units=agg[f"u_{key}"] or 0)
        for key, low, high in AGE_BUCKETS
    ]
    return rows, agg["skus"], buckets


def _idle(f: StockFilters, today: date) -> tuple[list[SkuRow], int]:
    """SKUs with units on the shelf and no unit sold (in a living, not cancelled order) in the last
    ``idle_days`` days, most units first, with the last day they sold."""
    sales = SkuSalesDay.objects.filter(sku_id=OuterRef("sku_id"), cancelled=False, units__gt=0)
    if f.channel_id:
        sales = sales.filter(channel_id=f.channel_id)
    since = today - timedelta(days=f.idle_days - 1)
    qs = _stock_items(f).filter(on_hand__gt=0).filter(~Exists(sales.filter(day__gte=since)))
    grouped = (
        qs.values("sku_id", "sku__code", "sku__name")
        .annotate(units_=Sum("on_hand"))
        .annotate(last_=Subquery(sales.order_by("-day").values("day")[:1]))
    )
    rows = [
        SkuRow(code=r["sku__code"], name=r["sku__name"], units=r["units_"], last_sold=r["last_"])
        for r in grouped.order_by("-units_", "sku__code")[:LIST_LIMIT]
    ]
    return rows, qs.values("sku_id").distinct().count()


def _in_transit(f: StockFilters) -> list[SkuRow]:
    grouped = (
        _stock_items(f)
        .filter(in_transit__gt=0)
        .values("sku__code", "sku__name")
        .annotate(units_=Sum("in_transit"))
        .order_by("-units_", "sku__code")[:LIST_LIMIT]
    )
    return [SkuRow(code=r["sku__code"], name=r["sku__name"], units=r["units_"]) for r in grouped]


def stock_report(*, filters: StockFilters, now: datetime | None = None) -> StockReport:
    """The stock and reservations figures for ``filters`` (seven aggregate queries, whatever the data)."""
    now = now or timezone.now()
    f = filters
    channels = _channels(f)
    warehouses = _warehouses(f)
    stockouts, stockout_skus, ages = _stockouts(f, now)
    idle, idle_skus = _idle(f, timezone.localdate(now))
    report = StockReport(
        filters=f,
        now=now,
        channels=channels,
        warehouses=warehouses,
        stockouts=stockouts,
        stockout_skus=stockout_skus,
        stockout_ages=ages,
        idle=idle,
        idle_skus=idle_skus,
        in_transit=_in_transit(f),
    )
    report.totals = {
        "quota": sum(c.quota for c in channels),
        "sales_reserved": sum(c.sales_reserved for c in channels),
        "return_reserved": sum(c.return_reserved for c in channels),
        "available": sum(c.available for c in channels),
        "on_hand": sum(w.on_hand for w in warehouses),
        "reserved": sum(w.reserved for w in warehouses),
        "sellable": sum(w.sellable for w in warehouses),
        "defective": sum(w.defective for w in warehouses),
        "in_transit": sum(w.in_transit for w in warehouses),
        "stockout_units": sum(b.units for b in ages),
        "stockouts": sum(b.stockouts for b in ages),
        "stockout_skus": stockout_skus,
        "idle_skus": idle_skus,
    }
    return report
