"""Channel quota allocation (C1): recompute ChannelStock.quota from the allocation rules and warehouse stock.

Runs incrementally for the SKUs a stock document touched (inside that document's transaction) and fully
on demand (`oms stock reallocate`), chunk by chunk of SKUs, each chunk its own short transaction, so a full
run never blocks reservations for long. It locks only ChannelStock rows and then reads the shelves: callers
that changed StockItem rows hold those locks already (StockItem before ChannelStock, the global order).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone

from oms.catalog.models import Category, Sku
from oms.channels.domain.allocation import AllocationContext, Claim, FullRule, Rule, allocate, rule_for, unbacked
from oms.channels.models import AllocationRule, AvailabilityChange, ChannelStock, ChannelWarehouse
from oms.channels.services.allocation_sql import Plan, set_based_plan
from oms.channels.services.allocation_sql import probe as probe_set_based
from oms.channels.services.allocation_sql import write as write_set_based
from oms.inventory.domain.reservation import pushed_figure
from oms.inventory.models import Reservation, ReservationKind, ReservationScope, ReservationState, StockItem


@dataclass
class AllocationSummary:
    skus: int = 0
    rows_changed: int = 0
    over_committed: list[tuple[int, int]] = field(default_factory=list)  # (channel id, sku id)


def allocation_context(*, extra_rules: Sequence[AllocationRule] = (), replace: int | None = None) -> AllocationContext:
    """Load channel warehouses and rules. ``extra_rules`` (unsaved) are added for a preview, standing in for
    the saved rule ``replace`` when it is given."""
    assignments = (
        ChannelWarehouse.objects.filter(channel__is_active=True, warehouse__is_active=True)
        .order_by("channel_id", "warehouse__priority", "warehouse_id")
        .values_list("channel_id", "warehouse_id", "include_in_transit")
    )
    sources: dict[int, list[str]] = defaultdict(list)
    warehouses: set[int] = set()
    transit: dict[int, list[str]] = defaultdict(list)
    for channel_id, warehouse_id, include_in_transit in assignments:
        warehouses.add(warehouse_id)
        sources[channel_id].append(f"w{warehouse_id}")
        if include_in_transit:
            transit[channel_id].append(f"t{warehouse_id}")
    rules: dict[int, list[FullRule]] = defaultdict(list)
    saved = AllocationRule.objects.filter(is_active=True, channel__is_active=True)
    if replace is not None:
        saved = saved.exclude(pk=replace)
    rows = list(saved) + [r for r in extra_rules if r.is_active]
    rows.sort(key=lambda r: (r.priority, r.pk or 0))
    windows: set[int] = set()
    for r in rows:
        target = r.sku_id if r.scope == "sku" else r.category_id if r.scope == "category" else None
        rules[r.channel_id].append((r.scope, target, _rule(r)))
        if r.method == "forecast":
            windows.add(r.forecast_days)
    return AllocationContext(
        sources={c: tuple(s + transit[c]) for c, s in sources.items()},
        warehouses=frozenset(warehouses),
        rules=dict(rules),
        category_parent=dict(Category.objects.values_list("id", "parent_id")),
        forecast_windows=frozenset(windows),
    )


def _rule(r: AllocationRule) -> Rule:
    return Rule(
        method=r.method,
        ratio_bp=r.ratio_bp,
        fixed_quantity=r.fixed_quantity,
        min_quantity=r.min_quantity,
        max_quantity=r.max_quantity,
        safety_stock=r.safety_stock,
        priority=r.priority,
        forecast_days=r.forecast_days,
    )


def channel_stock_reallocate(
    *, sku_ids: Sequence[int] | None = None, chunk: int = 5000, set_based: bool = True
) -> AllocationSummary:
    """Recompute quotas. With ``sku_ids`` it runs in the caller's transaction (incremental, after a stock
    change); without, over every stocked SKU in chunks, one transaction each (full, on demand). A full run
    on PostgreSQL is set-based SQL when the channels' warehouse sets allow it (``set_based=False`` forces
    the Python path, which gives the same result)."""
    ctx = allocation_context()
    summary = AllocationSummary()
    if sku_ids is not None:
        with transaction.atomic(savepoint=False):
            _reallocate_chunk(ctx, sorted(set(sku_ids)), summary)
        return summary
    plan = set_based_plan(ctx) if set_based else None
    if plan is not None:
        return _reallocate_set_based(plan, chunk)
    for ids in _sku_chunks(chunk):
        # Probe without locks first: a scheduled full run mostly changes nothing, and then locks nothing. SKUs
        # that do change are re-done under lock with fresh rows; a SKU the probe saw as unchanged but that
        # changes meanwhile is re-allocated by the very transaction that changed its stock.
        probe = AllocationSummary()
        changed = _reallocate_chunk(ctx, ids, probe, full=True, lock=False, write=False)
        if changed:
            subset = ids if len(changed) == len(ids) else sorted(changed)
            with transaction.atomic():
                _reallocate_chunk(ctx, subset, summary, full=subset is ids)
            summary.skus += len(ids) - len(subset)
            summary.over_committed += [pair for pair in probe.over_committed if pair[1] not in changed]
        else:
            summary.skus += len(ids)
            summary.over_committed += probe.over_committed
    return summary


def _reallocate_set_based(plan: Plan, chunk: int) -> AllocationSummary:
    """The full run in SQL: one unlocked statement finds the SKUs that change (usually none), then each chunk
    of them is re-done in its own transaction, under the channel rows' locks, with fresh shelf figures."""
    now = timezone.now()
    summary = AllocationSummary(skus=Sku.objects.filter(is_bundle=False).count())
    changed, over_committed = probe_set_based(plan, now, chunk)
    changed_set = set(changed)
    summary.over_committed += [pair for pair in over_committed if pair[1] not in changed_set]
    for start in range(0, len(changed), chunk):
        with transaction.atomic():
            rows, pairs = write_set_based(plan, now, changed[start : start + chunk])
        summary.rows_changed += rows
        summary.over_committed += pairs
    summary.over_committed.sort(key=lambda pair: (pair[1], pair[0]))
    return summary


def _sku_chunks(size: int) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(Sku.objects.filter(id__gt=last, is_bundle=False).order_by("id").values_list("id", flat=True)[:size])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _sku_filter(ids: list[int], name: str = "sku_id") -> Q:
    # A chunk's sorted ids read as one index range scan instead of a huge IN list (rows outside the chunk's
    # ids are dropped by the caller).
    if len(ids) > 100:
        return Q(**{f"{name}__gte": ids[0], f"{name}__lte": ids[-1]})
    return Q(**{f"{name}__in": ids})


CS_FIELDS = (
    "id",
    "channel_id",
    "sku_id",
    "quota",
    "sales_reserved",
    "return_reserved",
    "safety_stock",
    "min_quantity",
    "max_quantity",
    "pushed",
    "pushed_at",
)


def _reallocate_chunk(
    ctx: AllocationContext,
    ids: list[int],
    summary: AllocationSummary,
    *,
    full: bool = False,
    lock: bool = True,
    write: bool = True,
) -> set[int]:
    """Re-allocate one chunk of SKUs; returns the SKUs whose rows change. Reads tuples, not model instances,
    and writes only rows whose quota or rule copy changed. ``lock=False, write=False`` is a probe: it finds
    what would change without locking anything."""
    changed_skus: set[int] = set()
    if not ids or not ctx.sources:
        summary.skus += len(ids)
        return changed_skus
    wanted = set(ids)
    categories = dict(Sku.objects.filter(_sku_filter(ids, "id")).order_by().values_list("id", "category_id"))
    sales = _recent_sales(ctx, ids)
    channels = sorted(ctx.sources)
    # Raw rows, and only whether pushed_at is set: parsing 50k timestamps per chunk would cost more than the
    # allocation itself.
    with connection.cursor() as cursor:
        lock_clause = " FOR NO KEY UPDATE" if lock and connection.features.has_select_for_update else ""
        # Exactly the chunk's SKUs when re-allocating a few inside another service (which may hold other rows'
        # locks: locking rows beyond its SKUs could wait out of order); a range scan for a full run's chunks.
        if full:
            sku_condition, sku_params = "sku_id >= %s AND sku_id <= %s", [ids[0], ids[-1]]
        else:
            sku_condition, sku_params = f"sku_id IN ({','.join(['%s'] * len(ids))})", list(ids)
        cursor.execute(
            f"""SELECT id, channel_id, sku_id, quota, sales_reserved, return_reserved, safety_stock, min_quantity,
                       max_quantity, pushed, pushed_at IS NULL
                FROM {ChannelStock._meta.db_table}
                WHERE {sku_condition} AND channel_id IN ({",".join(["%s"] * len(channels))})
                ORDER BY channel_id, sku_id{lock_clause}""",  # noqa: S608 - table name ours, values parameters
            [*sku_params, *channels],
        )
        locked = cursor.fetchall()
    existing = {(r[1], r[2]): r for r in locked if r[2] in wanted}
    # Read the shelves only once the channel rows are locked: every transaction that changes a pool re-allocates
    # (locking these rows) before it commits, so what is read here is never older than the quotas it replaces.
    stock: dict[int, dict[str, int]] = defaultdict(dict)
    # Free shelf stock: units already allocated to a line (warehouse reservations) are backed where they lie;
    # only a channel's not-yet-allocated reservations and its new sales draw on the free units.
    items = StockItem.objects.filter(_sku_filter(ids), warehouse_id__in=ctx.warehouses).values_list(
        "sku_id", "warehouse_id", "on_hand", "reserved", "in_transit"
    )
    for sku_id, wh, on_hand, reserved_units, in_transit in items:
        if sku_id in wanted:
            stock[sku_id][f"w{wh}"] = on_hand - reserved_units
            stock[sku_id][f"t{wh}"] = in_transit
    allocated = _allocated(ids, wanted) if existing else {}
    none_rule = Rule(method="fixed", fixed_quantity=0)
    rule_cache: dict[tuple[int, int, int | None], Rule] = {}
    sku_ruled = {c: {t for scope, t, _r in rules if scope == "sku"} for c, rules in ctx.rules.items()}
    now = timezone.now()
    updates: list[tuple[int, int, Rule, int, Any]] = []  # (id, quota, rule, pushed, pushed_at)
    created: list[ChannelStock] = []
    log: list[tuple[int, int, int, int]] = []  # (channel, sku, available, pushed)
    for sku_id in ids:
        category_id = categories.get(sku_id)
        claims: list[Claim] = []
        for channel_id in channels:
            key = (channel_id, sku_id if sku_id in sku_ruled.get(channel_id, ()) else 0, category_id)
            rule = rule_cache.get(key)
            if rule is None:
                path = _category_path(ctx, category_id)
                rule = rule_for(ctx.rules.get(channel_id, []), sku_id=sku_id, category_path=path) or none_rule
                rule_cache[key] = rule
            row = existing.get((channel_id, sku_id))
            reserved = row[4] + row[5] - allocated.get((channel_id, sku_id), 0) if row else 0
            recent = sales.get((channel_id, sku_id), {}).get(rule.forecast_days, 0) if sales else 0
            claims.append(Claim(channel_id, rule, ctx.sources[channel_id], reserved, recent))
        sku_stock = stock.get(sku_id, {})
        quotas = allocate(claims, sku_stock)
        if any(c.reserved for c in claims):
            summary.over_committed += [(channel_id, sku_id) for channel_id in unbacked(claims, sku_stock)]
        for claim in claims:
            quota = quotas[claim.channel_id] + allocated.get((claim.channel_id, sku_id), 0)
            rule = claim.rule
            row = existing.get((claim.channel_id, sku_id))
            if row is None:
                if quota == 0:
                    continue
                available = quota
            else:
                if (row[3], row[6], row[7], row[8]) == (quota, rule.safety_stock, rule.min_quantity, rule.max_quantity):
                    continue
                available = quota - row[4] - row[5]
            changed_skus.add(sku_id)
            figure = pushed_figure(
                available=available,
                safety_stock=rule.safety_stock,
                min_quantity=rule.min_quantity,
                max_quantity=rule.max_quantity,
            )
            pushed_at: dt.datetime | None = None  # None: leave the stored pushed_at as it is
            if row is None or figure != row[9] or row[10]:
                log.append((claim.channel_id, sku_id, available, figure))
                pushed_at = now
            if row is None:
                created.append(
                    ChannelStock(
                        channel_id=claim.channel_id,
                        sku_id=sku_id,
                        quota=quota,
                        safety_stock=rule.safety_stock,
                        min_quantity=rule.min_quantity,
                        max_quantity=rule.max_quantity,
                        pushed=figure,
                        pushed_at=now,
                    )
                )
            else:
                updates.append((row[0], quota, rule, figure, pushed_at))
    if not write:
        return changed_skus
    if created:
        _create(created, now)
    if updates:
        _write(updates, now)
    if log:
        _log(log)
    summary.skus += len(ids)
    summary.rows_changed += len(updates) + len(created)
    return changed_skus


def _allocated(ids: list[int], wanted: set[int]) -> dict[tuple[int, int], int]:
    """Units of each channel's active reservations already allocated to a warehouse (the line holds both a
    channel and a warehouse reservation), per (channel id, sku id)."""
    wh = Reservation.objects.filter(
        _sku_filter(ids), scope=ReservationScope.WAREHOUSE, state=ReservationState.ACTIVE
    ).exclude(kind=ReservationKind.TRANSFER)
    ch = Reservation.objects.filter(
        ref_type=OuterRef("ref_type"),
        ref_id=OuterRef("ref_id"),
        sku_id=OuterRef("sku_id"),
        kind=OuterRef("kind"),
        scope=ReservationScope.CHANNEL,
        state=ReservationState.ACTIVE,
    ).values("channel_id")[:1]
    out: dict[tuple[int, int], int] = {}
    for row in wh.annotate(owner=Subquery(ch)).values("owner", "sku_id").annotate(q=Sum("quantity")):
        if row["owner"] is not None and row["sku_id"] in wanted:
            key = (row["owner"], row["sku_id"])
            out[key] = out.get(key, 0) + row["q"]
    return out


def _category_path(ctx: AllocationContext, category_id: int | None) -> list[int]:
    path: list[int] = []
    while category_id is not None and category_id not in path:
        path.append(category_id)
        category_id = ctx.category_parent.get(category_id)
    return path


def _recent_sales(ctx: AllocationContext, ids: list[int]) -> dict[tuple[int, int], dict[int, int]]:
    """Units shipped per (channel, sku) in each forecast window: consumed channel sales reservations."""
    if not ctx.forecast_windows:
        return {}
    now = timezone.now()
    aggregates = {
        f"d{days}": Sum("quantity", filter=Q(closed_at__gte=now - dt.timedelta(days=days)))
        for days in sorted(ctx.forecast_windows)
    }
    longest = max(ctx.forecast_windows)
    rows = (
        Reservation.objects.filter(
            _sku_filter(ids),
            scope=ReservationScope.CHANNEL,
            kind=ReservationKind.SALES,
            state=ReservationState.CONSUMED,
            closed_at__gte=now - dt.timedelta(days=longest),
        )
        .values("channel_id", "sku_id")
        .annotate(**aggregates)
    )
    out: dict[tuple[int, int], dict[int, int]] = {}
    for row in rows:
        out[(row["channel_id"], row["sku_id"])] = {d: row[f"d{d}"] or 0 for d in ctx.forecast_windows}
    return out


def _write(updates: list[tuple[int, int, Rule, int, Any]], now: dt.datetime) -> None:
    """Write quota, rule copies and pushed figures: one statement per call on PostgreSQL (array unnest),
    batched CASE updates elsewhere."""
    if connection.vendor != "postgresql":
        fields = ["quota", "safety_stock", "min_quantity", "max_quantity", "pushed", "updated_at"]
        for stamped in (True, False):
            rows = [
                ChannelStock(
                    pk=pk,
                    quota=quota,
                    safety_stock=rule.safety_stock,
                    min_quantity=rule.min_quantity,
                    max_quantity=rule.max_quantity,
                    pushed=pushed,
                    pushed_at=pushed_at,
                    updated_at=now,
                )
                for pk, quota, rule, pushed, pushed_at in updates
                if (pushed_at is not None) == stamped
            ]
            if rows:
                ChannelStock.objects.bulk_update(rows, [*fields, "pushed_at"] if stamped else fields, batch_size=500)
        return
    table = ChannelStock._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} AS cs SET quota = v.quota, safety_stock = v.safety, min_quantity = v.minq,
                max_quantity = v.maxq, pushed = v.pushed, pushed_at = COALESCE(v.pushed_at, cs.pushed_at),
                updated_at = %s
            FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[],
                        %s::timestamptz[]) AS v(id, quota, safety, minq, maxq, pushed, pushed_at)
            WHERE cs.id = v.id
            """,  # noqa: S608 - the table name is ours, every value is a parameter
            [
                now,
                [u[0] for u in updates],
                [u[1] for u in updates],
                [u[2].safety_stock for u in updates],
                [u[2].min_quantity for u in updates],
                [u[2].max_quantity for u in updates],
                [u[3] for u in updates],
                [u[4] for u in updates],
            ],
        )


def _create(rows: list[ChannelStock], now: dt.datetime) -> None:
    """Insert new channel rows: one statement on PostgreSQL, bulk inserts elsewhere; a row some concurrent
    reservation created meanwhile is left alone (its quota catches up on the next re-allocation)."""
    if connection.vendor != "postgresql":
        ChannelStock.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
        return
    table = ChannelStock._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (channel_id, sku_id, quota, sales_reserved, return_reserved, safety_stock,
                                 min_quantity, max_quantity, pushed, pushed_at, updated_at)
            SELECT c, s, q, 0, 0, safety, minq, maxq, p, %s, %s
            FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[],
                        %s::bigint[]) AS v(c, s, q, safety, minq, maxq, p)
            ON CONFLICT (channel_id, sku_id) DO NOTHING
            """,  # noqa: S608 - the table name is ours, every value is a parameter
            [
                now,
                now,
                [r.channel_id for r in rows],
                [r.sku_id for r in rows],
                [r.quota for r in rows],
                [r.safety_stock for r in rows],
                [r.min_quantity for r in rows],
                [r.max_quantity for r in rows],
                [r.pushed for r in rows],
            ],
        )


def _log(rows: list[tuple[int, int, int, int]]) -> None:
    """Append available-to-sell changes: one statement on PostgreSQL, bulk inserts elsewhere."""
    if connection.vendor != "postgresql":
        AvailabilityChange.objects.bulk_create(
            [AvailabilityChange(channel_id=c, sku_id=s, available=a, pushed=p) for c, s, a, p in rows], batch_size=2000
        )
        return
    table = AvailabilityChange._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (channel_id, sku_id, available, pushed, created_at)
            SELECT c, s, a, p, now()
            FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) AS v(c, s, a, p)
            """,  # noqa: S608 - the table name is ours, every value is a parameter
            [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]],
        )


@dataclass(frozen=True)
class PreviewRow:
    channel_id: int
    sku_id: int
    reserved: int
    current: int
    proposed: int


def allocation_preview(*, rule: AllocationRule, sku_ids: Sequence[int]) -> list[PreviewRow]:
    """The quotas ``rule`` (unsaved) would give next to today's, for some SKUs: shown before saving a rule.
    Reads only; nothing is locked or written. A rule that replaces an existing one is passed with its pk."""
    ids = sorted(set(sku_ids))
    current = allocation_context()
    proposed = allocation_context(extra_rules=[rule], replace=rule.pk)
    before, reserved = _quotas(current, ids)
    after, _ = _quotas(proposed, ids)
    keys = sorted(set(before) | set(after), key=lambda k: (k[1], k[0]))
    return [PreviewRow(c, s, reserved.get((c, s), 0), before.get((c, s), 0), after.get((c, s), 0)) for c, s in keys]


def _quotas(ctx: AllocationContext, ids: list[int]) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    if not ids or not ctx.sources:
        return {}, {}
    categories = dict(Sku.objects.filter(id__in=ids).values_list("id", "category_id"))
    reserved = {
        (c, s): sales + ret
        for c, s, sales, ret in ChannelStock.objects.filter(sku_id__in=ids).values_list(
            "channel_id", "sku_id", "sales_reserved", "return_reserved"
        )
    }
    stock: dict[int, dict[str, int]] = defaultdict(dict)
    for sku_id, wh, on_hand, reserved_transfer, in_transit in StockItem.objects.filter(
        sku_id__in=ids, warehouse_id__in=ctx.warehouses
    ).values_list("sku_id", "warehouse_id", "on_hand", "reserved_transfer", "in_transit"):
        stock[sku_id][f"w{wh}"] = on_hand - reserved_transfer
        stock[sku_id][f"t{wh}"] = in_transit
    sales = _recent_sales(ctx, ids)
    out: dict[tuple[int, int], int] = {}
    for sku_id in ids:
        path = _category_path(ctx, categories.get(sku_id))
        claims = []
        for channel_id in sorted(ctx.sources):
            rule = rule_for(ctx.rules.get(channel_id, []), sku_id=sku_id, category_path=path) or Rule("fixed")
            recent = sales.get((channel_id, sku_id), {}).get(rule.forecast_days, 0)
            claims.append(
                Claim(channel_id, rule, ctx.sources[channel_id], reserved.get((channel_id, sku_id), 0), recent)
            )
        for channel_id, quota in allocate(claims, stock.get(sku_id, {})).items():
            out[(channel_id, sku_id)] = quota
    return out, reserved
