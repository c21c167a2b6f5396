"""Exports of console lists (导出): requested in a request, written in the background, downloaded when done.

``export_request`` checks the list, format and permission, refuses an export of nothing (``export_empty``)
and a second identical export while the first is queued or running (``export_running``, guarded by a partial
unique index so two requests at once cannot both pass), records the request in the operation log and
schedules ``export_run`` after commit: a Celery task with a broker, else a thread of this process (or inline,
``OMS_EXPORTS["RUNNER"] = "inline"``). ``export_run`` claims the job with one conditional update, streams
the rows to the file and reports progress every few thousand rows; any failure leaves the job failed with
its code, and ``export_retry`` queues it again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone, translation

from oms.audit.services import audit_record
from oms.core.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from oms.reports import actions
from oms.reports.exports.lists import EXPORTS, ListExport
from oms.reports.exports.writers import FORMATS, write_rows
from oms.reports.models import ExportJob, ExportState

logger = logging.getLogger("oms.reports.exports")
PROGRESS_EVERY = 5_000
# Query-string parameters that page or sort a list but do not choose its rows.
NOT_FILTERS = frozenset({"cursor", "page", "format", "list", "lang"})


def _config() -> dict[str, Any]:
    return dict(getattr(settings, "OMS_EXPORTS", {}))


def export_dir() -> Path:
    path = Path(_config().get("DIR") or Path(settings.VAR_DIR) / "exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_path(job: ExportJob) -> Path:
    return export_dir() / job.file_name


def _spec(list_name: str, fmt: str) -> ListExport:
    problems = []
    if list_name not in EXPORTS:
        problems.append(FieldError("list", "No such list to export.", "unknown_list"))
    if fmt not in FORMATS:
        problems.append(FieldError("format", "Export as csv or xlsx.", "unknown_format"))
    if problems:
        raise ValidationFailed("The export request is invalid.", details=problems)
    return EXPORTS[list_name]


def _filters(params: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in sorted(params.items()) if k not in NOT_FILTERS and str(v) != ""}


def _fingerprint(operator_id: int, list_name: str, fmt: str, params: dict[str, str], language: str) -> str:
    text = json.dumps([operator_id, list_name, fmt, params, language], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def export_request(
    *, operator: Any, list_name: str, fmt: str, params: Mapping[str, Any], language: str = "zh-hans"
) -> ExportJob:
    """Queue an export of ``list_name`` as shown under ``params``; raises what refuses it."""
    spec = _spec(list_name, fmt)
    if not operator.has_perm(spec.perm):
        raise PermissionDenied(f"You lack the permission {spec.perm} to export this list.")
    filters = _filters(params)
    total = spec.count(filters)
    if total == 0:
        raise ValidationFailed("Nothing to export: the list is empty with these filters.", code="export_empty")
    job = ExportJob(
        operator=operator,
        list_name=list_name,
        fmt=fmt,
        params=filters,
        language=language,
        fingerprint=_fingerprint(operator.pk, list_name, fmt, filters, language),
        total_rows=total,
    )
    try:
        with transaction.atomic():
            job.save()
            job.file_name = f"{job.pk}-{list_name}.{fmt}"
            job.save(update_fields=["file_name"])
            audit_record(
                actor=operator, action=actions.EXPORT_REQUESTED, obj=job, after={"filters": filters, "rows": total}
            )
            transaction.on_commit(lambda: export_schedule(job.pk))
    except IntegrityError:
        raise _already_running(job.fingerprint) from None
    return job


def _already_running(fingerprint: str) -> Conflict:
    running = ExportJob.objects.filter(
        fingerprint=fingerprint, state__in=[ExportState.QUEUED, ExportState.RUNNING]
    ).first()
    return Conflict(
        "The same export is already running; wait for it to finish.",
        code="export_running",
        extra={"export_id": running.pk if running else None},
    )


def export_retry(*, job: ExportJob, operator: Any) -> ExportJob:
    """Queue a failed export again (the operator who asked for it, or anyone with the same permission)."""
    if job.state != ExportState.FAILED:
        raise Conflict("Only a failed export can be retried.", code="export_not_failed")
    try:
        with transaction.atomic():
            claimed = ExportJob.objects.filter(pk=job.pk, state=ExportState.FAILED).update(
                state=ExportState.QUEUED, error_code="", rows_written=0, finished_at=None
            )
            if claimed:
                audit_record(actor=operator, action=actions.EXPORT_RETRIED, obj=job)
                transaction.on_commit(lambda: export_schedule(job.pk))
    except IntegrityError:
        raise _already_running(job.fingerprint) from None
    job.refresh_from_db()
    return job


def export_schedule(job_id: int) -> None:
    runner = _config().get("RUNNER") or ("celery" if settings.CELERY_BROKER_URL else "thread")
    if runner == "celery":
        from oms.reports.tasks import export_run_task

        export_run_task.delay(job_id)
    elif runner == "thread":
        threading.Thread(target=_run_in_thread, args=(job_id,), name=f"oms-export-{job_id}", daemon=True).start()
    else:
        export_run(job_id)


def _run_in_thread(job_id: int) -> None:
    try:
        export_run(job_id)
    finally:
        connection.close()


def _progress(job_id: int, rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    last = time.monotonic()
    for n, row in enumerate(rows, start=1):
        yield row
        if n % PROGRESS_EVERY == 0 and time.monotonic() - last >= 0.5:
            ExportJob.objects.filter(pk=job_id).update(rows_written=n)
            last = time.monotonic()


def export_run(job_id: int) -> ExportJob | None:
    """Write the export's file. Claims the job (queued → running) with one conditional update, so a job runs
    once however many workers are told about it."""
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportState.QUEUED).update(
        state=ExportState.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    job = ExportJob.objects.get(pk=job_id)
    spec, path = EXPORTS[job.list_name], export_path(job)
    try:
        with translation.override(job.language):
            headers, title = [str(c.label) for c in spec.columns], str(spec.label)
        written = write_rows(job.fmt, path, headers, _progress(job.pk, spec.rows(job.params)), title=title)
    except Exception:
        logger.exception("export %s failed", job_id)
        path.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job_id).update(
            state=ExportState.FAILED, error_code="write_failed", finished_at=timezone.now()
        )
    else:
        ExportJob.objects.filter(pk=job_id).update(
            state=ExportState.DONE,
            rows_written=written,
            total_rows=written,
            file_bytes=path.stat().st_size,
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job
