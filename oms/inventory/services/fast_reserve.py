"""The hot path of channel sales reservation on PostgreSQL: one SQL statement for many lines.

Order intake reserves plain SKUs for new lines far more often than anything else, and on a best-selling SKU
(爆款) every transaction queues on the same ChannelStock row. What matters there is how long the row stays
locked, so this path takes two statements: lock and read the rows, then (after `plan_grants` decides) write
the counters, the pushed figure, the change log and the ledger rows at once, leaving only the COMMIT. The
pushed figure is computed in SQL the way `pushed_figure` does it; `stock_verify` checks every row against the
Python definition.

Lines it cannot take — bundles, lines that already hold a reservation, SKUs with no channel-stock row yet —
come back unplanned and go through the general path in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import connection

from oms.channels.models import AvailabilityChange, ChannelStock
from oms.inventory.domain.reservation import LineDemand, plan_grants
from oms.inventory.models import Reservation

if TYPE_CHECKING:
    from oms.inventory.services.reservations import ReserveRequest

BIGINT_MAX = 9_223_372_036_854_775_807


def _pushed_sql(available: str) -> str:
    figure = f"LEAST(GREATEST({available} - cs.safety_stock, 0), COALESCE(cs.max_quantity, {BIGINT_MAX}))"
    return f"(CASE WHEN {figure} < cs.min_quantity THEN 0 ELSE {figure} END)"


def _lock_statement() -> str:
    cs_table = ChannelStock._meta.db_table
    res_table = Reservation._meta.db_table
    return f"""
SELECT cs.id, cs.channel_id, cs.sku_id, cs.quota - cs.sales_reserved - cs.return_reserved AS free,
       EXISTS (SELECT 1 FROM {res_table} x
               WHERE x.ref_type = ANY(%s::text[]) AND x.ref_id = ANY(%s::bigint[]) AND x.sku_id = cs.sku_id
                 AND x.state = 'active' AND x.scope = 'channel' AND x.kind = 'sales') AS held
FROM {cs_table} cs
WHERE (cs.channel_id, cs.sku_id) IN (SELECT * FROM unnest(%s::bigint[], %s::bigint[]))
ORDER BY cs.channel_id, cs.sku_id
FOR NO KEY UPDATE OF cs
"""  # noqa: S608 - table names are ours; every value is a parameter


def _write_statement() -> str:
    cs_table = ChannelStock._meta.db_table
    res_table = Reservation._meta.db_table
    log_table = AvailabilityChange._meta.db_table
    pushed = _pushed_sql("(cs.quota - cs.sales_reserved - t.total - cs.return_reserved)")
    return f"""
WITH t AS (
    SELECT * FROM unnest(%s::bigint[], %s::bigint[]) AS t(cs_id, total)
), upd AS (
    UPDATE {cs_table} cs
    SET sales_reserved = cs.sales_reserved + t.total,
        pushed = {pushed},
        pushed_at = CASE WHEN {pushed} <> cs.pushed OR cs.pushed_at IS NULL THEN now() ELSE cs.pushed_at END,
        updated_at = now()
    FROM t
    WHERE cs.id = t.cs_id
    RETURNING cs.channel_id, cs.sku_id, cs.quota - cs.sales_reserved - cs.return_reserved AS available, cs.pushed,
              cs.pushed_at = now() AS changed
), log AS (
    INSERT INTO {log_table} (channel_id, sku_id, available, pushed, created_at)
    SELECT channel_id, sku_id, available, pushed, now() FROM upd WHERE changed
)
INSERT INTO {res_table} (ref_type, ref_id, scope, kind, sku_id, channel_id, warehouse_id, quantity, state,
                         reason, created_at, closed_at)
SELECT r.ref_type, r.ref_id, 'channel', 'sales', r.sku_id, r.channel_id, NULL, r.quantity, 'active', '', now(), NULL
FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])
    AS r(ref_type, ref_id, sku_id, channel_id, quantity)
"""  # noqa: S608 - table names are ours; every value is a parameter


def fast_channel_reserve(requests: Sequence[ReserveRequest]) -> dict[int, int]:
    """Reserve what it can in two statements (lock and read; write everything); returns request index → units
    granted for the lines it planned. Must run inside the caller's transaction; PostgreSQL only."""
    with connection.cursor() as cursor:
        cursor.execute(
            _lock_statement(),
            [
                sorted({r.ref_type for r in requests}),
                sorted({r.ref_id for r in requests}),
                [r.channel_id for r in requests],
                [r.sku_id for r in requests],
            ],
        )
        rows = {(c, s): (cs_id, free, held) for cs_id, c, s, free, held in cursor.fetchall()}
        # A SKU some line already holds goes the general way (the check above is coarse: same SKU, any of the refs).
        planned = [
            i
            for i, r in enumerate(requests)
            if (r.channel_id, r.sku_id) in rows and not rows[(r.channel_id, r.sku_id)][2]
        ]
        if not planned:
            return {}
        free = {key: max(v[1], 0) for key, v in rows.items()}
        grants = plan_grants(
            free,
            [LineDemand(requests[i].channel_id, ((requests[i].sku_id, 1),), requests[i].quantity) for i in planned],
        )
        granted = dict(zip(planned, grants, strict=True))
        totals: dict[int, int] = {}
        for i, g in granted.items():
            r = requests[i]
            cs_id = rows[(r.channel_id, r.sku_id)][0]
            totals[cs_id] = totals.get(cs_id, 0) + g
        totals = {k: v for k, v in totals.items() if v > 0}
        if totals:
            made = [(requests[i], g) for i, g in granted.items() if g > 0]
            cursor.execute(
                _write_statement(),
                [
                    list(totals),
                    list(totals.values()),
                    [r.ref_type for r, _g in made],
                    [r.ref_id for r, _g in made],
                    [r.sku_id for r, _g in made],
                    [r.channel_id for r, _g in made],
                    [g for _r, g in made],
                ],
            )
        return granted
