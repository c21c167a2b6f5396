"""Set-based full re-allocation on PostgreSQL: the quotas of every (channel, SKU) in one statement.

`allocate` (oms/channels/domain/allocation.py) serves channels one after the other, each drawing units from
its sources in turn. When any two channels' sources are either the same set or share nothing (the usual
set-up: channels on the same warehouses), the channels sharing a set draw from one pool, and a draw takes
``min(units wanted, units left in the pool)``; the greedy run over a SKU's channels is then a running sum in
rule priority order, which a window function computes:

    floor_i = min(reserved_i, max(pool − reserved before i, 0))            (reserved units, backed first)
    got_i   = min(extra_i, max(pool − floors − extra before i, 0))         (then each target beyond them)
    quota_i = sales_reserved_i + return_reserved_i + got_i

Other set-ups (overlapping source sets) and SQLite use the Python path. The result is the same as the Python
path's, row for row, including the pushed figure, ``pushed_at`` and the change log (a Hypothesis test
compares them on PostgreSQL).
"""

# The SQL below is assembled from our own table names and named placeholders; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from oms.channels.domain.allocation import AllocationContext, Rule, rule_for
from oms.channels.models import AvailabilityChange, ChannelStock
from oms.inventory.models import Reservation, StockItem

NONE_RULE = Rule(method="fixed", fixed_quantity=0)
# The statement sorts and hashes every (channel, SKU) once: enough memory keeps that off disk (this transaction only).
WORK_MEM = "SET LOCAL work_mem = '128MB'; SET LOCAL jit = off"


@dataclass(frozen=True)
class Plan:
    """The allocation inputs as parameter arrays, built once per run."""

    channels: list[int]
    groups: list[int]
    defaults: list[int]
    group_sources: tuple[list[int], list[int], list[bool]]
    rules: list[Rule]
    category_rules: tuple[list[int], list[int], list[int]]
    sku_rules: tuple[list[int], list[int], list[int]]
    windows: list[int]


def set_based_plan(ctx: AllocationContext) -> Plan | None:
    """The plan when the channels' source sets are pairwise equal or disjoint; None otherwise (Python path)."""
    if connection.vendor != "postgresql" or not ctx.sources:
        return None
    sets: list[frozenset[str]] = []
    channels = sorted(ctx.sources)
    groups: list[int] = []
    for channel_id in channels:
        mine = frozenset(ctx.sources[channel_id])
        for i, other in enumerate(sets):
            if mine == other:
                groups.append(i)
                break
            if mine & other:
                return None
        else:
            sets.append(mine)
            groups.append(len(sets) - 1)
    g_ids: list[int] = []
    g_wh: list[int] = []
    g_transit: list[bool] = []
    for i, sources in enumerate(sets):
        for s in sorted(sources):
            g_ids.append(i)
            g_wh.append(int(s[1:]))
            g_transit.append(s[0] == "t")
    index: dict[Rule, int] = {NONE_RULE: 0}

    def idx(rule: Rule | None) -> int:
        return index.setdefault(rule or NONE_RULE, len(index))

    defaults: list[int] = []
    cat_rules: tuple[list[int], list[int], list[int]] = ([], [], [])
    sku_rules: tuple[list[int], list[int], list[int]] = ([], [], [])
    for channel_id in channels:
        rules = ctx.rules.get(channel_id, [])
        default = idx(rule_for(rules, sku_id=-1, category_path=[]))
        defaults.append(default)
        if any(scope == "category" for scope, _t, _r in rules):
            for category_id in ctx.category_parent:
                path = _path(ctx, category_id)
                got = idx(rule_for(rules, sku_id=-1, category_path=path))
                if got != default:
                    cat_rules[0].append(channel_id)
                    cat_rules[1].append(category_id)
                    cat_rules[2].append(got)
        for target in sorted({t for scope, t, _r in rules if scope == "sku" and t is not None}):
            sku_rules[0].append(channel_id)
            sku_rules[1].append(target)
            sku_rules[2].append(idx(rule_for(rules, sku_id=target, category_path=[])))
    return Plan(
        channels=channels,
        groups=groups,
        defaults=defaults,
        group_sources=(g_ids, g_wh, g_transit),
        rules=list(index),
        category_rules=cat_rules,
        sku_rules=sku_rules,
        windows=sorted(ctx.forecast_windows),
    )


def _path(ctx: AllocationContext, category_id: int | None) -> list[int]:
    path: list[int] = []
    while category_id is not None and category_id not in path:
        path.append(category_id)
        category_id = ctx.category_parent.get(category_id)
    return path


def _calc_sql(
    plan: Plan, now: dt.datetime, sku_ids: Sequence[int] | None, *, targets_only: bool = False
) -> tuple[str, dict[str, Any]]:
    """The CTEs computing, per (channel, SKU) of the active channels and stocked SKUs: the new quota, the
    stored row, the pushed figure and whether it changes (``calc``). ``sku_ids`` (sorted) limits it to those
    SKUs; ``targets_only`` stops at each channel's target and reserved units (``wanted``)."""
    params: dict[str, Any] = {}

    def p(value: Any) -> str:
        name = f"p{len(params)}"
        params[name] = value
        return f"%({name})s"

    sku_cond = si_cond = res_cond = ""
    if sku_ids is not None:
        lo, hi, arr = p(sku_ids[0]), p(sku_ids[-1]), p(list(sku_ids))
        sku_cond = f"AND s.id BETWEEN {lo} AND {hi} AND s.id = ANY({arr}::bigint[])"
        si_cond = f"AND si.sku_id BETWEEN {lo} AND {hi}"
        res_cond = f"AND w.sku_id BETWEEN {lo} AND {hi}"

    def values(rows: list[tuple[Any, ...]], types: tuple[str, ...]) -> str:
        # A VALUES list rather than unnest(): the planner then knows how many rows there are.
        return ", ".join("(" + ", ".join(f"{p(v)}::{t}" for v, t in zip(row, types, strict=True)) + ")" for row in rows)

    cte = [
        f"""chan(channel_id, grp, default_idx) AS (VALUES {
            values(list(zip(plan.channels, plan.groups, plan.defaults, strict=True)), ("bigint", "int", "int"))
        })""",
        f"""gsrc(grp, warehouse_id, transit) AS (VALUES {
            values(list(zip(*plan.group_sources, strict=True)), ("int", "bigint", "bool"))
        })""",
        f"""rl(idx, method, ratio_bp, fixed, minq, maxq, safety, priority, fdays) AS (VALUES {
            values(
                [
                    (
                        i,
                        x.method,
                        x.ratio_bp,
                        x.fixed_quantity,
                        x.min_quantity,
                        x.max_quantity,
                        x.safety_stock,
                        x.priority,
                        x.forecast_days,
                    )
                    for i, x in enumerate(plan.rules)
                ],
                ("int", "text", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "int"),
            )
        })""",
    ]
    rule_idx = "c.default_idx"
    rule_joins = ""
    if plan.sku_rules[0]:
        cte.append(
            f"""srule AS (
            SELECT * FROM unnest({p(plan.sku_rules[0])}::bigint[], {p(plan.sku_rules[1])}::bigint[],
                                 {p(plan.sku_rules[2])}::int[]) AS x(channel_id, sku_id, idx))"""
        )
        rule_joins += "LEFT JOIN srule sr ON sr.channel_id = c.channel_id AND sr.sku_id = sk.sku_id\n"
        rule_idx = "sr.idx, " + rule_idx
    if plan.category_rules[0]:
        cte.append(
            f"""crule AS (
            SELECT * FROM unnest({p(plan.category_rules[0])}::bigint[], {p(plan.category_rules[1])}::bigint[],
                                 {p(plan.category_rules[2])}::int[]) AS x(channel_id, category_id, idx))"""
        )
        rule_joins += "LEFT JOIN crule cr ON cr.channel_id = c.channel_id AND cr.category_id = sk.cat\n"
        rule_idx = rule_idx.replace("c.default_idx", "cr.idx, c.default_idx")
    cte += [
        f"""sk AS (
            SELECT s.id AS sku_id, COALESCE(s.category_id, -1) AS cat FROM catalog_sku s
            WHERE NOT s.is_bundle {sku_cond})""",
        # Free shelf units (on hand less every reservation) per warehouse, in-transit units where counted.
        f"""pool AS (
            SELECT g.grp, si.sku_id,
                   SUM(GREATEST(CASE WHEN g.transit THEN si.in_transit ELSE si.on_hand - si.reserved END, 0))::bigint
                       AS p
            FROM gsrc g JOIN {StockItem._meta.db_table} si ON si.warehouse_id = g.warehouse_id
            WHERE TRUE {si_cond}
            GROUP BY g.grp, si.sku_id)""",
        # Units of a channel's active reservations already allocated to a warehouse (backed where they lie).
        f"""alloc AS (
            SELECT ch.channel_id, w.sku_id, SUM(w.quantity)::bigint AS q
            FROM {Reservation._meta.db_table} w
            JOIN {Reservation._meta.db_table} ch ON ch.ref_type = w.ref_type AND ch.ref_id = w.ref_id
                 AND ch.sku_id = w.sku_id AND ch.kind = w.kind AND ch.scope = 'channel' AND ch.state = 'active'
            WHERE w.scope = 'warehouse' AND w.state = 'active' AND w.kind <> 'transfer' {res_cond}
            GROUP BY ch.channel_id, w.sku_id)""",
    ]
    recent = "0::bigint"
    if plan.windows:
        sums = ", ".join(
            f"SUM(quantity) FILTER (WHERE closed_at >= {p(now - dt.timedelta(days=d))})::bigint AS d{d}"
            for d in plan.windows
        )
        cte.append(
            f"""sales AS (
                SELECT channel_id, sku_id, {sums} FROM {Reservation._meta.db_table} w
                WHERE scope = 'channel' AND kind = 'sales' AND state = 'consumed'
                      AND closed_at >= {p(now - dt.timedelta(days=max(plan.windows)))} {res_cond}
                GROUP BY channel_id, sku_id)"""
        )
        recent = "COALESCE(CASE r.fdays " + " ".join(f"WHEN {d} THEN sa.d{d}" for d in plan.windows) + " END, 0)"
    sales_join = "LEFT JOIN sales sa ON sa.channel_id = c.channel_id AND sa.sku_id = sk.sku_id" if plan.windows else ""
    # Each forecast channel's share of the SKU's recent sales (only computed when a forecast rule exists).
    shares = (
        """SUM(CASE WHEN method = 'forecast' THEN recent ELSE 0 END) OVER (PARTITION BY sku_id)::bigint AS fsum,
           COUNT(*) FILTER (WHERE method = 'forecast') OVER (PARTITION BY sku_id) AS fcount"""
        if plan.windows
        else "0::bigint AS fsum, 0::bigint AS fcount"
    )
    cs_table = ChannelStock._meta.db_table
    cte += [
        f"""base AS (
            SELECT c.channel_id, c.grp, sk.sku_id, COALESCE(pool.p, 0) AS p,
                   r.method, r.ratio_bp, r.fixed, r.minq, r.maxq, r.safety, r.priority,
                   {recent}::bigint AS recent,
                   cs.id AS cs_id, cs.quota AS old_quota, cs.sales_reserved, cs.return_reserved,
                   cs.safety_stock AS old_safety, cs.min_quantity AS old_minq, cs.max_quantity AS old_maxq,
                   cs.pushed AS old_pushed, cs.pushed_at IS NULL AS unstamped,
                   COALESCE(al.q, 0) AS allocated,
                   CASE WHEN cs.id IS NULL THEN 0
                        ELSE cs.sales_reserved + cs.return_reserved - COALESCE(al.q, 0) END AS reserved
            FROM sk CROSS JOIN chan c
            {rule_joins}
            JOIN rl r ON r.idx = COALESCE({rule_idx})
            LEFT JOIN pool ON pool.grp = c.grp AND pool.sku_id = sk.sku_id
            LEFT JOIN {cs_table} cs ON cs.channel_id = c.channel_id AND cs.sku_id = sk.sku_id
            LEFT JOIN alloc al ON al.channel_id = c.channel_id AND al.sku_id = sk.sku_id
            {sales_join})""",
        f"""wanted AS (
            SELECT b.*,
                   LEAST(GREATEST(
                       CASE b.method
                           WHEN 'fixed' THEN b.fixed
                           WHEN 'forecast' THEN (CASE WHEN b.fsum > 0
                               THEN div(b.p::numeric * b.ratio_bp * b.recent, 10000::numeric * b.fsum)
                               ELSE div(b.p::numeric * b.ratio_bp, 10000::numeric * b.fcount) END)::bigint
                           ELSE b.p * b.ratio_bp / 10000
                       END, b.minq), b.maxq) AS want,
                   GREATEST(b.reserved, 0) AS floor_units
            FROM (SELECT base.*, {shares} FROM base) b)""",
    ]
    if targets_only:
        return "WITH " + ",\n".join(cte), params
    cte += [
        """drawn AS (
            SELECT w.*,
                   LEAST(w.floor_units, GREATEST(w.p - COALESCE(SUM(w.floor_units) OVER ahead, 0)::bigint, 0))
                       AS floor_got,
                   LEAST(GREATEST(w.want - w.reserved, 0),
                         GREATEST(w.p - LEAST(w.p, SUM(w.floor_units) OVER everyone)::bigint
                                  - COALESCE(SUM(GREATEST(w.want - w.reserved, 0)) OVER ahead, 0)::bigint, 0)) AS got
            FROM wanted w
            WINDOW everyone AS (PARTITION BY w.sku_id, w.grp),
                   ahead AS (PARTITION BY w.sku_id, w.grp ORDER BY w.priority, w.channel_id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING))""",
        """quotas AS (
            SELECT d.*, d.reserved + d.got + d.allocated AS quota FROM drawn d)""",
        """calc AS (
            SELECT q.*,
                   CASE WHEN q.cs_id IS NULL THEN q.quota <> 0
                        ELSE (q.quota, q.safety, q.minq, q.maxq)
                             IS DISTINCT FROM (q.old_quota, q.old_safety, q.old_minq, q.old_maxq) END AS changed,
                   CASE WHEN q.fig < q.minq THEN 0 ELSE q.fig END AS figure
            FROM (SELECT quotas.*,
                         CASE WHEN cs_id IS NULL THEN quota ELSE quota - sales_reserved - return_reserved END
                             AS available,
                         LEAST(GREATEST(CASE WHEN cs_id IS NULL THEN quota
                                             ELSE quota - sales_reserved - return_reserved END - safety, 0),
                               maxq) AS fig
                  FROM quotas) q)""",
    ]
    return "WITH " + ",\n".join(cte), params


def probe(plan: Plan, now: dt.datetime, chunk: int) -> tuple[list[int], list[tuple[int, int]]]:
    """Without locking anything: the SKUs whose channel rows would change, and the (channel, SKU) pairs
    holding more reserved than their warehouses back (over-committed).

    One statement over everything assumes no group of channels is short of stock — its pool covers what its
    channels have reserved and every target beyond — and then each channel gets exactly that, no running sums
    needed; it also names the SKUs where a group is short, which are then computed in full, chunk by chunk."""
    head, params = _calc_sql(plan, now, None, targets_only=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(WORK_MEM)
        cursor.execute(
            f"""{head},
            groups AS (
                SELECT sku_id, SUM(floor_units) + SUM(GREATEST(want - reserved, 0)) > MIN(p) AS short,
                       bool_or(CASE WHEN cs_id IS NULL THEN quota <> 0
                                    ELSE (quota, safety, minq, maxq)
                                         IS DISTINCT FROM (old_quota, old_safety, old_minq, old_maxq) END)
                           AS changed
                FROM (SELECT wanted.*, GREATEST(want, reserved) + allocated AS quota FROM wanted) w
                GROUP BY sku_id, grp)
            SELECT array_agg(DISTINCT sku_id) FILTER (WHERE short),
                   array_agg(DISTINCT sku_id) FILTER (WHERE changed AND NOT short)
            FROM groups""",
            params,
        )
        short, changed = cursor.fetchone()
        changed_set = set(changed or [])
        over_committed: list[tuple[int, int]] = []
        short = sorted(short or [])
        for start in range(0, len(short), chunk):
            head, params = _calc_sql(plan, now, short[start : start + chunk])
            cursor.execute(
                f"""{head}
                SELECT array_agg(DISTINCT sku_id) FILTER (WHERE changed),
                       array_agg(channel_id ORDER BY sku_id, channel_id) FILTER (WHERE floor_got < reserved),
                       array_agg(sku_id ORDER BY sku_id, channel_id) FILTER (WHERE floor_got < reserved)
                FROM calc""",
                params,
            )
            more, oc_channels, oc_skus = cursor.fetchone()
            changed_set.update(more or [])
            over_committed += zip(oc_channels or [], oc_skus or [], strict=True)
    return sorted(changed_set), over_committed


def write(plan: Plan, now: dt.datetime, sku_ids: Sequence[int]) -> tuple[int, list[tuple[int, int]]]:
    """Re-allocate ``sku_ids`` (sorted) in the caller's transaction: lock their channel rows, then — reading
    the shelves only now — update the rows that change, insert missing ones, and log changed pushed figures.
    Returns the rows changed and the over-committed pairs."""
    cs_table = ChannelStock._meta.db_table
    log_table = AvailabilityChange._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(WORK_MEM)
        # Every channel row of the SKUs, in the global lock order (ChannelStock after StockItem, by id).
        cursor.execute(
            f"""SELECT count(*) FROM (
                    SELECT 1 FROM {cs_table}
                    WHERE sku_id BETWEEN %s AND %s AND sku_id = ANY(%s::bigint[]) AND channel_id = ANY(%s::bigint[])
                    ORDER BY channel_id, sku_id FOR NO KEY UPDATE) locked""",
            [sku_ids[0], sku_ids[-1], list(sku_ids), plan.channels],
        )
        head, params = _calc_sql(plan, now, sku_ids)
        cursor.execute(
            f"""{head},
            upd AS (
                UPDATE {cs_table} AS cs
                SET quota = calc.quota, safety_stock = calc.safety, min_quantity = calc.minq,
                    max_quantity = calc.maxq, pushed = calc.figure,
                    pushed_at = CASE WHEN calc.figure <> calc.old_pushed OR calc.unstamped THEN %(now)s
                                     ELSE cs.pushed_at END,
                    updated_at = %(now)s
                FROM calc
                WHERE cs.id = calc.cs_id AND calc.changed
                RETURNING cs.channel_id, cs.sku_id, calc.available, calc.figure,
                          calc.figure <> calc.old_pushed OR calc.unstamped AS stamped),
            ins AS (
                INSERT INTO {cs_table} (channel_id, sku_id, quota, sales_reserved, return_reserved, safety_stock,
                                        min_quantity, max_quantity, pushed, pushed_at, updated_at)
                SELECT channel_id, sku_id, quota, 0, 0, safety, minq, maxq, figure, %(now)s, %(now)s
                FROM calc WHERE cs_id IS NULL AND changed
                ORDER BY sku_id, channel_id
                ON CONFLICT (channel_id, sku_id) DO NOTHING
                RETURNING channel_id, sku_id, quota AS available, pushed AS figure),
            logged AS (
                INSERT INTO {log_table} (channel_id, sku_id, available, pushed, created_at)
                SELECT channel_id, sku_id, available, figure, now() FROM (
                    SELECT channel_id, sku_id, available, figure FROM upd WHERE stamped
                    UNION ALL SELECT channel_id, sku_id, available, figure FROM ins) x
                ORDER BY sku_id, channel_id)
            SELECT (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins),
                   (SELECT array_agg(channel_id ORDER BY sku_id, channel_id) FROM calc WHERE floor_got < reserved),
                   (SELECT array_agg(sku_id ORDER BY sku_id, channel_id) FROM calc WHERE floor_got < reserved)
            """,
            {**params, "now": now},
        )
        rows, oc_channels, oc_skus = cursor.fetchone()
    return rows, list(zip(oc_channels or [], oc_skus or [], strict=True))
