from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import views as auth_views
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from oms.audit.verify import audit_check_last
from oms.console.permissions import console_view
from oms.console.report_tables import sales_day_chart, stage_chart
from oms.reports.domain.filters import ReportFilters
from oms.reports.sales import sales_report
from oms.reports.selectors import cash_totals, order_pipeline_board, orders_stuck
from oms.reports.shipby import ship_by_counts
from oms.review.models import Interception, InterceptionState


class LoginView(auth_views.LoginView):
    template_name = "console/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def _board_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    context: dict[str, Any] = {}
    if user.has_perm("orders.view_order"):
        context["board"] = order_pipeline_board()
        context["stuck"] = orders_stuck(limit=15)
        context["ship_by"] = ship_by_counts()
    if user.has_perm("orders.view_payment"):
        # Money that moved today and in the last 7 days: real payments only, never split/merge bookkeeping.
        today = timezone.localdate()
        context["cash"] = [
            {
                "label": label,
                "rows": [c.shown() for c in cash_totals(day_from=start, day_to=today)],
            }
            for label, start in ((_("Today"), today), (_("Last 7 days"), today - timedelta(days=6)))
        ]
    if user.has_perm("audit.view_operationlog"):
        context["audit_check"] = audit_check_last() or "never"
    if user.has_perm("review.view_interception"):
        context["holds"] = list(
            Interception.objects.filter(state=InterceptionState.OPEN)
            .values("reason_code")
            .annotate(n=Count("id"))
            .order_by("-n")
        )
    return context


def _chart_context(request: HttpRequest, board: Any) -> dict[str, Any]:
    """The dashboard's charts: sales of the last 14 days and orders per stage, for those who may see them."""
    charts: dict[str, Any] = {}
    if board is not None:
        charts["stage_chart"] = stage_chart(board)
    if request.user.has_perm("reports.view_sales_report"):
        today = timezone.localdate()
        report = sales_report(filters=ReportFilters(day_from=today - timedelta(days=13), day_to=today))
        charts["sales_chart"] = sales_day_chart(report)
    return charts


@console_view()
def home(request: HttpRequest) -> HttpResponse:
    """The tracking board (订单跟踪): where orders are, which are stuck, what holds them; charts of both."""
    context = _board_context(request)
    return render(request, "console/home.html", {**context, **_chart_context(request, context.get("board"))})


@console_view()
def home_board(request: HttpRequest) -> HttpResponse:
    """The board alone, refreshed in place by htmx so the figures stay current."""
    return render(request, "console/_board.html", _board_context(request))
