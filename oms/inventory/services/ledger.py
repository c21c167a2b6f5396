"""Posting to the physical stock ledger: StockMove rows plus the StockItem and Batch counters, together.

Every physical change (receipt, count, defective marking, transfer, return, shipment) goes through
`ledger_post`, so counters can only move with a ledger row beside them. Callers hold the reservation-row
locks they need first (global lock order in ``oms.inventory.lock_objects``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from oms.catalog.models import Sku
from oms.core.bulk import bulk_insert, bulk_set
from oms.core.errors import Conflict
from oms.inventory.domain.batches import BatchLevel, plan_batch_issue
from oms.inventory.lock_objects import batches_for_update, stock_items_for_update
from oms.inventory.models import Batch, StockItem, StockMove

Key = tuple[int, int]  # (warehouse id, sku id)


@dataclass(frozen=True)
class MoveSpec:
    """One ledger entry to post. Negative on-hand changes without a batch number leave FEFO from the batches."""

    warehouse_id: int
    sku_id: int
    kind: str
    ref_type: str
    ref_id: int
    on_hand: int = 0
    defective: int = 0
    in_transit: int = 0
    batch_no: str = ""
    production_date: dt.date | None = None
    expiry_date: dt.date | None = None
    note: str = ""


@dataclass
class ItemDelta:
    on_hand: int = 0
    reserved: int = 0
    reserved_transfer: int = 0
    defective: int = 0
    in_transit: int = 0
    touched: bool = field(default=False, compare=False)


COUNTERS = ("on_hand", "reserved", "reserved_transfer", "defective", "in_transit")


def lock_items(keys: set[Key]) -> dict[Key, StockItem]:
    """Lock the StockItem rows for ``keys``, creating missing ones (all zero) first."""
    rows = stock_items_for_update(keys)
    missing = keys - rows.keys()
    if missing:
        StockItem.objects.bulk_create(
            [StockItem(warehouse_id=w, sku_id=s) for w, s in sorted(missing)], ignore_conflicts=True
        )
        rows = stock_items_for_update(keys)
    return rows


@transaction.atomic(savepoint=False)
def ledger_post(
    *,
    moves: Sequence[MoveSpec],
    reserved: Mapping[Key, int] | None = None,
    reserved_transfer: Mapping[Key, int] | None = None,
    locked: Mapping[Key, StockItem] | None = None,
) -> dict[Key, StockItem]:
    """Post ``moves`` and the warehouse reservation counter changes in ``reserved`` (the caller writes the
    matching Reservation rows). Refuses, changing nothing, when any counter would break its invariant."""
    deltas: dict[Key, ItemDelta] = defaultdict(ItemDelta)
    for m in moves:
        d = deltas[(m.warehouse_id, m.sku_id)]
        d.on_hand += m.on_hand
        d.defective += m.defective
        d.in_transit += m.in_transit
    for key, q in (reserved or {}).items():
        deltas[key].reserved += q
    for key, q in (reserved_transfer or {}).items():
        deltas[key].reserved_transfer += q
    if not deltas:
        return {}
    items = dict(locked) if locked is not None else {}
    missing = set(deltas) - items.keys()
    if missing:
        items.update(lock_items(missing))
    _check(items, deltas)
    rows = _expand_batches(moves, items)
    now = timezone.now()
    for key, d in deltas.items():
        item = items[key]
        for name in COUNTERS:
            setattr(item, name, getattr(item, name) + getattr(d, name))
        item.updated_at = now
    # One UPDATE … FROM unnest on PostgreSQL, not a CASE per row and counter (B3: a batch touches hundreds).
    bulk_set([items[k] for k in sorted(deltas)], [*COUNTERS, "updated_at"])
    bulk_insert(rows)
    return items


def _check(items: Mapping[Key, StockItem], deltas: Mapping[Key, ItemDelta]) -> None:
    problems: list[tuple[Key, str, int, int]] = []
    for key, d in deltas.items():
        item = items[key]
        on_hand = item.on_hand + d.on_hand
        reserved = item.reserved + d.reserved
        transfer = item.reserved_transfer + d.reserved_transfer
        if on_hand < 0:
            problems.append((key, "on_hand", item.on_hand, -d.on_hand))
        elif reserved > on_hand:
            problems.append((key, "reserved", item.on_hand - item.reserved, -d.on_hand))
        elif reserved < 0 or transfer < 0 or transfer > reserved:
            problems.append((key, "reserved", item.reserved, -d.reserved))
        if item.defective + d.defective < 0:
            problems.append((key, "defective", item.defective, -d.defective))
        if item.in_transit + d.in_transit < 0:
            problems.append((key, "in_transit", item.in_transit, -d.in_transit))
    if not problems:
        return
    codes = dict(Sku.objects.filter(id__in={k[1] for k, *_ in problems}).values_list("id", "code"))
    details = [
        {"sku": codes.get(key[1], str(key[1])), "warehouse_id": key[0], "counter": counter, "have": have, "need": need}
        for key, counter, have, need in problems
    ]
    raise Conflict(
        "Not enough stock: "
        + "; ".join(f"{d['sku']} {d['counter']} has {d['have']}, needs {d['need']}" for d in details),
        code="insufficient_stock",
        extra={"skus": details},
    )


def _expand_batches(moves: Sequence[MoveSpec], items: Mapping[Key, StockItem]) -> list[StockMove]:
    """StockMove rows for ``moves``: incoming units go to their named batch (created on first receipt), outgoing
    units leave from named batch or FEFO; batch counters are updated here."""
    batch_keys = {(m.warehouse_id, m.sku_id) for m in moves if m.batch_no or m.on_hand < 0 or m.defective < 0}
    if not batch_keys:
        return [_row(m, None, m.on_hand, m.defective, m.in_transit) for m in moves]
    named = {(m.warehouse_id, m.sku_id, m.batch_no): m for m in moves if m.batch_no}
    new = [
        Batch(
            warehouse_id=w,
            sku_id=s,
            batch_no=no,
            production_date=m.production_date,
            expiry_date=m.expiry_date,
        )
        for (w, s, no), m in named.items()
        if m.on_hand >= 0 and m.defective >= 0
    ]
    if new:
        Batch.objects.bulk_create(new, ignore_conflicts=True)
    batches = batches_for_update(batch_keys)
    by_no = {(b.warehouse_id, b.sku_id, b.batch_no): b for b in batches}
    by_item: dict[Key, list[Batch]] = defaultdict(list)
    for b in batches:
        by_item[(b.warehouse_id, b.sku_id)].append(b)
    rows: list[StockMove] = []
    changed: dict[int, Batch] = {}
    for m in moves:
        key = (m.warehouse_id, m.sku_id)
        if m.batch_no:
            batch = by_no.get((m.warehouse_id, m.sku_id, m.batch_no))
            if batch is None or batch.on_hand + m.on_hand < 0 or batch.defective + m.defective < 0:
                raise Conflict(
                    f"Batch {m.batch_no} does not hold enough units of SKU {m.sku_id}.",
                    code="insufficient_batch_stock",
                    extra={"batch_no": m.batch_no},
                )
            batch.on_hand += m.on_hand
            batch.defective += m.defective
            changed[batch.pk] = batch
            rows.append(_row(m, batch, m.on_hand, m.defective, m.in_transit))
            continue
        if m.on_hand >= 0 and m.defective >= 0:
            rows.append(_row(m, None, m.on_hand, m.defective, m.in_transit))
            continue
        first = len(rows)
        # Outgoing good units (and defective marking, which moves good units to defective within a batch).
        if m.on_hand < 0:
            levels = [BatchLevel(b.pk, b.on_hand, b.expiry_date, b.pk) for b in by_item[key] if b.on_hand > 0]
            unbatched = items[key].on_hand - sum(b.on_hand for b in by_item[key])
            plan = plan_batch_issue(levels, -m.on_hand)
            ratio_defective = m.defective  # units turned defective, taken along with the same batches
            for batch_id, units in plan:
                share_def = min(units, ratio_defective) if ratio_defective > 0 else 0
                ratio_defective -= share_def
                if batch_id is None:
                    if units > unbatched:
                        raise Conflict("Batch counters do not cover the issue.", code="batch_mismatch")
                    rows.append(_row(m, None, -units, share_def))
                    continue
                batch = changed.get(batch_id) or next(b for b in by_item[key] if b.pk == batch_id)
                batch.on_hand -= units
                batch.defective += share_def
                changed[batch.pk] = batch
                rows.append(_row(m, batch, -units, share_def))
            if ratio_defective > 0:
                rows.append(_row(m, None, 0, ratio_defective))
            rows[first].delta_in_transit = m.in_transit
            continue
        # Defective units leaving: from defective batches first, then unbatched.
        left = -m.defective
        for b in by_item[key]:
            take = min(b.defective, left)
            if take > 0:
                b.defective -= take
                changed[b.pk] = b
                rows.append(_row(m, b, 0, -take))
                left -= take
        if left > 0:
            rows.append(_row(m, None, 0, -left))
        rows[first].delta_in_transit = m.in_transit
    if changed:
        Batch.objects.bulk_update(list(changed.values()), ["on_hand", "defective"])
    return rows


def _row(m: MoveSpec, batch: Batch | None, on_hand: int, defective: int, in_transit: int = 0) -> StockMove:
    return StockMove(
        warehouse_id=m.warehouse_id,
        sku_id=m.sku_id,
        batch=batch,
        kind=m.kind,
        delta_on_hand=on_hand,
        delta_defective=defective,
        delta_in_transit=in_transit,
        ref_type=m.ref_type,
        ref_id=m.ref_id,
        note=m.note[:200],
    )
