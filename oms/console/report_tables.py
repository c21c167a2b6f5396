"""How the console shows a report: formatted figures, the drill-down link of each figure to the matching order
list, and the ECharts options (labels in the operator's language, built here; static/reports/charts.js draws
them). No queries: everything comes from the report selectors' results."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from oms.core.domain.money import format_minor
from oms.reports.domain.filters import ReportFilters
from oms.reports.sales import SalesFigures, SalesReport, SalesRow

# The sales report's breakdown → the order list's filter it drills down with.
_DRILL_PARAM = {"channel": "channel", "province": "province", "sku": "sku", "category": "category"}


def orders_link(f: ReportFilters, *, by: str = "", key: str = "") -> str:
    """The order list showing exactly the orders behind a figure: living sale orders placed in the period
    (or on the row's day) with the report's filters and the row's own."""
    params = {
        "type": "sale",
        "living_only": "1",
        "placed_from": f.day_from.isoformat(),
        "placed_to": f.day_to.isoformat(),
        "channel": f.channel,
        "province": f.province,
        "sku": f.sku,
        "category": f.category,
    }
    if by == "day":
        params["placed_from"] = params["placed_to"] = key
    elif by in _DRILL_PARAM:
        params[_DRILL_PARAM[by]] = key
    return reverse("console:orders") + "?" + urlencode({k: v for k, v in params.items() if v})


def figures_shown(fig: SalesFigures, currency: str) -> dict[str, Any]:
    def money(minor: int | None) -> str:
        return "—" if minor is None else format_minor(minor, currency)

    return {
        "orders": fig.orders,
        "cancelled_orders": fig.cancelled_orders,
        "units": fig.units,
        "gmv": money(fig.goods_minor),
        "item_discounts": money(fig.line_discount_minor),
        "order_discounts": money(fig.order_discount_minor),
        "payable": money(fig.payable_minor),
        "average_order_value": money(fig.average_order_minor),
        "paid": money(fig.received_minor),
        "refunded": money(fig.refunded_minor),
        "net": money(fig.net_minor),
    }


def rows_shown(rows: list[SalesRow], f: ReportFilters, by: str) -> list[dict[str, Any]]:
    return [
        {
            "key": r.key,
            "label": r.label,
            "link": orders_link(f, by=by, key=r.key),
            **figures_shown(r.figures, f.currency),
        }
        for r in rows
    ]


def sales_day_chart(report: SalesReport) -> dict[str, Any]:
    """Payable per day as bars, orders as a line on a second axis; a click opens that day's orders."""
    f = report.filters
    return {
        "option": {
            "tooltip": {"trigger": "axis"},
            "legend": {"data": [_("Payable"), _("Orders")]},
            "grid": {"left": 60, "right": 50, "top": 40, "bottom": 30},
            "xAxis": {"type": "category", "data": [r.key for r in report.days]},
            "yAxis": [{"type": "value", "name": f.currency}, {"type": "value", "name": _("Orders")}],
            "series": [
                {
                    "name": _("Payable"),
                    "type": "bar",
                    "data": [format_minor(r.figures.payable_minor, f.currency) for r in report.days],
                },
                {"name": _("Orders"), "type": "line", "yAxisIndex": 1, "data": [r.figures.orders for r in report.days]},
            ],
        },
        "links": [orders_link(f, by="day", key=r.key) for r in report.days],
    }


def sales_breakdown_chart(rows: list[SalesRow], f: ReportFilters, by: str, top: int = 10) -> dict[str, Any]:
    """The breakdown's largest rows by payable as horizontal bars; a click opens that row's orders."""
    shown = list(reversed(rows[:top]))
    return {
        "option": {
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "grid": {"left": 160, "right": 30, "top": 10, "bottom": 30},
            "xAxis": {"type": "value", "name": f.currency},
            "yAxis": {"type": "category", "data": [r.label for r in shown]},
            "series": [
                {
                    "name": _("Payable"),
                    "type": "bar",
                    "data": [format_minor(r.figures.payable_minor, f.currency) for r in shown],
                }
            ],
        },
        "links": [orders_link(f, by=by, key=r.key) for r in shown],
    }


def stage_chart(board: list[Any]) -> dict[str, Any]:
    """Orders per lifecycle stage (and how many of them are stuck) as bars; a click opens that stage's orders."""
    return {
        "option": {
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "legend": {"data": [_("Orders"), _("Stuck")]},
            "grid": {"left": 50, "right": 20, "top": 40, "bottom": 40},
            "xAxis": {"type": "category", "data": [s.label for s in board]},
            "yAxis": {"type": "value"},
            "series": [
                {"name": _("Orders"), "type": "bar", "data": [s.count for s in board]},
                {
                    "name": _("Stuck"),
                    "type": "bar",
                    "data": [s.stuck for s in board],
                    "itemStyle": {"color": "#c0392b"},
                },
            ],
        },
        "links": [reverse("console:orders") + "?" + urlencode({"status": s.status}) for s in board],
    }
