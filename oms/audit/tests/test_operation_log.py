from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from oms.audit.models import AppendOnlyError, OperationLog
from oms.audit.services import AuditOutsideTransaction, audit_record
from oms.core.context import request_context


def _write(actor: Any, **kwargs: Any) -> OperationLog:
    with transaction.atomic():
        return audit_record(actor=actor, **kwargs)


def test_record_carries_actor_object_values_and_request_context(admin_operator: Any) -> None:
    with request_context(channel="api", client_address="10.1.2.3", request_id="req-42"):
        row = _write(admin_operator, action="warehouse.change", obj=admin_operator, before={"a": 1}, after={"a": 2})
    row.refresh_from_db()
    assert row.actor == admin_operator
    assert row.actor_name == "boss"
    assert row.object_type == "accounts.operator"
    assert row.object_id == str(admin_operator.pk)
    assert (row.before, row.after) == ({"a": 1}, {"a": 2})
    assert (row.request_id, row.client_address, row.via) == ("req-42", "10.1.2.3", "api")


def test_record_outside_a_transaction_is_refused(transactional_db: Any) -> None:
    with pytest.raises(AuditOutsideTransaction):
        audit_record(actor=None, action="x.y")


def test_rolled_back_change_leaves_no_log_row(db: Any) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor="system", action="thing.do")
        raise RuntimeError("the change failed")
    assert not OperationLog.objects.filter(action="thing.do").exists()


def test_application_refuses_update_and_delete(db: Any) -> None:
    row = _write("system", action="a.b")
    row.reason = "tampered"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        OperationLog.objects.filter(pk=row.pk).update(reason="tampered")
    with pytest.raises(AppendOnlyError):
        OperationLog.objects.all().delete()
    row.refresh_from_db()
    assert row.reason == ""


@pytest.mark.postgres
def test_postgres_trigger_refuses_raw_update_and_delete(db: Any) -> None:
    row = _write("system", action="a.b")
    for sql in (
        "UPDATE audit_operationlog SET reason = 'x' WHERE id = %s",
        "DELETE FROM audit_operationlog WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [row.pk])
    assert OperationLog.objects.filter(pk=row.pk, reason="").exists()


def test_admin_changes_are_logged_with_before_and_after(admin_operator: Any, client: Any) -> None:
    from oms.inventory.models import Subsidiary

    client.force_login(admin_operator)
    response = client.post("/admin/inventory/subsidiary/add/", {"code": "EAST", "name": "华东分公司", "tax_id": ""})
    assert response.status_code == 302
    sub = Subsidiary.objects.get(code="EAST")
    response = client.post(
        f"/admin/inventory/subsidiary/{sub.pk}/change/", {"code": "EAST", "name": "华东公司", "tax_id": ""}
    )
    assert response.status_code == 302
    rows = list(OperationLog.objects.filter(object_type="inventory.subsidiary").order_by("id"))
    assert [r.action for r in rows] == ["subsidiary.create", "subsidiary.change"]
    assert rows[1].before == {"name": "华东分公司"} and rows[1].after == {"name": "华东公司"}
    assert rows[1].actor == admin_operator


def test_admin_search_by_actor_and_action(admin_operator: Any, client: Any) -> None:
    _write(admin_operator, action="order.cancel", object_repr="SO1")
    _write("system", action="stock.adjust", object_repr="SKU1")
    client.force_login(admin_operator)
    page = client.get("/admin/audit/operationlog/", {"q": "order.cancel"}).content.decode()
    assert "SO1" in page and "SKU1" not in page
    page = client.get("/admin/audit/operationlog/", {"action": "stock.adjust"}).content.decode()
    assert "SKU1" in page and "SO1" not in page
