"""Stockouts (缺货): resolve them when stock arrives, cancel them when their order no longer needs them.

Resolution re-reserves in arrival order: the open stockouts are taken oldest first and `warehouse_reserve`
grants in request order, so the order that went short first is served first. An order whose last
stockout is resolved moves on to courier assignment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.actors import SYSTEM, Actor
from oms.core.db_retry import retry_on_deadlock
from oms.fulfillment import actions
from oms.fulfillment.models import Stockout, StockoutState
from oms.fulfillment.services.common import REF_TYPE, lock_orders
from oms.fulfillment.services.courier import orders_courier_assign
from oms.inventory.models import StockItem
from oms.inventory.services.reservations import WarehouseReserveRequest, warehouse_reserve
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderEvent, OrderLine
from oms.orders.services.timeline import order_event_build, order_events_save
from oms.orders.services.updates import order_lines_clear_short, order_lines_short_save, orders_short_clear

# While an order is in one of these, its stockouts still matter; afterwards they are cancelled.
WAITING = (Status.PENDING_REVIEW, Status.PENDING_SPLIT, Status.PENDING_DISPATCH)


@dataclass
class StockoutSummary:
    resolved: int = 0
    reduced: int = 0
    cancelled: int = 0
    ready_orders: list[int] = field(default_factory=list)


@transaction.atomic(savepoint=False)
def stockouts_cancel(*, order_ids: Sequence[int], reason: str, actor: Actor) -> int:
    """Cancel the open stockouts of these orders (cancelled, split, transferred: S3) and clear the lines'
    short figures; the caller judges shortage again on what replaces them. The caller holds the order locks."""
    rows = list(Stockout.objects.select_for_update().filter(order_id__in=list(order_ids), state=StockoutState.OPEN))
    if not rows:
        return 0
    now = timezone.now()
    Stockout.objects.filter(pk__in=[r.pk for r in rows]).update(
        state=StockoutState.CANCELLED, closed_at=now, note=reason[:200]
    )
    order_lines_clear_short(line_ids=[r.line_id for r in rows], order_ids={r.order_id for r in rows})
    for order_id in sorted({r.order_id for r in rows}):
        audit_record(
            actor=actor,
            action=actions.STOCKOUT_CANCEL,
            object_type="orders.order",
            object_id=order_id,
            after={"cancelled": [r.pk for r in rows if r.order_id == order_id]},
            reason=reason,
        )
    return len(rows)


def stockouts_resolve(
    *, sku_ids: Sequence[int] | None = None, limit: int = 500, actor: Actor = SYSTEM
) -> StockoutSummary:
    """Re-reserve open stockouts against the stock now on the shelves, oldest first; then assign couriers to
    the orders that are whole again. Safe to run at any time and in several processes (row locks)."""
    summary = _resolve(sku_ids=sku_ids, limit=limit, actor=actor)
    if summary.ready_orders:
        orders_courier_assign(orders=list(Order.objects.filter(pk__in=summary.ready_orders)), actor=actor)
    return summary


def _candidate_orders(sku_ids: Sequence[int] | None, limit: int) -> list[int]:
    """Orders of open stockouts whose shelf has free units now (bundles: their components are checked on
    reserving), oldest first, so a long tail of hopeless old stockouts cannot starve the ones stock just
    arrived for."""
    free_here = StockItem.objects.filter(
        warehouse_id=OuterRef("warehouse_id"), sku_id=OuterRef("sku_id"), on_hand__gt=F("reserved")
    )
    candidates = Stockout.objects.filter(state=StockoutState.OPEN).filter(Q(Exists(free_here)) | Q(sku__is_bundle=True))
    if sku_ids is not None:
        candidates = candidates.filter(sku_id__in=list(sku_ids))
    return list(candidates.order_by("created_at", "id").values_list("order_id", flat=True)[:limit])


def _stale_cancel(rows: list[Stockout], orders: dict[int, Order], now: datetime) -> list[Stockout]:
    """Cancel the stockouts of orders that no longer wait for stock; returns them."""
    stale = [
        r for r in rows if orders[r.order_id].status not in WAITING or orders[r.order_id].final_warehouse_id is None
    ]
    if stale:
        Stockout.objects.filter(pk__in=[r.pk for r in stale]).update(
            state=StockoutState.CANCELLED, closed_at=now, note="order no longer waits for stock"
        )
    return stale


def _re_reserve(live: list[Stockout], now: datetime) -> tuple[list[Stockout], list[Stockout]]:
    """Reserve the live stockouts' lines again, in request order; the stockouts whose units all came are
    resolved, those that got some are reduced, and the lines' short figures follow. Returns (resolved, reduced)."""
    outcomes = warehouse_reserve(
        requests=[
            WarehouseReserveRequest(
                ref_type=REF_TYPE,
                ref_id=r.line_id,
                warehouse_id=r.warehouse_id,
                sku_id=r.sku_id,
                quantity=r.line.quantity,
            )
            for r in live
        ],
        refuse_when_short=False,
    )
    short = {o.ref_id: o.short for o in outcomes}
    resolved: list[Stockout] = []
    reduced: list[Stockout] = []
    lines: list[OrderLine] = []
    for r in live:
        left = short.get(r.line_id, r.quantity)
        if left == r.quantity:
            continue
        r.line.short_quantity = left
        lines.append(r.line)
        if left == 0:
            r.state, r.closed_at, r.note = StockoutState.RESOLVED, now, "stock arrived"
            resolved.append(r)
        else:
            r.quantity = left
            reduced.append(r)
    Stockout.objects.bulk_update(resolved, ["state", "closed_at", "note"])
    Stockout.objects.bulk_update(reduced, ["quantity"])
    order_lines_short_save(lines)
    return resolved, reduced


def _orders_record(
    orders: dict[int, Order], resolved: list[Stockout], reduced: list[Stockout], *, actor: Actor
) -> list[int]:
    """Timeline and log per order touched; orders with no open stockout left lose their short flag.
    Returns the ids of those orders (whole again: ready for a courier)."""
    still_short = set(
        Stockout.objects.filter(order_id__in=list(orders), state=StockoutState.OPEN).values_list("order_id", flat=True)
    )
    touched = {r.order_id for r in resolved + reduced}
    events: list[OrderEvent] = []
    whole: list[Order] = []
    for order_id in sorted(touched):
        order = orders[order_id]
        done = [r for r in resolved if r.order_id == order_id]
        events.append(
            order_event_build(
                order=order,
                kind="stockout_resolved" if order_id not in still_short else "stockout_reduced",
                actor=actor,
                data={
                    "lines": {str(r.line_id): r.line.short_quantity for r in done + reduced if r.order_id == order_id}
                },
            )
        )
        audit_record(
            actor=actor,
            action=actions.STOCKOUT_RESOLVE,
            obj=order,
            after={"resolved": [r.pk for r in done], "still_short": order_id in still_short},
        )
        if order_id not in still_short:
            order.has_short_lines = False
            whole.append(order)
    orders_short_clear([o.pk for o in whole])
    order_events_save(events)
    return [o.pk for o in whole]


@retry_on_deadlock
@transaction.atomic(durable=True)
def _resolve(*, sku_ids: Sequence[int] | None, limit: int, actor: Actor) -> StockoutSummary:
    summary = StockoutSummary()
    order_ids = _candidate_orders(sku_ids, limit)
    if not order_ids:
        return summary
    orders = lock_orders(order_ids)
    rows = list(
        Stockout.objects.select_for_update()
        .filter(order_id__in=list(orders), state=StockoutState.OPEN)
        .select_related("line")
        .order_by("created_at", "id")
    )
    now = timezone.now()
    stale = _stale_cancel(rows, orders, now)
    summary.cancelled = len(stale)
    resolved, reduced = _re_reserve([r for r in rows if r not in stale], now)
    summary.resolved, summary.reduced = len(resolved), len(reduced)
    summary.ready_orders = _orders_record(orders, resolved, reduced, actor=actor)
    return summary
