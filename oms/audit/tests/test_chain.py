"""Tamper evidence of the operation log (issue 17, item 4): a hash chain over the rows, linked in the writing
transaction; `oms audit verify` finds a changed, removed, inserted or back-dated row; on PostgreSQL the chain
is right under concurrent writers, back-dated inserts and TRUNCATE are refused, and a role that does not own
the table cannot switch the triggers off."""

from __future__ import annotations

import threading
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from oms.audit.domain.chain import GENESIS, content_digest, link_hash
from oms.audit.models import AuditCheck, ChainHead, OperationLog
from oms.audit.services import audit_record, audit_record_many
from oms.audit.verify import audit_check_run, audit_verify

pytestmark = pytest.mark.django_db(transaction=True)


def _write(n: int, actor: Any = "system", action: str = "thing.do") -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(actor=actor, action=action, object_type="t", object_id=i, after={"i": i, "note": "价格"})


def _raw(sql: str, params: list[Any] | None = None) -> None:
    """A change behind the application's back: on PostgreSQL with the user triggers off (superuser/owner)."""
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if pg:
            cursor.execute("ALTER TABLE audit_operationlog DISABLE TRIGGER USER")
        try:
            with transaction.atomic():
                cursor.execute(sql, params or [])
        finally:
            if pg:
                cursor.execute("ALTER TABLE audit_operationlog ENABLE TRIGGER USER")


def _kinds() -> list[str]:
    return [p["kind"] for p in audit_verify().problems]


def test_rows_are_chained_in_their_transaction_and_verify_finds_them_intact(admin_operator: Any) -> None:
    _write(3, actor=admin_operator)
    with transaction.atomic():
        audit_record_many(
            actor="system", action="many.do", entries=[(admin_operator, None, {"n": n}, "") for n in range(4)]
        )
    rows = list(OperationLog.objects.order_by("seq"))
    assert [r.seq for r in rows] == list(range(1, 8))
    assert rows[0].prev_hash == GENESIS and all(b.prev_hash == a.row_hash for a, b in pairwise(rows))
    assert ChainHead.objects.get(pk=1).seq == 7 and ChainHead.objects.get(pk=1).hash == rows[-1].row_hash
    report = audit_verify()
    assert (report.ok, report.rows, report.problems) == (True, 7, [])


def test_a_changed_row_is_found(db: Any) -> None:
    _write(5)
    _raw("UPDATE audit_operationlog SET reason = 'nothing happened' WHERE seq = 3")
    assert _kinds() == ["changed"]


def test_a_change_with_its_hashes_recomputed_breaks_the_next_link(db: Any) -> None:
    _write(5)
    row = OperationLog.objects.values().get(seq=3)
    row["after"] = {"i": 999}
    content = content_digest(row)
    _raw("UPDATE audit_operationlog SET after = %s, content_hash = %s WHERE seq = 3", ['{"i": 999}', content])
    assert _kinds() == ["link_forged"]
    _raw("UPDATE audit_operationlog SET row_hash = %s WHERE seq = 3", [link_hash(3, row["prev_hash"], content)])
    assert _kinds() == ["link_broken"]


def test_removed_rows_are_found_in_the_middle_and_at_the_end(db: Any) -> None:
    _write(6)
    _raw("DELETE FROM audit_operationlog WHERE seq IN (2, 3)")
    problems = audit_verify().problems
    assert problems == [{"kind": "removed", "seq_from": 2, "seq_to": 3}]
    _raw("DELETE FROM audit_operationlog WHERE seq = 6")
    assert _kinds() == ["removed", "tail_removed"]


def test_a_row_inserted_behind_the_back_is_outside_the_chain(db: Any) -> None:
    _write(2)
    _raw(
        "INSERT INTO audit_operationlog (at, actor_name, action, object_type, object_id, object_repr, reason, "
        "request_id, client_address, via, content_hash, prev_hash, row_hash) "
        "VALUES (%s, 'x', 'order.cancel', '', '', '', '', '', '', '', '', '', '')",
        [timezone.now()],
    )
    assert _kinds() == ["outside_chain"]


def test_a_back_dated_row_is_found_even_with_every_hash_right(db: Any) -> None:
    _write(2)
    head = ChainHead.objects.get(pk=1)
    at = timezone.now() - timedelta(days=30)
    row = {"at": at, "actor_id": None, "actor_name": "boss", "action": "order.cancel", "object_type": "",
           "object_id": "", "object_repr": "", "before": None, "after": None, "reason": "", "request_id": "",
           "client_address": "", "via": ""}  # fmt: skip
    content = content_digest(row)
    link = link_hash(head.seq + 1, head.hash, content)
    _raw(
        "INSERT INTO audit_operationlog (at, actor_name, action, object_type, object_id, object_repr, reason, "
        "request_id, client_address, via, content_hash, seq, prev_hash, row_hash, chained_at) "
        "VALUES (%s, 'boss', 'order.cancel', '', '', '', '', '', '', '', %s, %s, %s, %s, %s)",
        [at, content, head.seq + 1, head.hash, link, timezone.now()],
    )
    ChainHead.objects.filter(pk=1).update(seq=head.seq + 1, hash=link)
    assert _kinds() == ["backdated"]


def test_the_command_and_the_periodic_check_report_and_the_console_shows_it(admin_operator: Any) -> None:
    _write(3)
    call_command("audit_verify")
    assert AuditCheck.objects.get().ok
    client = Client()
    client.force_login(admin_operator)
    first = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "badge ok" in first.split('data-testid="audit-check"')[1][:400]
    _raw("UPDATE audit_operationlog SET action = 'x.y' WHERE seq = 2")
    with pytest.raises(CommandError):
        call_command("audit_verify")
    check = audit_check_run()
    assert not check.ok and check.problems[0]["kind"] == "changed"
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="audit-check"' in page and "badge bad" in page.split('data-testid="audit-check"')[1][:400]


@pytest.mark.postgres
def test_postgres_refuses_back_dated_inserts_and_truncate_and_a_non_owner_cannot_switch_triggers_off(
    db: Any,
) -> None:
    _write(2)
    with pytest.raises(DatabaseError, match="at its own time"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_operationlog (at, actor_name, action, object_type, object_id, object_repr, reason, "
            "request_id, client_address, via, content_hash, prev_hash, row_hash) "
            "VALUES (now() - interval '30 days', 'x', 'a', '', '', '', '', '', '', '', '', '', '')"
        )
    with connection.cursor() as cursor:
        cursor.execute("DROP ROLE IF EXISTS oms_test_app")
        cursor.execute("CREATE ROLE oms_test_app NOSUPERUSER NOLOGIN")
        cursor.execute("GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON audit_operationlog TO oms_test_app")
    try:
        for sql, message in (
            ("TRUNCATE audit_operationlog", "append-only"),
            ("DELETE FROM audit_operationlog", "append-only"),
            ("SET LOCAL session_replication_role = replica", "permission denied"),
            ("ALTER TABLE audit_operationlog DISABLE TRIGGER USER", "must be owner"),
        ):
            with pytest.raises(DatabaseError, match=message), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL ROLE oms_test_app")
                cursor.execute(sql)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("REVOKE ALL ON audit_operationlog FROM oms_test_app")
            cursor.execute("DROP ROLE oms_test_app")
    assert OperationLog.objects.count() == 2 and audit_verify().ok


@pytest.mark.postgres
def test_concurrent_writers_chain_correctly_on_postgres(admin_operator: Any) -> None:
    threads_n, per_thread = 8, 15
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    audit_record(actor="system", action="race.write", object_id=f"{t}-{i}")
                    if i % 3 == 0:
                        audit_record_many(
                            actor="system", action="race.many", entries=[(admin_operator, None, None, "")]
                        )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    total = threads_n * (per_thread + 5)
    assert OperationLog.objects.count() == total
    assert sorted(OperationLog.objects.values_list("seq", flat=True)) == list(range(1, total + 1))
    report = audit_verify()
    assert (report.ok, report.rows) == (True, total)


@pytest.mark.postgres
def test_setup_creates_an_application_role_that_writes_rows_but_cannot_touch_the_guards(db: Any) -> None:
    call_command("oms_setup", app_role="oms_test_app_role", verbosity=0)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL ROLE oms_test_app_role")
            audit_record(actor="system", action="as.app")
        assert audit_verify().ok
        for statement, message in (
            ("TRUNCATE audit_operationlog", "permission denied"),
            ("ALTER TABLE audit_operationlog DISABLE TRIGGER USER", "must be owner"),
            ("SET LOCAL session_replication_role = replica", "permission denied"),
            ("UPDATE audit_operationlog SET reason = 'x'", "append-only"),
        ):
            with pytest.raises(DatabaseError, match=message), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL ROLE oms_test_app_role")
                cursor.execute(statement)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP OWNED BY oms_test_app_role")
            cursor.execute("DROP ROLE oms_test_app_role")
