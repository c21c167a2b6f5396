"""Report pages (报表): parse the filters with the reports' form, read one report selector, render.

Formatting, drill-down links and chart options live in ``oms.console.report_tables``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oms.channels.models import Channel
from oms.console.permissions import console_view
from oms.console.report_tables import (
    figures_shown,
    orders_link,
    rows_shown,
    sales_breakdown_chart,
    sales_day_chart,
)
from oms.core.domain.money import format_minor
from oms.core.domain.regions import province_choices
from oms.core.errors import ValidationFailed
from oms.inventory.models import Warehouse
from oms.reports.customers import ORDER_COUNT_BUCKETS, CustomersFilterForm, customers_report
from oms.reports.forms import ReportFilterForm
from oms.reports.operations import STAGE_AGES, OperationsFilterForm, OperationsReport, operations_report
from oms.reports.sales import sales_report
from oms.reports.stock import StockReport, StockReportForm, stock_report

BREAKDOWN_LABELS = {
    "day": _("Day"),
    "channel": _("Channel"),
    "province": _("Province"),
    "sku": _("SKU"),
    "category": _("Category"),
}


@console_view("reports.view_sales_report")
def sales_page(request: HttpRequest) -> HttpResponse:
    """The sales report: chart per day, the breakdown as a chart and a table, top SKUs; every figure links
    to its orders."""
    form = ReportFilterForm(request.GET)
    context = {
        "form": form,
        "raw": request.GET,
        "breakdowns": BREAKDOWN_LABELS.items(),
        "channels": Channel.objects.order_by("code").values_list("code", "name"),
        "provinces": province_choices(),
    }
    try:
        filters = form.filters()
    except ValidationFailed as exc:
        context["errors"] = exc.details
        return render(request, "console/reports/sales.html", context, status=400)
    report = sales_report(filters=filters)
    f = report.filters
    by = f.by
    context.update(
        report=report,
        f=f,
        totals=figures_shown(report.totals, f.currency),
        totals_link=orders_link(f),
        days=rows_shown(report.days, f, "day"),
        rows=rows_shown(report.rows, f, by),
        by_label=BREAKDOWN_LABELS[by],
        top_skus=rows_shown(report.top_skus, f, "sku"),
        day_chart=sales_day_chart(report),
        breakdown_chart=sales_breakdown_chart(report.rows, f, by) if report.rows else None,
    )
    return render(request, "console/reports/sales.html", context)


def _url(name: str, *args: Any, **params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return reverse(name, args=args) + (f"?{query}" if query else "")


def _age_label(low: int, high: int | None) -> str:
    if high is None:
        return gettext("%(n)s days or more") % {"n": low}
    if low == 0:
        return gettext("Under %(n)s day") % {"n": high}
    return gettext("%(low)s to %(high)s days") % {"low": low, "high": high}


def stock_channel_chart(report: StockReport) -> dict[str, Any]:
    """Per channel: sales reserved, return reserved and available stacked to the quota."""
    rows = report.channels
    return {
        "option": {
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "legend": {"data": [gettext("Sales reserved"), gettext("Return reserved"), gettext("Available")]},
            "grid": {"left": 60, "right": 20, "top": 40, "bottom": 30},
            "xAxis": {"type": "category", "data": [r.name for r in rows]},
            "yAxis": {"type": "value", "name": gettext("Units")},
            "series": [
                {
                    "name": gettext("Sales reserved"),
                    "type": "bar",
                    "stack": "q",
                    "data": [r.sales_reserved for r in rows],
                },
                {
                    "name": gettext("Return reserved"),
                    "type": "bar",
                    "stack": "q",
                    "data": [r.return_reserved for r in rows],
                },
                {"name": gettext("Available"), "type": "bar", "stack": "q", "data": [r.available for r in rows]},
            ],
        },
        "links": [],
    }


def stockout_age_chart(report: StockReport) -> dict[str, Any]:
    """Open stockouts by how long they have waited; a click opens the stockout list."""
    labels = [_age_label(b.low_days, b.high_days) for b in report.stockout_ages]
    link = _url("console:stockouts")
    return {
        "option": {
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "legend": {"data": [gettext("Stockouts"), gettext("Units short")]},
            "grid": {"left": 50, "right": 20, "top": 40, "bottom": 30},
            "xAxis": {"type": "category", "data": labels},
            "yAxis": {"type": "value"},
            "series": [
                {"name": gettext("Stockouts"), "type": "bar", "data": [b.stockouts for b in report.stockout_ages]},
                {"name": gettext("Units short"), "type": "bar", "data": [b.units for b in report.stockout_ages]},
            ],
        },
        "links": [link for _b in report.stockout_ages],
    }


@console_view("reports.view_stock_report")
def stock_page(request: HttpRequest) -> HttpResponse:
    """The stock and reservations report: channel quotas and reservations, warehouses and in-transit,
    stockouts by SKU and age, non-moving SKUs; SKUs link to their stock, stockouts to the stockout list."""
    form = StockReportForm(request.GET)
    context: dict[str, Any] = {
        "raw": request.GET,
        "channels": Channel.objects.order_by("code").values_list("code", "name"),
        "warehouses": Warehouse.objects.order_by("code").values_list("code", "name"),
    }
    try:
        filters = form.filters()
    except ValidationFailed as exc:
        context["errors"] = exc.details
        return render(request, "console/reports/stock.html", context, status=400)
    report = stock_report(filters=filters)
    f = report.filters
    ages = [(b, _age_label(b.low_days, b.high_days)) for b in report.stockout_ages]
    context.update(
        report=report,
        f=f,
        ages=ages,
        warehouse_rows=[(w, _url("console:stock", warehouse=w.code)) for w in report.warehouses],
        stockout_rows=[
            (r, _url("console:stock_sku", r.code), _url("console:stockouts", sku=r.code)) for r in report.stockouts
        ],
        idle_rows=[(r, _url("console:stock_sku", r.code)) for r in report.idle],
        transit_rows=[(r, _url("console:stock_sku", r.code)) for r in report.in_transit],
        stockouts_link=_url("console:stockouts"),
        channel_chart=stock_channel_chart(report) if report.channels else None,
        age_chart=stockout_age_chart(report),
    )
    return render(request, "console/reports/stock.html", context)


def _duration_shown(seconds: float | None) -> str:
    """A duration as operators read it: minutes under two hours, hours under two days, else days."""
    if seconds is None:
        return "—"
    if seconds < 7200:
        return gettext("%(n)s min") % {"n": round(seconds / 60)}
    if seconds < 172800:
        return gettext("%(n)s h") % {"n": round(seconds / 3600, 1)}
    return gettext("%(n)s d") % {"n": round(seconds / 86400, 1)}


def _stage_age_labels() -> list[str]:
    labels = []
    for _key, low, high in STAGE_AGES:
        lo, hi = low.total_seconds() / 3600, None if high is None else high.total_seconds() / 3600
        if hi is None:
            labels.append(gettext("%(n)s h or more") % {"n": round(lo)})
        elif lo == 0:
            labels.append(gettext("Under %(n)s h") % {"n": round(hi)})
        else:
            labels.append(gettext("%(low)s to %(high)s h") % {"low": round(lo), "high": round(hi)})
    return labels


def stage_age_chart(report: OperationsReport, labels: list[str], links: list[str]) -> dict[str, Any]:
    """Orders per stage, stacked by how long they have sat there; a click opens that stage's orders."""
    return {
        "option": {
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "legend": {"data": labels},
            "grid": {"left": 50, "right": 20, "top": 50, "bottom": 40},
            "xAxis": {"type": "category", "data": [s.label for s in report.stages]},
            "yAxis": {"type": "value", "name": gettext("Orders")},
            "series": [
                {"name": label, "type": "bar", "stack": "age", "data": [s.ages[i] for s in report.stages]}
                for i, label in enumerate(labels)
            ],
        },
        "links": links,
    }


@console_view("reports.view_operations_report")
def operations_page(request: HttpRequest) -> HttpResponse:
    """The operations report: stages and their age, interceptions by reason and release time, split/merge
    counts, payment to dispatch and shipment times. Stages link to the order list, reasons to the
    interception queue, the timings to the orders paid in the period."""
    form = OperationsFilterForm(request.GET)
    context: dict[str, Any] = {
        "raw": request.GET,
        "channels": Channel.objects.order_by("code").values_list("code", "name"),
    }
    try:
        filters = form.filters()
    except ValidationFailed as exc:
        context["errors"] = exc.details
        return render(request, "console/reports/operations.html", context, status=400)
    report = operations_report(filters=filters)
    f = report.filters
    labels = _stage_age_labels()
    stage_links = [_url("console:orders", status=s.status, channel=f.channel) for s in report.stages]
    paid_link = _url(
        "console:orders",
        type="sale",
        living_only="1",
        paid_from=f.day_from.isoformat(),
        paid_to=f.day_to.isoformat(),
        channel=f.channel,
    )
    timing_labels = {"dispatch": gettext("Payment to dispatch"), "shipment": gettext("Payment to shipment")}
    context.update(
        report=report,
        f=f,
        age_labels=labels,
        stage_rows=list(zip(report.stages, stage_links, strict=True)),
        stage_chart=stage_age_chart(report, labels, stage_links),
        interception_rows=[
            (
                r,
                _duration_shown(r.median_release_s),
                _url("console:interceptions", reason=r.reason_code, state="open"),
            )
            for r in report.interceptions
        ],
        timing_rows=[
            (timing_labels[t.key], t, _duration_shown(t.p50_s), _duration_shown(t.p90_s)) for t in report.timings
        ],
        paid_link=paid_link,
    )
    return render(request, "console/reports/operations.html", context)


@console_view("reports.view_customer_report")
def customers_page(request: HttpRequest) -> HttpResponse:
    """The customers report: buyers, repeat buyers, orders per customer, top customers by spend (each links
    to the customer's page with their orders)."""
    form = CustomersFilterForm(request.GET)
    context: dict[str, Any] = {
        "raw": request.GET,
        "channels": Channel.objects.order_by("code").values_list("code", "name"),
    }
    try:
        filters = form.filters()
    except ValidationFailed as exc:
        context["errors"] = exc.details
        return render(request, "console/reports/customers.html", context, status=400)
    report = customers_report(filters=filters)
    f = report.filters
    labels = [key for key, _lo, _hi in ORDER_COUNT_BUCKETS]
    context.update(
        report=report,
        f=f,
        spend=format_minor(report.spend_minor, f.currency),
        top_rows=[
            (r, format_minor(r.spend_minor, f.currency), _url("console:customer_detail", r.customer_id))
            for r in report.top
        ],
        distribution_chart={
            "option": {
                "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
                "grid": {"left": 50, "right": 20, "top": 30, "bottom": 40},
                "xAxis": {"type": "category", "name": gettext("Orders"), "data": labels},
                "yAxis": {"type": "value", "name": gettext("Customers")},
                "series": [{"name": gettext("Customers"), "type": "bar", "data": [n for _k, n in report.distribution]}],
            },
            "links": [],
        },
        orders_link=_url(
            "console:orders",
            type="sale",
            living_only="1",
            placed_from=f.day_from.isoformat(),
            placed_to=f.day_to.isoformat(),
            channel=f.channel,
        ),
    )
    return render(request, "console/reports/customers.html", context)
