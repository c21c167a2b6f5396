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
from oms.reports.forms import report_filters_parse
from oms.reports.sales import SalesFigures, SalesReport, SalesRow, sales_report

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
