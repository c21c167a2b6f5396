"""Ship-by deadlines in the console (发货超时): the at-risk and overdue orders, most urgent first."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from oms.console.permissions import console_view
from oms.orders.domain.status import STATUS_LABELS, Status
from oms.reports.shipby import STATES, ship_by_counts, ship_by_list


@console_view("orders.view_order")
def ship_by_index(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    state = state if state in STATES else "overdue"
    now = timezone.now()
    rows = [
        {
            "order": r.order,
            "status_label": STATUS_LABELS[Status(r.order.status)][0],
            "deadline": r.deadline,
            "hours_left": round((r.deadline - now).total_seconds() / 3600, 1),
        }
        for r in ship_by_list(state=state, now=now)
    ]
    return render(
        request, "console/shipby/list.html", {"rows": rows, "state": state, "counts": ship_by_counts(now=now)}
    )
