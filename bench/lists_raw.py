"""The raw baseline of the lists benchmark: the same page as the API's, one hand-written SQL statement over
psycopg (the detail: its five reads), with the indexes the schema has."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

PAGE = 51  # 50 rows and the look-ahead row

COLUMNS = "o.*, ch.code, ch.name, cu.platform_buyer_id, cu.nickname"


class RawLists:
    def __init__(self) -> None:
        import psycopg
        from django.db import connection

        p = connection.settings_dict
        self.conn = psycopg.connect(
            dbname=p["NAME"], user=p["USER"] or "postgres", host=p.get("HOST") or None, port=p.get("PORT") or None,
            password=p.get("PASSWORD") or None, autocommit=True, options="-c jit=off",
        )  # fmt: skip

    def close(self) -> None:
        self.conn.close()

    def page(self, q: dict[str, Any]) -> int:
        if "detail" in q:
            return self.detail(q["detail"])
        key = "paid_at" if q.get("paid_from") else "created_at"  # as the list: by payment time when filtered by it
        where, params = self._where(q)
        sql = (
            f"SELECT {COLUMNS} FROM orders_order o JOIN channels_channel ch ON ch.id = o.channel_id"
            f" LEFT JOIN orders_customer cu ON cu.id = o.customer_id WHERE {' AND '.join(where) or 'true'}"
            f" ORDER BY o.{key} DESC, o.id DESC LIMIT {PAGE}"
        )
        return len(self.conn.execute(sql, params).fetchall())

    def _where(self, q: dict[str, Any]) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []

        def add(sql: str, *values: Any) -> None:
            where.append(sql)
            params.extend(values)

        if q.get("status"):
            add("o.status = %s", q["status"])
        if q.get("channel"):
            add("o.channel_id = (SELECT id FROM channels_channel WHERE code = %s)", q["channel"])
        if q.get("order_type"):
            add("o.order_type = %s", q["order_type"])
        for field, column in (("created", "created_at"), ("paid", "paid_at")):
            if q.get(f"{field}_from"):
                add(f"o.{column} >= %s AND o.{column} < %s", _day(q[f"{field}_from"]), _day(q[f"{field}_to"], 1))
        if q.get("platform_order_id"):
            add(
                "o.id IN (SELECT order_id FROM orders_orderplatformref WHERE platform_order_id = %s)",
                q["platform_order_id"],
            )
        if q.get("buyer_phone"):
            add("o.receiver_phone = %s", q["buyer_phone"])
        if q.get("sku"):
            sku = self.conn.execute("SELECT id FROM catalog_sku WHERE code = %s", [q["sku"]]).fetchone()
            add("o.id IN (SELECT order_id FROM orders_orderline WHERE sku_id = %s)", sku[0] if sku else 0)
        if q.get("living_only"):
            add("NOT EXISTS (SELECT 1 FROM splitmerge_orderlineage l WHERE l.parent_id = o.id)")
        if q.get("cursor"):
            created, pk = _cursor(q["cursor"])
            add("(o.created_at, o.id) < (%s, %s)", created, pk)
        if q.get("q"):
            term = q["q"]
            branches = [
                "SELECT id FROM orders_order WHERE number = %(t)s",
                "SELECT order_id FROM orders_orderplatformref WHERE platform_order_id = %(t)s",
                "SELECT id FROM orders_order WHERE receiver_phone = %(t)s",
                "SELECT id FROM orders_order WHERE receiver_name = %(t)s",
                "SELECT order_id FROM orders_orderline WHERE sku_id = (SELECT id FROM catalog_sku WHERE code = %(t)s)",
            ]
            if len(term) >= 3:
                branches.append("SELECT id FROM orders_order WHERE receiver_address LIKE %(like)s")
            union = " UNION ".join(branches).replace("%(t)s", "%s").replace("%(like)s", "%s")
            values = [term] * 5 + ([f"%{term}%"] if len(term) >= 3 else [])
            add(f"o.id IN ({union})", *values)
        return where, params

    def detail(self, number: str) -> int:
        row = self.conn.execute(
            "SELECT o.*, ch.code, cu.platform_buyer_id FROM orders_order o JOIN channels_channel ch"
            " ON ch.id = o.channel_id LEFT JOIN orders_customer cu ON cu.id = o.customer_id WHERE o.number = %s",
            [number],
        ).fetchone()
        assert row is not None
        oid = row[0]
        n = 0
        for sql in (
            "SELECT l.*, s.code, s.name FROM orders_orderline l JOIN catalog_sku s ON s.id = l.sku_id"
            " WHERE l.order_id = %s ORDER BY l.line_no",
            "SELECT * FROM orders_payment WHERE order_id = %s ORDER BY paid_at, id",
            "SELECT * FROM orders_orderevent WHERE order_id = %s ORDER BY at, id",
            "SELECT * FROM orders_orderplatformref WHERE order_id = %s ORDER BY id",
        ):
            n += len(self.conn.execute(sql, [oid]).fetchall())
        return n


def _day(d: date, plus: int = 0) -> datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(d + timedelta(days=plus), time.min))


def _cursor(cursor: str) -> tuple[datetime, int]:
    from oms.orders.selectors import _cursor_decode

    created, pk, _retired = _cursor_decode(cursor)
    return created, pk
