"""Making the orders that replace retired ones: headers, lines with their money, payments received,
reservations moved in the same transaction, lineage, timeline and audit. Shared by split, merge and
un-merge."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.actors import Actor, actor_name, actor_user
from oms.core.errors import Conflict
from oms.fulfillment.services.stockouts import stockouts_cancel
from oms.inventory.models import Reservation, ReservationScope, ReservationState
from oms.inventory.services.reservations import ReservationAllocation, reservations_transfer
from oms.orders.domain.split import LineAmounts, carried_money
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderLine
from oms.orders.services.rows import (
    NewLine,
    order_lines_build,
    order_lines_insert,
    order_platform_refs_insert,
    orders_carried_money_set,
    orders_insert_renumbering,
    payments_carried_insert,
    replacement_order_build,
)
from oms.orders.services.stock_link import REF_TYPE
from oms.orders.services.timeline import order_event_build, order_events_save, orders_retire
from oms.orders.services.updates import order_lines_mark_short
from oms.review.selectors import after_review_holds
from oms.review.services import interceptions_carry_released, interceptions_void
from oms.splitmerge import actions
from oms.splitmerge.models import LineOrigin, OrderLineage
from oms.splitmerge.texts import RETIRED_PREFIX

# Orders that may be split or merged: paid, and not yet handed to the warehouse.
WORKABLE = (Status.PENDING_REVIEW, Status.PENDING_SPLIT, Status.PENDING_DISPATCH)


@dataclass
class ChildLine:
    source: OrderLine
    amounts: LineAmounts
    promotions: list[dict[str, object]]
    origins: list[tuple[OrderLine, int]]  # (source line, units) — several for nothing but kept general


@dataclass
class ChildSpec:
    header_from: Order
    lines: list[ChildLine]
    platform_order_ids: list[str]
    overrides: dict[str, Any] = field(default_factory=dict)


def line_amounts(line: OrderLine) -> LineAmounts:
    return LineAmounts(
        quantity=line.quantity,
        unit_price_minor=line.unit_price_minor,
        gross_minor=line.gross_minor,
        line_discount_minor=line.line_discount_minor,
        order_discount_minor=line.order_discount_minor,
        shipping_minor=line.shipping_minor,
        paid_minor=line.paid_minor,
    )


def check_workable(orders: Sequence[Order]) -> None:
    for order in orders:
        if order.status not in WORKABLE:
            raise Conflict(
                f"Order {order.number} is {order.status}: only paid orders not yet sent to the warehouse "
                "(pending review, split or dispatch) can be split or merged.",
                code="not_splittable",
                extra={"order": order.number, "status": order.status},
            )
    holds = after_review_holds(orders=orders)
    if holds:
        raise Conflict(
            "Resolve the holds raised after review first: " + ", ".join(f"{n} ({c})" for n, c in holds),
            code="held_after_review",
        )


def _held_units(line_ids: Sequence[int]) -> dict[int, int]:
    """Line units a line holds at channel level (what intake reserved), capped by the line quantity."""
    rows = (
        Reservation.objects.filter(
            ref_type=REF_TYPE,
            ref_id__in=list(line_ids),
            scope=ReservationScope.CHANNEL,
            state=ReservationState.ACTIVE,
        )
        .values("ref_id", "sku_id")
        .annotate(q=Sum("quantity"))
    )
    per_line: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        per_line[r["ref_id"]].append(r["q"])
    return {line_id: min(qs) for line_id, qs in per_line.items()}


def _new_line(cl: ChildLine) -> NewLine:
    src = cl.source
    return NewLine(
        amounts=cl.amounts,
        sku_id=src.sku_id,
        platform_sku_code=src.platform_sku_code,
        platform_line_id=src.platform_line_id,
        name=src.name,
        promotions=cl.promotions,
        is_gift=src.is_gift,
        is_presale=src.is_presale,
        tax_rate_bp=src.tax_rate_bp,
    )


@dataclass
class _Built:
    """The new orders of one operation, saved, with their lines and where each line's units came from."""

    children: list[Order]
    lines: list[OrderLine]
    origins: list[tuple[OrderLine, list[tuple[OrderLine, int]]]]


def carried_promotions(spec: ChildSpec, parents: Sequence[Order]) -> list[dict[str, Any]]:
    """The promotions a new order's lines carry from their parents (L1): each parent rule that took something off
    them, with what it took off these lines (``amount_minor``, ``shares`` by the new positions) and the parent it
    was earned on (``carried_from``). The threshold was met on the parent as a whole, so a return from the new
    order keeps the discount with the value kept instead of judging the threshold on a part (after-sales)."""
    rules = {p.pk: (p.number, list(p.promotions or [])) for p in parents}
    carried: dict[tuple[int, int], dict[str, Any]] = {}
    for position, cl in enumerate(spec.lines):
        number, parent_rules = rules.get(cl.source.order_id, ("", []))
        for entry in cl.promotions:
            k = entry.get("rule")
            if not isinstance(k, int) or not 0 <= k < len(parent_rules):
                continue
            amount = int(str(entry.get("amount_minor", 0) or 0))
            rule = carried.setdefault(
                (cl.source.order_id, k),
                {
                    **{key: v for key, v in parent_rules[k].items() if key not in ("shares", "lines", "amount_minor")},
                    "carried_from": number,
                    "amount_minor": 0,
                    "lines": [],
                    "shares": {},
                },
            )
            rule["amount_minor"] += amount
            rule["lines"].append(position)
            rule["shares"][str(position)] = rule["shares"].get(str(position), 0) + amount
    return [carried[key] for key in sorted(carried)]


def _children_create(
    *, parents: Sequence[Order], specs: Sequence[ChildSpec], operation: uuid.UUID, now: datetime
) -> _Built:
    """Build and insert the new orders (headers, money carried, lines, platform references) and record
    where each new line's units came from."""
    reviewed = all(p.reviewed_at is not None for p in parents)
    new_lines = [[_new_line(cl) for cl in spec.lines] for spec in specs]
    children = [
        replacement_order_build(
            header_from=spec.header_from,
            overrides={"promotions": carried_promotions(spec, parents), **spec.overrides},
            lines=lines,
            platform_order_ids=spec.platform_order_ids,
            reviewed=reviewed,
            at=now,
        )
        for spec, lines in zip(specs, new_lines, strict=True)
    ]
    orders_carried_money_set(
        children,
        carried_money(
            received_minor=sum(p.received_minor for p in parents),
            refunded_minor=sum(p.refunded_minor for p in parents),
            payables=[c.payable_minor for c in children],
        ),
    )
    orders_insert_renumbering(children, at=now)
    payments_carried_insert(orders=children, from_numbers=[p.number for p in parents], operation=operation.hex, at=now)
    built = _Built(children=children, lines=[], origins=[])
    for child, spec, lines in zip(children, specs, new_lines, strict=True):
        rows = order_lines_build(order=child, lines=lines)
        built.lines += rows
        built.origins += [(row, cl.origins) for row, cl in zip(rows, spec.lines, strict=True)]
    order_lines_insert(built.lines)
    LineOrigin.objects.bulk_create(
        [LineOrigin(line=line, source_line=src, quantity=q) for line, pairs in built.origins for src, q in pairs]
    )
    order_platform_refs_insert(children)
    return built


def _reservations_move(*, parents: Sequence[Order], built: _Built, kind: str, operation: uuid.UUID) -> None:
    """Reservations move line to line in this transaction: no moment where another order could take the
    units (S2). A line that was short passes on only what it holds; the rest is judged again."""
    source_ids = [line.pk for p in parents for line in p.lines.all() if line.sku_id is not None]
    left = _held_units(source_ids)
    allocations: list[ReservationAllocation] = []
    short_by_line: dict[int, int] = {}
    for line, pairs in built.origins:
        got = 0
        for src, q in pairs:
            if src.sku_id is None:
                continue
            take = min(q, left.get(src.pk, 0))
            if take:
                left[src.pk] -= take
                got += take
                allocations.append(
                    ReservationAllocation(from_ref_id=src.pk, to_ref_id=line.pk, sku_id=src.sku_id, quantity=take)
                )
        if line.sku_id is not None and got < line.quantity:
            short_by_line[line.pk] = line.quantity - got
    if source_ids:
        reservations_transfer(
            ref_type=REF_TYPE, from_ref_ids=source_ids, to_allocations=allocations, reason=f"{kind} {operation}"
        )
    order_lines_mark_short(lines=built.lines, short_by_line=short_by_line)


def _parents_retire(
    *, parents: Sequence[Order], children: Sequence[Order], kind: str, actor: Actor, reason: str, operation: uuid.UUID
) -> None:
    """Retire the parents: their stockouts end (S3), their holds are void (the rules run again on the
    children when the orders were not yet reviewed, S6), and they close with the reason."""
    parent_ids = [p.pk for p in parents]
    stockouts_cancel(order_ids=parent_ids, reason=f"{kind}: replaced by new orders", actor=actor)
    interceptions_carry_released(parents=parents, children=children, actor=actor)
    interceptions_void(order_ids=parent_ids, actor=actor, note=f"{kind}: order retired")
    numbers = ", ".join(c.number for c in children)
    orders_retire(
        orders=parents,
        actor=actor,
        reason=f"{RETIRED_PREFIX[kind]}: → {numbers}. {reason}".strip(),
        data={"kind": kind, "operation": str(operation), "children": [c.number for c in children]},
    )


def _lineage_record(
    *,
    parents: Sequence[Order],
    children: Sequence[Order],
    kind: str,
    actor: Actor,
    reason: str,
    operation: uuid.UUID,
    now: datetime,
) -> None:
    """Who replaced whom (lineage), the children's first timeline event and their operation-log rows."""
    OrderLineage.objects.bulk_create(
        [
            OrderLineage(
                operation=operation,
                kind=kind,
                parent=p,
                child=c,
                at=now,
                actor=actor_user(actor),
                actor_name=actor_name(actor),
                reason=reason[:300],
            )
            for p in parents
            for c in children
        ]
    )
    parent_numbers = [p.number for p in parents]
    order_events_save(
        [
            order_event_build(
                order=c,
                kind=f"{kind}_created",
                actor=actor,
                to_status=c.status,
                reason=reason,
                data={"from": parent_numbers, "operation": str(operation)},
            )
            for c in children
        ]
    )
    for c in children:
        audit_record(
            actor=actor,
            action=actions.ORDER_REPLACED_BY_KIND[kind],
            obj=c,
            reason=reason,
            after={"from": parent_numbers, "payable_minor": c.payable_minor, "received_minor": c.received_minor},
        )


@transaction.atomic(savepoint=False)
def replace_orders(
    *, parents: Sequence[Order], specs: Sequence[ChildSpec], kind: str, actor: Actor, reason: str
) -> list[Order]:
    """Retire ``parents`` and create one order per spec, atomically. The caller holds the parents' locks
    and has checked the plan; money per line is already divided (the specs carry it)."""
    now = timezone.now()
    operation = uuid.uuid4()
    built = _children_create(parents=parents, specs=specs, operation=operation, now=now)
    _reservations_move(parents=parents, built=built, kind=kind, operation=operation)
    _parents_retire(
        parents=parents, children=built.children, kind=kind, actor=actor, reason=reason, operation=operation
    )
    _lineage_record(
        parents=parents, children=built.children, kind=kind, actor=actor, reason=reason, operation=operation, now=now
    )
    return built.children
