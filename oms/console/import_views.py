"""导入订单: upload an order file; it is imported in the background and its page shows the progress (htmx
polls while it runs), then the counts and the row-level report."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from oms.console.permissions import console_view
from oms.core.errors import ApplicationError
from oms.core.texts import error_render
from oms.orders.models import ImportJob, ImportState
from oms.orders.services.import_jobs import MAX_IMPORT_BYTES, import_job_create

RECENT = 20


def _jobs_of(request: HttpRequest) -> list[ImportJob]:
    """The operator's own jobs (an administrator sees everyone's)."""
    jobs = ImportJob.objects.select_related("operator").defer("content", "report").order_by("-created_at", "-id")
    if not request.user.has_perm("orders.view_importjob"):
        jobs = jobs.filter(operator_id=int(request.user.pk or 0))
    return list(jobs[:RECENT])


@console_view("orders.import_orders")
def order_import(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a CSV or XLSX file."))
        elif upload.size is not None and upload.size > MAX_IMPORT_BYTES:
            messages.error(request, _("The file is larger than 50 MB; use the command line: oms import orders FILE."))
        else:
            try:
                job = import_job_create(content=upload.read(), filename=upload.name or "", actor=request.user)
            except ApplicationError as exc:
                messages.error(request, error_render(exc))
            else:
                return redirect("console:orders_import_job", pk=job.pk)
    return render(request, "console/orders/import.html", {"jobs": _jobs_of(request)})


@console_view("orders.import_orders")
def order_import_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = ImportJob.objects.select_related("operator").defer("content").filter(pk=pk).first()
    if job is None or (job.operator_id != request.user.pk and not request.user.has_perm("orders.view_importjob")):
        raise Http404
    running = job.state in (ImportState.QUEUED, ImportState.RUNNING)
    context = {"job": job, "running": running, "report": job.report[:1000]}
    if request.htmx:  # type: ignore[attr-defined]  # the poll: the progress card only
        return render(request, "console/orders/_import_job.html", context)
    return render(request, "console/orders/import_job.html", context)
