"""Transfer warehouse (转仓, O5): ship an order from warehouse B instead of A.

One transaction: the order's warehouse reservations move from A to B (`reservations_transfer`, so no other
order can take the units in between), whatever is still missing is reserved at B, the order's stockouts are
cancelled and judged again at B (S3), the final shipping warehouse (最终发货仓) is recorded with the history
row carrying both subsidiaries for cost accounting, and a dispatch document already sent to A's WMS is
withdrawn. The courier is chosen again for the new warehouse.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record
from oms.catalog.models import Sku
from oms.core.actors import Actor, actor_name, actor_user
from oms.core.db_retry import retry_on_deadlock
from oms.core.errors import Conflict, NotFound, ValidationFailed
from oms.fulfillment import actions
from oms.fulfillment.models import (
    AllocationDecision,
    DecisionKind,
    Shipment,
    ShipmentState,
    Stockout,
    WarehouseTransfer,
)
from oms.fulfillment.services.common import REF_TYPE, lock_orders, order_lines, recipes_for
from oms.fulfillment.services.stockouts import stockouts_cancel
from oms.inventory.domain.reservation import bundle_units
from oms.inventory.models import Reservation, ReservationScope, ReservationState, StockItem, Warehouse
from oms.inventory.services.reservations import (
    ReservationAllocation,
    ReserveRequest,
    WarehouseReserveRequest,
    channel_reserve,
    reservations_release,
    reservations_transfer,
    warehouse_reserve,
)
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderLine
from oms.orders.services.timeline import order_event_record, orders_transition
from oms.orders.services.updates import order_lines_short_save, order_warehouse_save
from oms.outbox.services import outbox_publish

TRANSFERABLE = (Status.PENDING_REVIEW, Status.PENDING_DISPATCH)


@dataclass(frozen=True)
class _Move:
    """A checked transfer of one locked order from ``source`` to ``target``; ``shipment`` is its dispatch
    document still waiting to be sent (withdrawn by the transfer), if any."""

    order: Order
    source: Warehouse
    target: Warehouse
    shipment: Shipment | None


def _target(to_warehouse: Warehouse | str) -> Warehouse:
    target = (
        to_warehouse
        if isinstance(to_warehouse, Warehouse)
        else Warehouse.objects.filter(code=to_warehouse).select_related("subsidiary").first()
    )
    if target is None or not target.is_active:
        raise NotFound(f"No active warehouse {to_warehouse}.", code="unknown_warehouse")
    return target


def _move_checked(order: Order, target: Warehouse) -> _Move:
    """Lock the order and check it may move to ``target`` (409 otherwise, nothing changed)."""
    locked = lock_orders([order.pk])[order.pk]
    if locked.status not in TRANSFERABLE or locked.final_warehouse_id is None:
        raise Conflict(
            f"Order {locked.number} cannot change warehouse now (status {locked.status}"
            f"{', no warehouse yet' if locked.final_warehouse_id is None else ''}).",
            code="not_transferable",
        )
    source = Warehouse.objects.select_related("subsidiary").get(pk=locked.final_warehouse_id)
    if source.pk == target.pk:
        raise Conflict(f"Order {locked.number} already ships from {target.code}.", code="same_warehouse")
    if not target.covers(locked.receiver_province):
        raise Conflict(f"{target.code} does not deliver to the receiver's province.", code="not_covering")
    shipment = Shipment.objects.select_for_update().filter(order=locked).exclude(state=ShipmentState.CANCELLED).first()
    if shipment is not None and shipment.state != ShipmentState.SENT:
        raise Conflict(f"The warehouse system already took order {locked.number}.", code="already_dispatched")
    return _Move(order=locked, source=source, target=target, shipment=shipment)


def _stock_move(
    move: _Move, *, actor: Actor, reason: str, allow_short: bool, now: datetime
) -> tuple[int, dict[int, int]]:
    """End the stockouts at A, move or re-reserve the lines' units at B, and record what B lacks as
    stockouts and short lines. Returns (units moved, units short per line)."""
    locked, target = move.order, move.target
    lines = [ln for ln in order_lines([locked.pk]).get(locked.pk, []) if ln.sku_id is not None]
    stockouts_cancel(order_ids=[locked.pk], reason=f"transferred to {target.code}", actor=actor)
    moved = _move_reservations(lines, locked, move.source.pk, target.pk, reason, allow_short)
    outcomes = warehouse_reserve(
        requests=[
            WarehouseReserveRequest(REF_TYPE, ln.pk, target.pk, ln.sku_id, ln.quantity)  # type: ignore[arg-type]
            for ln in lines
        ],
        refuse_when_short=not allow_short,
    )
    short = {o.ref_id: o.short for o in outcomes if o.short}
    Stockout.objects.bulk_create(
        [
            Stockout(order=locked, line=ln, sku=ln.sku, warehouse=target, quantity=short[ln.pk], created_at=now)
            for ln in lines
            if ln.pk in short
        ]
    )
    for ln in lines:
        ln.short_quantity = short.get(ln.pk, 0)
    order_lines_short_save(lines)
    return moved, short


def _dispatch_withdraw(move: _Move) -> None:
    """The document sent to A's warehouse system is cancelled there."""
    shipment = move.shipment
    if shipment is None:
        return
    shipment.state = ShipmentState.CANCELLED
    shipment.save(update_fields=["state"])
    outbox_publish(
        topic=f"wms.cancel.{move.source.code}",
        aggregate=shipment,
        payload={"shipment": shipment.number, "order": move.order.number, "reason": f"转仓 to {move.target.code}"},
    )


def _transfer_record(
    move: _Move, *, moved: int, short: dict[int, int], actor: Actor, reason: str, now: datetime
) -> WarehouseTransfer:
    """The transfer record and the allocation decision it stands for."""
    source, target = move.source, move.target
    record = WarehouseTransfer.objects.create(
        order=move.order,
        from_warehouse=source,
        to_warehouse=target,
        from_subsidiary=source.subsidiary,
        to_subsidiary=target.subsidiary,
        reason=reason[:300],
        units_moved=moved,
        actor=actor_user(actor),
        actor_name=actor_name(actor),
        created_at=now,
    )
    AllocationDecision.objects.create(
        order=move.order,
        kind=DecisionKind.TRANSFER,
        outcome="transferred",
        warehouse=target,
        reason=reason[:300],
        plan={"from": source.code, "to": target.code, "short_lines": {str(k): v for k, v in short.items()}},
        actor_name=actor_name(actor),
        created_at=now,
    )
    return record


def _order_moved(move: _Move, *, short: dict[int, int], actor: Actor, reason: str, now: datetime) -> None:
    """The order ships from B now: its warehouse and short flag, the courier chosen again (an order waiting
    for dispatch goes back a step), its timeline and operation log."""
    locked, source, target = move.order, move.source, move.target
    before = {"final_warehouse": source.code, "subsidiary": source.subsidiary.code, "status": locked.status}
    # The courier was chosen for A; it is chosen again for B by the pipeline.
    order_warehouse_save(locked, warehouse=target, has_short_lines=bool(short), at=now)
    order_event_record(
        order=locked,
        kind="warehouse_transferred",
        actor=actor,
        reason=reason,
        data={"from": source.code, "to": target.code, "short_lines": len(short)},
    )
    if locked.status == Status.PENDING_DISPATCH:
        orders_transition(
            orders=[locked],
            to_status=Status.PENDING_REVIEW.value,
            actor=actor,
            reason=f"转仓 to {target.code}: courier again",
        )
    audit_record(
        actor=actor,
        action=actions.ORDER_TRANSFER_WAREHOUSE,
        obj=locked,
        before=before,
        after={"final_warehouse": target.code, "subsidiary": target.subsidiary.code, "short_lines": len(short)},
        reason=reason,
    )


@retry_on_deadlock
@transaction.atomic(durable=True)
def order_warehouse_transfer(
    *, order: Order, to_warehouse: Warehouse | str, actor: Actor, reason: str, allow_short: bool = False
) -> WarehouseTransfer:
    """Transfer the order to ``to_warehouse`` (object or code). Refused (409, nothing changes) when the order
    is already with the warehouse system or split pending, when B does not cover the receiver, or — unless
    ``allow_short`` — when B lacks stock for any line (then the missing units become stockouts at B)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the order changes warehouse.", extra={"field": "reason"})
    move = _move_checked(order, _target(to_warehouse))
    now = timezone.now()
    moved, short = _stock_move(move, actor=actor, reason=reason, allow_short=allow_short, now=now)
    _dispatch_withdraw(move)
    record = _transfer_record(move, moved=moved, short=short, actor=actor, reason=reason, now=now)
    _order_moved(move, short=short, actor=actor, reason=reason, now=now)
    return record


def _move_reservations(
    lines: list[OrderLine], order: Order, source_id: int, target_id: int, reason: str, allow_short: bool
) -> int:
    """Move what the lines hold at the source warehouse to the target, in whole line units, so no other order
    can take the units in between. A line the target cannot take whole (only with ``allow_short``) has its
    reservations released and taken again, which gives back its channel units and reserves what the target
    has; the rest of it becomes a stockout."""
    held: dict[int, dict[int, int]] = defaultdict(dict)
    on_channel: dict[int, dict[int, int]] = defaultdict(dict)
    elsewhere: set[int] = set()
    for ref_id, scope, wh, sku_id, q in Reservation.objects.filter(
        ref_type=REF_TYPE, ref_id__in=[ln.pk for ln in lines], state=ReservationState.ACTIVE
    ).values_list("ref_id", "scope", "warehouse_id", "sku_id", "quantity"):
        if scope == ReservationScope.CHANNEL:
            on_channel[ref_id][sku_id] = on_channel[ref_id].get(sku_id, 0) + q
        elif wh == source_id:
            held[ref_id][sku_id] = held[ref_id].get(sku_id, 0) + q
        else:
            elsewhere.add(ref_id)
    recipes = recipes_for(lines)
    stocked = sorted({c for r in recipes.values() for c, _q in r})
    free = {
        s: on_hand - reserved
        for s, on_hand, reserved in StockItem.objects.filter(warehouse_id=target_id, sku_id__in=stocked).values_list(
            "sku_id", "on_hand", "reserved"
        )
    }
    need: dict[int, int] = defaultdict(int)
    for ln in lines:
        for c, per in recipes[ln.sku_id]:  # type: ignore[index]
            need[c] += per * ln.quantity
    lacking = {c: q for c, q in need.items() if free.get(c, 0) < q}
    if lacking and not allow_short:
        codes = dict(Sku.objects.filter(id__in=list(lacking)).values_list("id", "code"))
        raise Conflict(
            "The new warehouse lacks stock for: "
            + ", ".join(f"{codes[c]} (needs {q}, free {max(free.get(c, 0), 0)})" for c, q in sorted(lacking.items())),
            code="insufficient_stock",
            extra={
                "skus": [{"sku": codes[c], "requested": q, "available": free.get(c, 0)} for c, q in lacking.items()]
            },
        )
    allocations: list[ReservationAllocation] = []
    retake: list[OrderLine] = []
    for ln in lines:
        recipe = recipes[ln.sku_id]  # type: ignore[index]
        units = bundle_units(held.get(ln.pk, {}), recipe) if ln.pk in held else 0
        if not units and ln.pk not in elsewhere:
            continue
        # A clean move needs the line's channel and shelf reservations to match exactly (a partial move of one
        # line onto itself would leave two active rows); anything else is released and taken again.
        clean = (
            ln.pk not in elsewhere
            and held[ln.pk] == {c: per * units for c, per in recipe}
            and on_channel.get(ln.pk, {}) == held[ln.pk]
        )
        if clean and all(free.get(c, 0) >= per * units for c, per in recipe):
            for c, per in recipe:
                free[c] = free.get(c, 0) - per * units
            allocations.append(
                ReservationAllocation(
                    from_ref_id=ln.pk,
                    to_ref_id=ln.pk,
                    sku_id=ln.sku_id,  # type: ignore[arg-type]
                    quantity=units,
                    warehouse_id=target_id,
                )
            )
        else:
            retake.append(ln)
    moved = 0
    if allocations:
        moved = reservations_transfer(
            ref_type=REF_TYPE,
            from_ref_ids=[a.from_ref_id for a in allocations],
            to_allocations=allocations,
            release_remainder=False,
            reason=f"转仓: {reason}"[:200],
        )
    if retake:
        reservations_release(ref_type=REF_TYPE, ref_ids=[ln.pk for ln in retake], reason=f"转仓: {reason}"[:200])
        channel_reserve(
            requests=[
                ReserveRequest(REF_TYPE, ln.pk, order.channel_id, ln.sku_id, ln.quantity)  # type: ignore[arg-type]
                for ln in retake
            ]
        )
    return moved
