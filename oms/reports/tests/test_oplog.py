"""The operation log in the console: search by operator, action (or its prefix), object and time, page on,
export what the search shows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from oms.audit.services import audit_record
from oms.reports.exports.filters import operation_log_filters_parse
from oms.reports.models import ExportJob
from oms.reports.oplog import operation_log_page
from oms.reports.services import exports as export_service


@pytest.fixture
def logged(make_operator: Any) -> dict[str, Any]:
    alice, bob = make_operator("finance", username="alice"), make_operator("finance", username="bob")
    with transaction.atomic():
        for n in range(60):
            audit_record(
                actor=alice,
                action="order.cancelled",
                object_type="orders.order",
                object_id=str(n),
                object_repr=f"SO{n:04d}",
                reason="买家取消",
            )
        audit_record(
            actor=bob, action="payment.recorded", object_type="orders.payment", object_id="7", object_repr="=1+1"
        )
        audit_record(
            actor=None, action="order.shipped", object_type="orders.order", object_id="3", object_repr="SO0003"
        )
    return {"alice": alice, "bob": bob}


def _search(**params: str) -> list[Any]:
    return operation_log_page(filters=operation_log_filters_parse(params), limit=100).items


def test_search_by_operator_action_object_and_time(logged: dict[str, Any], django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        assert len(_search(operator="alice")) == 60
    assert [e.action for e in _search(operator="bob")] == ["payment.recorded"]
    assert [e.object_id for e in _search(operator="system")] == ["3"]
    assert len(_search(action="order.")) == 61
    assert [e.actor_name for e in _search(object_id="SO0003")] == ["system", "alice"]
    today = timezone.localdate()
    assert len(_search(**{"from": (today + timedelta(days=1)).isoformat()})) == 0
    assert len(_search(**{"from": today.isoformat(), "to": today.isoformat()})) == 62


def test_console_pages_and_exports_the_search(
    logged: dict[str, Any], settings: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    settings.OMS_EXPORTS = {**settings.OMS_EXPORTS, "DIR": str(tmp_path), "RUNNER": "inline"}
    client = Client()
    client.force_login(logged["alice"])
    first = client.get("/operation-log/", {"action": "order.cancelled"}).content.decode()
    assert first.count('data-testid="oplog-row"') == 50 and 'data-testid="more"' in first
    cursor = first.split("cursor=")[1].split('"')[0]
    rest = client.get("/operation-log/", {"action": "order.cancelled", "cursor": cursor}).content.decode()
    assert rest.count('data-testid="oplog-row"') == 10
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/exports/new/", {"list": "operation_log", "format": "csv", "query": "operator=bob", "back": "/"})
    job = ExportJob.objects.get()
    lines = export_service.export_path(job).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("时间,操作员,动作,对象类型")
    assert len(lines) == 2 and "payment.recorded" in lines[1] and "'=1+1" in lines[1]
    warehouse = Client()
    warehouse.force_login(logged["alice"].__class__.objects.create_user(username="nobody", password="x-y-z-1234"))
    assert warehouse.get("/operation-log/").status_code == 403
