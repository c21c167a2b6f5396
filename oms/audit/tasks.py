"""Periodic check of the operation log's hash chain (OMS_AUDIT_VERIFY_INTERVAL_S); the console shows the last."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from oms.audit.verify import audit_check_run


@shared_task(name="audit.verify", ignore_result=True)
def verify() -> dict[str, Any]:
    check = audit_check_run()
    return {"ok": check.ok, "rows": check.rows, "problems": len(check.problems)}
