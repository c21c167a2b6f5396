"""Reads of export jobs: an operator sees their own exports (administrators see all)."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from oms.reports.models import ExportJob

RECENT = 50


def export_list(*, operator: Any, limit: int = RECENT) -> list[ExportJob]:
    qs = ExportJob.objects.all() if operator.is_superuser else ExportJob.objects.filter(operator=operator)
    return list(qs.order_by("-created_at", "-id")[:limit])


def export_get(*, pk: int, operator: Any) -> ExportJob:
    job = ExportJob.objects.filter(pk=pk).first()
    if job is None or (job.operator_id != operator.pk and not operator.is_superuser):
        raise Http404
    return job
