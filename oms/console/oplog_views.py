"""The operation log in the console (日志管理, P3): search by operator, action, object and time; export."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from oms.console.permissions import console_view
from oms.core.errors import ApplicationError
from oms.reports.exports.filters import operation_log_filters_parse
from oms.reports.oplog import operation_log_page


@console_view("audit.view_operationlog")
def operation_log_index(request: HttpRequest) -> HttpResponse:
    filters = operation_log_filters_parse(request.GET.dict())
    try:
        page = operation_log_page(filters=filters, cursor=request.GET.get("cursor", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        page = operation_log_page(filters=filters)
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {"page": page, "f": filters, "raw": request.GET, "query": params.urlencode()}
    template = "console/oplog/_rows.html" if getattr(request, "htmx", False) else "console/oplog/list.html"
    return render(request, template, context)
