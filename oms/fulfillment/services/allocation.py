"""Warehouse allocation (分仓): plan each reviewed order, take the warehouse reservations in the same
transaction, record stockouts (缺货) for what the shelf cannot cover, and send orders no single warehouse can
serve to pending_split with the proposed plan.

Planning reads free stock without locks; `warehouse_reserve` then grants under the StockItem locks, so a
unit taken by someone else in between shows up as a stockout, never as an oversell.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record_many
from oms.channels.models import ChannelWarehouse
from oms.core.actors import Actor
from oms.core.bulk import bulk_insert, bulk_set, ids_in
from oms.core.db_retry import retry_on_deadlock
from oms.core.errors import Conflict
from oms.core.rules import ConditionMemo
from oms.fulfillment import actions
from oms.fulfillment.conf import warehouse_tie_breaks
from oms.fulfillment.domain.allocation import (
    AllocationPlan,
    AllocationRequest,
    Key,
    Outcome,
    WarehouseDirective,
    plan_allocation,
    plan_take,
)
from oms.fulfillment.domain.rule_params import warehouse_directive
from oms.fulfillment.models import DecisionKind, Stockout
from oms.fulfillment.services.common import (
    REF_TYPE,
    DecisionRows,
    LineRow,
    enabled_rules,
    facts_when_needed,
    line_needs,
    lock_orders,
    matching_rules,
    open_holds,
    order_line_rows,
    recipes_of,
    warehouse_options,
)
from oms.inventory.models import Reservation, ReservationScope, ReservationState, StockItem
from oms.inventory.services.reservations import WarehouseReserveRequest, warehouse_reserve
from oms.orders.domain.payments import refunded_in_full
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderLine
from oms.orders.services.timeline import EventRow, order_events_insert, orders_transition
from oms.orders.services.updates import orders_update_grouped
from oms.review.models import RuleKind
from oms.review.services import order_intercept


@dataclass
class AllocationResult:
    order: Order
    plan: AllocationPlan
    stockouts: list[Stockout] = field(default_factory=list)


# The order fields allocation sets.
ORDER_FIELDS = ("warehouse_id", "final_warehouse_id", "has_short_lines")


def allocatable(order: Order) -> bool:
    """Reviewed, still before the warehouse, not yet given a warehouse, not refunded in full."""
    return (
        order.status == Status.PENDING_REVIEW
        and order.reviewed_at is not None
        and order.final_warehouse_id is None
        and not refunded_in_full(order.payment_status)
    )


def _held_at_warehouses(line_ids: list[int]) -> dict[int, dict[Key, int]]:
    """Active warehouse reservations per line: (warehouse, sku) → units. They count as free for their own line."""
    held: dict[int, dict[Key, int]] = defaultdict(lambda: defaultdict(int))
    if not line_ids:
        return held
    for ref_id, wh, sku, q in Reservation.objects.filter(
        ids_in("ref_id", line_ids), ref_type=REF_TYPE, scope=ReservationScope.WAREHOUSE, state=ReservationState.ACTIVE
    ).values_list("ref_id", "warehouse_id", "sku_id", "quantity"):
        held[ref_id][(wh, sku)] += q
    return held


@dataclass
class AllocationPlans:
    """A batch planned on an unlocked read of free stock: what to reserve, and what the plan expects short."""

    results: list[AllocationResult]
    lines_by_order: dict[int, list[LineRow]]
    line_warehouse: dict[int, int]
    requests: list[WarehouseReserveRequest]
    expected_short: dict[int, int]


@transaction.atomic(savepoint=False)
def allocate_locked(
    *, orders: Sequence[Order], actor: Actor, facts: dict[int, dict[str, Any]] | None = None
) -> list[AllocationResult]:
    """Allocate orders the caller has locked (`lock_orders`) and checked with `allocatable`: reserve (under
    the stock-item locks), then record what the reservation granted."""
    plans = allocation_plans(orders=orders, facts=facts)
    allocation_record(plans, short=allocation_reserve(plans), actor=actor)
    return plans.results


def allocation_reserve(plans: AllocationPlans) -> dict[int, int]:
    """Take the warehouse reservations the plans need (locks the stock items); returns line id → units short."""
    outcomes = warehouse_reserve(requests=plans.requests, refuse_when_short=False)
    return {o.ref_id: o.short for o in outcomes if o.short > 0}


def allocation_plans(*, orders: Sequence[Order], facts: dict[int, dict[str, Any]] | None = None) -> AllocationPlans:
    """Plan each order's warehouse (no writes, no locks beyond the caller's order locks)."""
    if not orders:
        return AllocationPlans([], {}, {}, [], {})
    ids = [o.pk for o in orders]
    lines_by_order = order_line_rows(ids)
    all_lines = [ln for lines in lines_by_order.values() for ln in lines]
    recipes = recipes_of({ln.sku_id: ln.is_bundle for ln in all_lines if ln.sku_id is not None})
    rules = enabled_rules(RuleKind.WAREHOUSE)
    facts = facts_when_needed(orders, rules, facts)
    warehouses = warehouse_options()
    assigned: dict[int, set[int]] = defaultdict(set)
    for channel_id, warehouse_id in ChannelWarehouse.objects.filter(
        channel_id__in={o.channel_id for o in orders}
    ).values_list("channel_id", "warehouse_id"):
        assigned[channel_id].add(warehouse_id)
    stocked = {c for r in recipes.values() for c, _q in r}
    active_ids = [w.id for w in warehouses]
    free: dict[Key, int] = {
        (w, s): on_hand - reserved
        for w, s, on_hand, reserved in StockItem.objects.filter(
            sku_id__in=sorted(stocked), warehouse_id__in=active_ids
        ).values_list("warehouse_id", "sku_id", "on_hand", "reserved")
    }
    held = _held_at_warehouses([ln.pk for ln in all_lines])
    tie_breaks = warehouse_tie_breaks()
    memo = ConditionMemo()

    results: list[AllocationResult] = []
    requests: list[WarehouseReserveRequest] = []
    by_line: dict[int, LineRow] = {ln.pk: ln for ln in all_lines}
    line_warehouse: dict[int, int] = {}
    for order in orders:
        lines = lines_by_order.get(order.pk, [])
        if not lines or any(ln.sku_id is None for ln in lines):
            results.append(
                AllocationResult(order, AllocationPlan(Outcome.NONE, reason="the order has lines without a SKU"))
            )
            continue
        own: dict[Key, int] = defaultdict(int)
        for ln in lines:
            for key, q in held.get(ln.pk, {}).items():
                own[key] += q
        directives: list[WarehouseDirective] = [
            warehouse_directive(r.pk, r.code, r.params or {})
            for r in matching_rules(rules, facts.get(order.pk, {}), memo)
        ]
        if own and len({w for w, _s in own}) == 1:
            (held_wh,) = {w for w, _s in own}
            code = next((w.code for w in warehouses if w.id == held_wh), "")
            directives.insert(0, WarehouseDirective(None, "", prefer=(code,)))
        request = AllocationRequest(
            order_id=order.pk,
            province=order.receiver_province,
            city=order.receiver_city,
            lines=line_needs(lines, recipes),
            channel_warehouses=frozenset(assigned.get(order.channel_id, set())),
            directives=tuple(directives),
        )
        for key, q in own.items():
            free[key] = free.get(key, 0) + q
        plan = plan_allocation(request, warehouses, free, tie_breaks=tie_breaks)
        plan_take(free, request, plan)
        results.append(AllocationResult(order, plan))
        for group in plan.groups:
            for line_id in group.line_ids:
                line_warehouse[line_id] = group.warehouse_id
                requests.append(
                    WarehouseReserveRequest(
                        ref_type=REF_TYPE,
                        ref_id=line_id,
                        warehouse_id=group.warehouse_id,
                        sku_id=by_line[line_id].sku_id,  # type: ignore[arg-type]
                        quantity=by_line[line_id].quantity,
                    )
                )
    expected = {s.line_id: s.quantity for r in results for s in r.plan.shortfalls if s.quantity > 0}
    return AllocationPlans(results, lines_by_order, line_warehouse, requests, expected)


def allocation_record(
    plans: AllocationPlans, *, short: dict[int, int], actor: Actor, write_orders: bool = True
) -> list[Order]:
    """Record the plans with ``short`` (line id → units the shelf did not cover): decisions, stockouts, events,
    operation log, the orders' warehouse fields (unless not ``write_orders``: the caller writes them with its
    own UPDATE), split proposals and no-warehouse holds. Returns the orders whose fields changed."""
    results, lines_by_order, line_warehouse = plans.results, plans.lines_by_order, plans.line_warehouse
    now = timezone.now()
    decisions = DecisionRows(DecisionKind.WAREHOUSE, actor)
    events: list[EventRow] = []
    stockouts: list[Stockout] = []
    changed_orders: list[Order] = []
    changed_lines: list[OrderLine] = []
    to_split: list[Order] = []
    unplaceable: list[AllocationResult] = []
    audits: list[tuple[Order, dict[str, Any] | None, dict[str, Any] | None, str]] = []
    for result in results:
        order, plan = result.order, result.plan
        decisions.add(
            order_id=order.pk,
            outcome=plan.outcome.value,
            warehouse_id=plan.warehouse_id,
            rule_id=plan.rule_id,
            rule_code=plan.rule_code,
            reason=plan.reason,
            plan={
                "groups": [{"warehouse_id": g.warehouse_id, "line_ids": list(g.line_ids)} for g in plan.groups],
                "eligible": list(plan.eligible),
            },
        )
        if plan.outcome == Outcome.NONE:
            unplaceable.append(result)
            continue
        for ln in lines_by_order[order.pk]:
            missing = short.get(ln.pk, 0)
            if missing:
                assert ln.sku_id is not None
                so = Stockout(
                    order=order,
                    line_id=ln.pk,
                    sku_id=ln.sku_id,
                    warehouse_id=line_warehouse[ln.pk],
                    quantity=missing,
                    created_at=now,
                )
                stockouts.append(so)
                result.stockouts.append(so)
            if ln.short_quantity != missing:
                changed_lines.append(OrderLine(pk=ln.pk, short_quantity=missing))
        order.has_short_lines = bool(result.stockouts)
        if plan.outcome == Outcome.SPLIT:
            to_split.append(order)
        else:
            order.warehouse_id = order.warehouse_id or plan.warehouse_id
            order.final_warehouse_id = plan.warehouse_id
        order.updated_at = now
        changed_orders.append(order)
        events.append(
            (
                order.pk,
                "warehouse_allocated" if plan.outcome != Outcome.SPLIT else "split_proposed",
                "",
                "",
                plan.reason,
                {
                    "outcome": plan.outcome.value,
                    "warehouse_id": plan.warehouse_id,
                    "rule": plan.rule_code,
                    "short_lines": {str(s.line_id): s.quantity for s in result.stockouts},
                },
            )
        )
        audits.append(
            (
                order,
                None,
                {
                    "outcome": plan.outcome.value,
                    "warehouse_id": plan.warehouse_id,
                    "rule": plan.rule_code,
                    "short": sum(s.quantity for s in result.stockouts),
                },
                plan.reason,
            )
        )
    decisions.insert(now)
    if write_orders:
        orders_update_grouped(changed_orders, [*ORDER_FIELDS, "updated_at"])
    audit_record_many(actor=actor, action=actions.ORDER_ALLOCATE, entries=audits)
    bulk_set(changed_lines, ["short_quantity"])
    bulk_insert(stockouts, returning=True)
    order_events_insert(rows=events, actor=actor)
    orders_transition(orders=to_split, to_status=Status.PENDING_SPLIT.value, actor=actor, reason="split proposed")
    for result in unplaceable:
        order_intercept(order=result.order, reason_code="no_warehouse", reason=result.plan.reason, actor=actor)
    return changed_orders


@retry_on_deadlock
@transaction.atomic(durable=True)
def orders_allocate(*, orders: Sequence[Order], actor: Actor) -> list[AllocationResult]:
    """Allocate every reviewed, unallocated order without an open hold; others are left alone and not
    reported."""
    locked = lock_orders(o.pk for o in orders)
    held = open_holds(list(locked))
    due = [o for o in locked.values() if allocatable(o) and o.pk not in held]
    return allocate_locked(orders=due, actor=actor)


@retry_on_deadlock
@transaction.atomic(durable=True)
def order_allocate(*, order: Order, actor: Actor) -> AllocationResult:
    """Allocate one order now (console, API). 409 when it is not waiting for a warehouse."""
    locked = lock_orders([order.pk])[order.pk]
    if not allocatable(locked):
        raise Conflict(
            f"Order {locked.number} is not waiting for a warehouse (status {locked.status}"
            f"{', not reviewed' if locked.reviewed_at is None else ''}"
            f"{', already allocated' if locked.final_warehouse_id else ''}).",
            code="not_allocatable",
        )
    if open_holds([locked.pk]):
        raise Conflict(f"Order {locked.number} has an open interception.", code="order_held")
    return allocate_locked(orders=[locked], actor=actor)[0]
