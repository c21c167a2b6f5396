"""Exports in the console: the export buttons post here; the exports page shows progress and the download.

Each view parses, calls one service or selector, and renders; what an export holds is decided by
``oms.reports.exports.lists`` from the list's own query string."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from oms.console.permissions import console_view
from oms.core.errors import ApplicationError
from oms.reports.exports.lists import EXPORTS
from oms.reports.exports.selectors import export_get, export_list
from oms.reports.services.exports import export_path, export_request, export_retry

ERROR_MESSAGES = {
    "export_empty": gettext_lazy("Nothing to export: the list is empty with these filters."),
    "export_running": gettext_lazy("The same export is already running; wait for it to finish."),
    "export_not_failed": gettext_lazy("Only a failed export can be retried."),
    "write_failed": gettext_lazy("Writing the file failed."),
}


def _message(exc: ApplicationError) -> str:
    return str(ERROR_MESSAGES.get(exc.code, exc.message))


@require_POST
@console_view()
def export_create(request: HttpRequest) -> HttpResponse:
    """Queue an export of a list with the filters it is showing (its query string, posted as ``query``)."""
    back = request.POST.get("back", "") or "/"
    language = "en" if request.POST.get("lang") == "en" else "zh-hans"
    try:
        job = export_request(
            operator=request.user,
            list_name=request.POST.get("list", ""),
            fmt=request.POST.get("format", ""),
            params=QueryDict(request.POST.get("query", "")).dict(),
            language=language,
        )
    except ApplicationError as exc:
        messages.error(request, _message(exc))
        return redirect(back if back.startswith("/") and not back.startswith("//") else "/")
    messages.success(request, _("Export queued: %(rows)s rows.") % {"rows": job.total_rows})
    return redirect("console:exports")


@console_view()
def export_index(request: HttpRequest) -> HttpResponse:
    """The operator's exports, newest first, with progress; refreshes itself while any is unfinished."""
    jobs = export_list(operator=request.user)
    context = {
        "jobs": jobs,
        "labels": {name: spec.label for name, spec in EXPORTS.items()},
        "errors": ERROR_MESSAGES,
        "busy": any(j.state in ("queued", "running") for j in jobs),
    }
    template = "console/exports/_table.html" if getattr(request, "htmx", False) else "console/exports/list.html"
    return render(request, template, context)


@console_view()
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = export_get(pk=pk, operator=request.user)
    path = export_path(job)
    if job.state != "done" or not path.exists():
        raise Http404
    name = f"{EXPORTS[job.list_name].label}-{job.created_at:%Y%m%d-%H%M}.{job.fmt}"
    response: Any = FileResponse(path.open("rb"), as_attachment=True, filename=name)
    return response  # a streaming response, served like any other


@require_POST
@console_view()
def export_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = export_get(pk=pk, operator=request.user)
    try:
        export_retry(job=job, operator=request.user)
        messages.success(request, _("Export queued again."))
    except ApplicationError as exc:
        messages.error(request, _message(exc))
    return redirect("console:exports")
