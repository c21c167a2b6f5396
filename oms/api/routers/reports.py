"""Reports API (P2): the same figures as the console's report pages, read from the daily rollups.

Filters are parsed by the reports' own form (the console uses the same), so both refuse the same input the
same way: a reversed or too long period, an unknown channel, SKU, category, currency or filter → 422 naming
the field. Amounts are decimal strings in the report's currency."""

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from oms.api.auth import require_perm
from oms.core.domain.money import format_minor
from oms.reports.customers import customers_filters_parse, customers_report
from oms.reports.forms import report_filters_parse
from oms.reports.operations import STAGE_AGES, operations_filters_parse, operations_report
from oms.reports.sales import SalesFigures, SalesReport, SalesRow, sales_report
from oms.reports.stock import stock_filters_parse, stock_report

router = Router(tags=["reports"])


class ReportQuery(Schema):
    date_from: date | None = Field(None, alias="from", description="First local day (default: 30 days to `to`).")
    date_to: date | None = Field(None, alias="to", description="Last local day, inclusive (default: today).")
    channel: str = Field("", description="Channel code.")
    province: str = Field("", description="Receiver province adcode (not with sku/category).")
    sku: str = Field("", description="SKU code.")
    category: str = Field("", description="Category code.")
    currency: str = Field("", description="Currency (default CNY).")
    by: str = Field("day", description="Breakdown: day, channel, province, sku, category.")


class SalesFiguresOut(Schema):
    orders: int
    cancelled_orders: int
    units: int
    gmv: str = Field(..., description="Goods at list price (成交额).")
    item_discounts: str
    order_discounts: str
    discounts: str
    payable: str
    average_order_value: str
    shipping: str | None = Field(None, description="None with a SKU or category filter or breakdown.")
    paid: str | None = None
    refunded: str | None = None
    net: str | None = Field(None, description="Paid less refunded.")


class SalesRowOut(Schema):
    key: str = Field(..., description="Day, channel/SKU/category code or province adcode.")
    label: str
    figures: SalesFiguresOut


class SalesReportOut(Schema):
    currency: str
    date_from: date = Field(..., alias="from")
    date_to: date = Field(..., alias="to")
    by: str
    as_of: datetime | None = Field(None, description="The figures include every change up to this time.")
    totals: SalesFiguresOut
    days: list[SalesRowOut]
    rows: list[SalesRowOut]
    top_skus: list[SalesRowOut]


def _figures_out(fig: SalesFigures, currency: str) -> dict[str, Any]:
    def money(minor: int | None) -> str | None:
        return None if minor is None else format_minor(minor, currency)

    return {
        "orders": fig.orders,
        "cancelled_orders": fig.cancelled_orders,
        "units": fig.units,
        "gmv": money(fig.goods_minor),
        "item_discounts": money(fig.line_discount_minor),
        "order_discounts": money(fig.order_discount_minor),
        "discounts": money(fig.discount_minor),
        "payable": money(fig.payable_minor),
        "average_order_value": money(fig.average_order_minor),
        "shipping": money(fig.shipping_minor),
        "paid": money(fig.received_minor),
        "refunded": money(fig.refunded_minor),
        "net": money(fig.net_minor),
    }


def _rows_out(rows: list[SalesRow], currency: str) -> list[dict[str, Any]]:
    return [{"key": r.key, "label": r.label, "figures": _figures_out(r.figures, currency)} for r in rows]


def sales_report_out(report: SalesReport) -> dict[str, Any]:
    c = report.filters.currency
    return {
        "currency": c,
        "from": report.filters.day_from,
        "to": report.filters.day_to,
        "by": report.filters.by,
        "as_of": report.as_of,
        "totals": _figures_out(report.totals, c),
        "days": _rows_out(report.days, c),
        "rows": _rows_out(report.rows, c),
        "top_skus": _rows_out(report.top_skus, c),
    }


@router.get(
    "/reports/sales",
    response=SalesReportOut,
    by_alias=True,
    summary="Sales by day, channel, province, SKU or category",
)
@require_perm("reports.view_sales_report")
def sales(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    """Orders, units, GMV, discounts, payable, paid, refunds and net for living orders (a split or merged
    order counts once, as what replaced it) by the local day they were placed."""
    return sales_report_out(sales_report(filters=report_filters_parse(request.GET)))


class StockQuery(Schema):
    warehouse: str = Field("", description="Warehouse code.")
    channel: str = Field("", description="Channel code.")
    category: str = Field("", description="Category code.")
    idle_days: int | None = Field(
        None,
        ge=1,
        le=366,
        description="A SKU with stock and no sale in this many days (1…366, default 30) is non-moving.",
    )


class StockChannelOut(Schema):
    code: str
    name: str
    skus: int
    quota: int
    sales_reserved: int = Field(..., description="销售预占")
    return_reserved: int = Field(..., description="退仓预占")
    available: int = Field(..., description="Quota less both reservations.")
    sold_out: int = Field(..., description="SKUs with nothing available.")


class StockWarehouseOut(Schema):
    code: str
    name: str
    skus: int
    on_hand: int
    reserved: int
    sellable: int
    defective: int
    in_transit: int


class StockSkuOut(Schema):
    code: str
    name: str
    units: int = Field(..., description="Units short, on hand (non-moving) or in transit.")
    orders: int = 0
    since: datetime | None = None
    age_days: int = 0
    last_sold: date | None = None


class StockAgeOut(Schema):
    from_days: int
    to_days: int | None = Field(None, description="Exclusive; None: no upper bound.")
    stockouts: int
    units: int


class StockReportOut(Schema):
    as_of: datetime
    idle_days: int
    totals: dict[str, int]
    channels: list[StockChannelOut]
    warehouses: list[StockWarehouseOut]
    stockout_ages: list[StockAgeOut]
    stockouts: list[StockSkuOut] = Field(..., description="Open stockouts by SKU, most units short first (50 at most).")
    non_moving: list[StockSkuOut] = Field(..., description="Non-moving SKUs, most units first (50 at most).")
    in_transit: list[StockSkuOut]


@router.get("/reports/stock", response=StockReportOut, summary="Stock, reservations, stockouts, non-moving SKUs")
@require_perm("reports.view_stock_report")
def stock(request: HttpRequest, query: Query[StockQuery]) -> dict[str, Any]:
    """Channel quota, sales and return reservations and what is available per channel; warehouses' stock and
    in-transit; open stockouts by SKU and by age; SKUs with stock and no sale in ``idle_days``. An unknown
    warehouse, channel, category or filter → 422 naming it."""
    r = stock_report(filters=stock_filters_parse(request.GET))
    return {
        "as_of": r.now,
        "idle_days": r.filters.idle_days,
        "totals": r.totals,
        "channels": [vars(c) for c in r.channels],
        "warehouses": [vars(w) for w in r.warehouses],
        "stockout_ages": [
            {"from_days": b.low_days, "to_days": b.high_days, "stockouts": b.stockouts, "units": b.units}
            for b in r.stockout_ages
        ],
        "stockouts": [vars(s) for s in r.stockouts],
        "non_moving": [vars(s) for s in r.idle],
        "in_transit": [vars(s) for s in r.in_transit],
    }


class OperationsQuery(Schema):
    date_from: date | None = Field(None, alias="from", description="First local day (default: 30 days to `to`).")
    date_to: date | None = Field(None, alias="to", description="Last local day, inclusive (default: today).")
    channel: str = Field("", description="Channel code.")


class StageOut(Schema):
    status: str
    label: str
    orders: int
    ages: dict[str, int] = Field(
        ..., description="Orders by time since their last change: lt1h, 1to4h, 4to24h, 1to3d, ge3d."
    )


class InterceptionReasonOut(Schema):
    reason_code: str
    reason: str
    raised: int
    open: int
    released: int
    void: int
    median_release_seconds: float | None


class TimingOut(Schema):
    orders: int = Field(..., description="Orders paid in the period that reached this step.")
    p50_seconds: float | None
    p90_seconds: float | None


class SplitMergeOut(Schema):
    operations: int
    orders: int = Field(..., description="Orders the operations made.")


class OperationsReportOut(Schema):
    date_from: date = Field(..., alias="from")
    date_to: date = Field(..., alias="to")
    as_of: datetime
    stages: list[StageOut]
    interceptions: list[InterceptionReasonOut] = Field(..., description="Holds raised in the period, by reason.")
    split: SplitMergeOut
    merge: SplitMergeOut
    unmerge: SplitMergeOut
    paid_orders: int = Field(..., description="Living sale orders paid in the period.")
    payment_to_dispatch: TimingOut
    payment_to_shipment: TimingOut


@router.get(
    "/reports/operations",
    response=OperationsReportOut,
    by_alias=True,
    summary="Stages and their age, interceptions, split/merge, payment to dispatch and shipment",
)
@require_perm("reports.view_operations_report")
def operations(request: HttpRequest, query: Query[OperationsQuery]) -> dict[str, Any]:
    """Orders per stage by time since their last change (now); for the period: interceptions by reason with
    the median time to release, split/merge operations, and p50/p90 seconds from payment to the first
    dispatch document and to the first shipment of the living sale orders paid in it. A reversed or too
    long period, an unknown channel or filter → 422 naming the field."""
    r = operations_report(filters=operations_filters_parse(request.GET))
    timings = {t.key: {"orders": t.orders, "p50_seconds": t.p50_s, "p90_seconds": t.p90_s} for t in r.timings}
    return {
        "from": r.filters.day_from,
        "to": r.filters.day_to,
        "as_of": r.now,
        "stages": [
            {
                "status": s.status,
                "label": s.label,
                "orders": s.count,
                "ages": {key: n for (key, _lo, _hi), n in zip(STAGE_AGES, s.ages, strict=True)},
            }
            for s in r.stages
        ],
        "interceptions": [
            {
                "reason_code": i.reason_code,
                "reason": i.reason,
                "raised": i.raised,
                "open": i.open,
                "released": i.released,
                "void": i.void,
                "median_release_seconds": i.median_release_s,
            }
            for i in r.interceptions
        ],
        **r.split_merge,
        "paid_orders": r.paid_orders,
        "payment_to_dispatch": timings["dispatch"],
        "payment_to_shipment": timings["shipment"],
    }


class CustomersQuery(Schema):
    date_from: date | None = Field(None, alias="from", description="First local day (default: 30 days to `to`).")
    date_to: date | None = Field(None, alias="to", description="Last local day, inclusive (default: today).")
    channel: str = Field("", description="Channel code.")
    currency: str = Field("", description="Currency (default CNY).")


class TopCustomerOut(Schema):
    customer_id: int
    name: str
    channel: str
    orders: int
    spend: str


class CustomersReportOut(Schema):
    date_from: date = Field(..., alias="from")
    date_to: date = Field(..., alias="to")
    currency: str
    customers: int = Field(..., description="Customers with a living, not cancelled sale order placed in the period.")
    repeat_customers: int = Field(..., description="Of them, those with two orders or more.")
    orders: int
    spend: str = Field(..., description="Their orders' payable.")
    orders_per_customer: dict[str, int] = Field(
        ..., description="Customers by their number of orders: 1, 2, 3, 4-5, 6+."
    )
    top: list[TopCustomerOut] = Field(..., description="The 20 customers who spent most.")


@router.get(
    "/reports/customers",
    response=CustomersReportOut,
    by_alias=True,
    summary="Repeat buyers, top customers by spend, orders per customer",
)
@require_perm("reports.view_customer_report")
def customers(request: HttpRequest, query: Query[CustomersQuery]) -> dict[str, Any]:
    """Living sale orders placed in the period and not cancelled, per customer. A reversed or too long
    period, an unknown channel, currency or filter → 422 naming the field."""
    r = customers_report(filters=customers_filters_parse(request.GET))
    c = r.filters.currency
    return {
        "from": r.filters.day_from,
        "to": r.filters.day_to,
        "currency": c,
        "customers": r.customers,
        "repeat_customers": r.repeat_customers,
        "orders": r.orders,
        "spend": format_minor(r.spend_minor, c),
        "orders_per_customer": dict(r.distribution),
        "top": [
            {
                "customer_id": t.customer_id,
                "name": t.name,
                "channel": t.channel,
                "orders": t.orders,
                "spend": format_minor(t.spend_minor, c),
            }
            for t in r.top
        ],
    }
