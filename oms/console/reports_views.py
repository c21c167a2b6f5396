"""Report pages (报表): parse the filters with the reports' form, read one report selector, render.

Formatting, drill-down links and chart options live in ``oms.console.report_tables``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
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
from oms.core.domain.regions import province_choices
from oms.core.errors import ValidationFailed
from oms.reports.forms import ReportFilterForm
from oms.reports.sales import sales_report

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
