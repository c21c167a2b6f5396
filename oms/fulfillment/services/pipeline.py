"""The automatic pipeline after payment (DESIGN "Order lifecycle"):

    review (after the post-payment buffer) → warehouse allocation → courier → pending_dispatch [→ dispatch]

`orders_advance` runs the steps in order over a batch: review in one transaction, then allocation and
courier assignment together in a second (warehouse reservations in the same transaction, stock-item locks
taken last); each step is also a service on its own (`orders_review`, `orders_allocate`,
`orders_courier_assign`, `orders_dispatch`) for the console and API. An order stops where it must: an open
interception, a proposed split (pending_split), a stockout (缺货) or no courier.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from oms.core.actors import SYSTEM, Actor
from oms.core.bulk import ids_in
from oms.core.db_retry import retry_on_deadlock
from oms.fulfillment.conf import auto_dispatch, review_buffer_minutes
from oms.fulfillment.conf import batch_size as default_batch_size
from oms.fulfillment.services.allocation import (
    ORDER_FIELDS,
    allocatable,
    allocation_plans,
    allocation_record,
    allocation_reserve,
)
from oms.fulfillment.services.common import facts_for_rules, lock_orders, open_holds
from oms.fulfillment.services.courier import CourierResult, assign_couriers_locked, courier_due, orders_short
from oms.fulfillment.services.dispatch import orders_dispatch
from oms.orders.domain.status import Status
from oms.orders.models import Order
from oms.orders.services.updates import orders_update_grouped
from oms.review.models import Interception, InterceptionState
from oms.review.services import orders_review


@dataclass
class AdvanceSummary:
    reviewed: int = 0
    held: int = 0
    allocated: int = 0
    split_proposed: int = 0
    short: int = 0
    couriers: int = 0
    no_courier: int = 0
    dispatched: int = 0
    order_ids: list[int] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per step, for operators and B3


def review_cutoff(now: datetime | None = None, buffer_minutes: int | None = None) -> datetime:
    minutes = review_buffer_minutes() if buffer_minutes is None else buffer_minutes
    return (now or timezone.now()) - timedelta(minutes=int(minutes))


def orders_advance(
    *,
    orders: Sequence[Order],
    actor: Actor,
    now: datetime | None = None,
    buffer_minutes: int | None = None,
    dispatch: bool = False,
) -> AdvanceSummary:
    """Take the orders as far along the pipeline as they can go now. Orders paid less than the buffer ago
    are not reviewed yet (related orders may still be merged); everything else about them still runs."""
    ids = sorted({o.pk for o in orders})
    summary = AdvanceSummary(order_ids=ids)
    if not ids:
        return summary
    cutoff = review_cutoff(now, buffer_minutes)
    # Only the keys: review locks and reads the orders itself.
    due_review = [
        Order(pk=pk)
        for pk in Order.objects.filter(ids_in("pk", ids), status=Status.PENDING_REVIEW, reviewed_at__isnull=True)
        .filter(Q(paid_at__lte=cutoff) | Q(paid_at__isnull=True, placed_at__lte=cutoff))
        .values_list("pk", flat=True)
    ]
    clock = time.perf_counter()
    # Facts are read once for all the rule steps: review's (read under its locks just before) serve the
    # warehouse and courier rules too, and nothing review or allocation writes is a fact.
    reviewed_facts: dict[int, dict[str, Any]] = {}
    if due_review:
        outcomes = orders_review(orders=due_review, actor=actor)
        summary.reviewed = sum(1 for o in outcomes if o.passed)
        summary.held = sum(1 for o in outcomes if not o.passed)
        reviewed_facts = {o.order.pk: o.facts for o in outcomes if o.passed}

    clock = _lap(summary, "review", clock)
    _allocate_and_assign(ids, summary=summary, actor=actor, facts=reviewed_facts)
    clock = time.perf_counter()

    if dispatch:
        summary.dispatched = len(orders_dispatch(orders=[Order(pk=pk) for pk in ids], actor=actor))
        _lap(summary, "dispatch", clock)
    return summary


# What allocation and courier assignment change on an order: restored in memory when a batch falls back.
_ORDER_STATE = ("status", "warehouse_id", "final_warehouse_id", "has_short_lines", "courier_id", "updated_at")


@retry_on_deadlock
@transaction.atomic(durable=True)
def _allocate_and_assign(
    ids: list[int], *, summary: AdvanceSummary, actor: Actor, facts: dict[int, dict[str, Any]]
) -> None:
    """Allocation and courier assignment of a batch in one transaction (re-run whole if PostgreSQL breaks a
    deadlock: reserving many SKUs for many orders can cross a concurrent transaction's locks).

    The stock-item locks are what concurrent batches queue on, so they are taken last: allocation is planned
    on an unlocked read of free stock, recorded as planned (shortfalls included), couriers are assigned
    (each order's warehouse and courier fields and new status in one UPDATE), and only then are the
    warehouse reservations taken under the locks. If they grant anything else than planned (someone took
    stock in between), everything after the savepoint is undone and the batch is recorded the careful way:
    reserve first, record what was granted, then assign couriers to the orders that are not short."""
    started = time.perf_counter()
    locked = lock_orders(ids, related=False)
    held = open_holds(ids)
    due = [o for o in locked.values() if allocatable(o) and o.pk not in held]
    facts = {**facts, **facts_for_rules([o for o in due if o.pk not in facts])}
    plans = allocation_plans(orders=due, facts=facts)
    state = {o.pk: tuple(getattr(o, f) for f in _ORDER_STATE) for o in locked.values()}
    savepoint = transaction.savepoint()
    changed = allocation_record(plans, short=plans.expected_short, actor=actor, write_orders=False)
    courier_s, chosen = _assign(ids, locked, actor=actor, facts=facts, fields=ORDER_FIELDS)
    written = {c.order.pk for c in chosen if c.choice.courier_id is not None}
    orders_update_grouped([o for o in changed if o.pk not in written], [*ORDER_FIELDS, "updated_at"])
    short = allocation_reserve(plans)
    if short == plans.expected_short:
        transaction.savepoint_commit(savepoint)
    else:
        transaction.savepoint_rollback(savepoint)
        for o in locked.values():
            for name, value in zip(_ORDER_STATE, state[o.pk], strict=True):
                setattr(o, name, value)
        for result in plans.results:
            result.stockouts.clear()
        allocation_record(plans, short=allocation_reserve(plans), actor=actor)
        courier_s, chosen = _assign(ids, locked, actor=actor, facts=facts, fields=())
    results = plans.results
    summary.allocated = sum(1 for r in results if r.plan.warehouse_id is not None)
    summary.split_proposed = sum(1 for r in results if r.plan.outcome == "split")
    summary.short = sum(1 for r in results if r.stockouts)
    summary.couriers = sum(1 for c in chosen if c.choice.courier_id is not None)
    summary.no_courier = sum(1 for c in chosen if c.choice.courier_id is None)
    spent = time.perf_counter() - started
    summary.seconds["allocation"] = round(summary.seconds.get("allocation", 0.0) + spent - courier_s, 4)
    summary.seconds["courier"] = round(summary.seconds.get("courier", 0.0) + courier_s, 4)


def _assign(
    ids: list[int],
    locked: dict[int, Order],
    *,
    actor: Actor,
    facts: dict[int, dict[str, Any]],
    fields: Sequence[str],
) -> tuple[float, list[CourierResult]]:
    """Couriers for the locked orders that are allocated, not held and not short; returns the seconds spent."""
    started = time.perf_counter()
    blocked = open_holds(ids) | orders_short(ids)
    due = [o for o in locked.values() if courier_due(o) and o.pk not in blocked]
    facts.update(facts_for_rules([o for o in due if o.pk not in facts]))
    chosen = assign_couriers_locked(orders=due, actor=actor, facts=facts, fields=fields)
    return time.perf_counter() - started, chosen


def _lap(summary: AdvanceSummary, step: str, since: float) -> float:
    now = time.perf_counter()
    summary.seconds[step] = round(summary.seconds.get(step, 0.0) + now - since, 4)
    return now


def pipeline_due(*, limit: int, now: datetime | None = None) -> list[int]:
    """Orders the periodic run should advance: past the buffer and not reviewed, or reviewed and waiting for
    a warehouse or courier, or (with AUTO_DISPATCH) waiting for dispatch. Oldest first."""
    cutoff = review_cutoff(now)
    waiting = Q(status=Status.PENDING_REVIEW) & (
        Q(reviewed_at__isnull=False) | Q(paid_at__lte=cutoff) | Q(paid_at__isnull=True, placed_at__lte=cutoff)
    )
    if auto_dispatch():
        waiting |= Q(status=Status.PENDING_DISPATCH, courier__isnull=False)
    # Held orders wait for an operator: releasing the hold re-runs review itself, so they are not polled.
    held = Interception.objects.filter(order_id=OuterRef("pk"), state=InterceptionState.OPEN)
    return list(
        Order.objects.filter(waiting)
        .exclude(Exists(held))
        .order_by("placed_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def pipeline_run(*, actor: Actor = SYSTEM, batch_size: int | None = None, max_batches: int = 20) -> AdvanceSummary:
    """The periodic run: advance due orders batch by batch. Orders that cannot move (held, short, split
    pending) would come back every batch, so each run looks at each order at most once."""
    size = batch_size or default_batch_size()
    total = AdvanceSummary()
    seen: set[int] = set()
    dispatch = auto_dispatch()
    for _ in range(max_batches):
        ids = [pk for pk in pipeline_due(limit=size + len(seen)) if pk not in seen][:size]
        if not ids:
            break
        seen.update(ids)
        part = orders_advance(orders=[Order(pk=pk) for pk in ids], actor=actor, dispatch=dispatch)
        for name in (
            "reviewed",
            "held",
            "allocated",
            "split_proposed",
            "short",
            "couriers",
            "no_courier",
            "dispatched",
        ):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        total.order_ids += ids
        for step, spent in part.seconds.items():
            total.seconds[step] = round(total.seconds.get(step, 0.0) + spent, 4)
    return total
