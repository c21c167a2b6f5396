"""Row-lock querysets. The one global lock order, which every stock service follows to stay deadlock-free:

0. the stock document row, when a document is being processed (it guards its lines' reservations);
1. Reservation rows, by id;
2. StockItem rows, by (sku id, warehouse id);
3. Batch rows, by id;
4. ChannelStock rows, by (channel id, sku id) (``oms.channels.lock_objects``).

Quota re-allocation locks ChannelStock rows and then *reads* the shelves without locking them; every
transaction that changes a pool re-allocates before it commits, which keeps quotas and shelves in step.
A transaction that makes several stock calls should touch its SKUs in the same order in each, or take all
its locks in the first call; PostgreSQL aborts one side of a deadlock rather than oversell, and the service
that opened the outermost transaction re-runs it whole (``oms.core.db_retry.retry_on_deadlock``).

Each function evaluates its queryset at once, so the locks are taken when it returns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import reduce
from operator import or_

from django.db.models import Q

from oms.inventory.models import Batch, Reservation, ReservationState, StockItem


def pairs_q(keys: Iterable[tuple[int, int]], first: str, second: str) -> Q:
    """One OR-ed condition for many (first, second) id pairs, grouped by the first: one statement, any size."""
    grouped: dict[int, set[int]] = defaultdict(set)
    for a, b in keys:
        grouped[a].add(b)
    if not grouped:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{first: a, f"{second}__in": sorted(bs)}) for a, bs in sorted(grouped.items())))


def stock_items_for_update(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], StockItem]:
    """Lock the StockItem rows for (warehouse id, sku id) keys; missing rows are simply absent."""
    keys = set(keys)
    if not keys:
        return {}
    rows = (
        StockItem.objects.select_for_update()
        .filter(pairs_q(keys, "warehouse_id", "sku_id"))
        .order_by("sku_id", "warehouse_id")
    )
    return {(r.warehouse_id, r.sku_id): r for r in rows}


def batches_for_update(keys: Iterable[tuple[int, int]]) -> list[Batch]:
    keys = set(keys)
    if not keys:
        return []
    return list(Batch.objects.select_for_update().filter(pairs_q(keys, "warehouse_id", "sku_id")).order_by("id"))


def active_reservations_for_update(*, ref_type: str, ref_ids: Sequence[int], **filters: object) -> list[Reservation]:
    if not ref_ids:
        return []
    return list(
        Reservation.objects.select_for_update()
        .filter(ref_type=ref_type, ref_id__in=list(ref_ids), state=ReservationState.ACTIVE, **filters)
        .order_by("id")
    )
