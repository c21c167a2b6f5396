"""Orders per status in one statement, each count capped: a scalar subquery per status that stops after
``cap`` rows, so every count is an index-only walk of at most ``cap`` entries of (status, created_at, id)
however many orders there are. Plain SQL both SQLite and PostgreSQL run; statuses are parameters."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from oms.orders.models import Order


def status_counts_capped(statuses: Sequence[str], cap: int) -> dict[str, int]:
    if not statuses:
        return {}
    table = connection.ops.quote_name(Order._meta.db_table)
    one = f"(SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE status = %s LIMIT %s) AS capped)"  # noqa: S608
    sql = "SELECT " + ", ".join([one] * len(statuses))
    params: list[str | int] = []
    for status in statuses:
        params += [status, cap]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return dict(zip(statuses, row, strict=True))
