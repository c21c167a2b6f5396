"""Order files imported in the background (导入任务): the upload is stored with the job, a worker reads it
and imports it in chunks, writing progress as it goes; the console polls the job. A job whose worker died
is taken over by the task's redelivery (acks late) after ``STALE_AFTER``; re-importing is safe because
intake dedupes on the platform order id, so orders already in count as "already imported"."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from oms.core.actors import Actor, actor_user
from oms.core.errors import FieldError, ValidationFailed
from oms.orders.models import ImportJob, ImportState
from oms.orders.services.file_import import ImportSummary, UnreadableFile, orders_import_file

MAX_IMPORT_BYTES = 50 * 1024 * 1024
SUFFIXES = (".csv", ".xlsx", ".xlsm")
REPORT_KEEP = 10_000  # report rows kept on the job (the counts are always whole)
STALE_AFTER = timedelta(minutes=10)


def import_job_create(*, content: bytes, filename: str, actor: Actor) -> ImportJob:
    """Store the file as a job and queue its import (after the job commits). Refuses an unsupported file
    type, an empty file or one over ``MAX_IMPORT_BYTES``, naming the field."""
    name = Path(filename or "").name[:255]
    if Path(name).suffix.lower() not in SUFFIXES:
        raise ValidationFailed(
            "Use a .csv or .xlsx file.",
            details=[FieldError("file", f"Unsupported file type {Path(name).suffix!r}.", "file_type")],
        )
    if not content:
        raise ValidationFailed("The file is empty.", details=[FieldError("file", "The file is empty.", "required")])
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationFailed(
            "The file is too large.",
            details=[FieldError("file", f"At most {MAX_IMPORT_BYTES // (1024 * 1024)} MB per file.", "too_large")],
        )
    user = actor_user(actor)
    if user is None:
        raise ValidationFailed(
            "An import needs an operator.", details=[FieldError("operator", "Required.", "required")]
        )
    with transaction.atomic():
        job = ImportJob.objects.create(operator=user, filename=name, content=content)
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from oms.orders.tasks import import_job_run

    import_job_run.delay(job_id)


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Claim the job (queued, or running but stale: its worker died) and import its file; None when another
    worker holds it or it has ended."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(
        Q(state=ImportState.QUEUED) | Q(state=ImportState.RUNNING, started_at__lt=now - STALE_AFTER), pk=job_id
    ).update(state=ImportState.RUNNING, started_at=now, done=0)
    if not claimed:
        return None
    job = ImportJob.objects.select_related("operator").get(pk=job_id)

    def progress(summary: ImportSummary, done: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(
            rows=summary.rows, orders=summary.orders, done=done, created=summary.created,
            existing=summary.existing, failed=summary.failed, started_at=timezone.now(),
        )  # fmt: skip

    try:
        summary = orders_import_file(
            stream=io.BytesIO(bytes(job.content)), filename=job.filename, actor=job.operator, on_progress=progress
        )
    except (UnreadableFile, ValueError, KeyError) as exc:
        ImportJob.objects.filter(pk=job_id).update(
            state=ImportState.FAILED, error=str(exc)[:500], content=b"", finished_at=timezone.now()
        )
    else:
        report: list[list[Any]] = [[r.row, r.platform_order_id, r.column, r.message] for r in summary.report]
        ImportJob.objects.filter(pk=job_id).update(
            state=ImportState.DONE, rows=summary.rows, orders=summary.orders, done=summary.orders,
            created=summary.created, existing=summary.existing, failed=summary.failed,
            report=report[:REPORT_KEEP], content=b"", finished_at=timezone.now(),
        )  # fmt: skip
    job.refresh_from_db()
    return job
