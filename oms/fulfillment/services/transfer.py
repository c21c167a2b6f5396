"""Transfer warehouse (转仓, O5): ship an order from warehouse B instead of A.

One transaction: the order's warehouse reservations move from A to B (`reservations_transfer`, so no other
order can take the units in between), whatever is still missing is reserved at B, the order's stockouts are
cancelled and judged again at B (S3), the final shipping warehouse (最终发货仓) is recorded with the history
row carrying both subsidiaries for cost accounting, and a dispatch document already sent to A's WMS is
withdrawn. The courier is chosen again for the new warehouse.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.errors import Conflict, NotFound, ValidationFailed
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
from oms.inventory.models import Reservation, ReservationScope, ReservationState, Warehouse
from oms.inventory.services.reservations import (
    ReservationAllocation,
    WarehouseReserveRequest,
    reservations_transfer,
    warehouse_reserve,
)
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderLine
from oms.orders.services.timeline import actor_name, actor_or_none, order_event_build
from oms.outbox.services import outbox_publish

TRANSFERABLE = (Status.PENDING_REVIEW, Status.PENDING_DISPATCH)


@transaction.atomic(durable=True)
def order_warehouse_transfer(
    *, order: Order, to_warehouse: Warehouse | str, actor: Any, reason: str, allow_short: bool = False
) -> WarehouseTransfer:
    """Transfer the order to ``to_warehouse`` (object or code). Refused (409, nothing changes) when the order
    is already with the warehouse system or split pending, when B does not cover the receiver, or — unless
    ``allow_short`` — when B lacks stock for any line (then the missing units become stockouts at B)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the order changes warehouse.", extra={"field": "reason"})
    target = (
        to_warehouse
        if isinstance(to_warehouse, Warehouse)
        else Warehouse.objects.filter(code=to_warehouse).select_related("subsidiary").first()
    )
    if target is None or not target.is_active:
        raise NotFound(f"No active warehouse {to_warehouse}.", code="unknown_warehouse")
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

    lines = [ln for ln in order_lines([locked.pk]).get(locked.pk, []) if ln.sku_id is not None]
    stockouts_cancel(order_ids=[locked.pk], reason=f"transferred to {target.code}", actor=actor)
    moved = _move_reservations(lines, source.pk, target.pk, reason)
    outcomes = warehouse_reserve(
        requests=[
            WarehouseReserveRequest(REF_TYPE, ln.pk, target.pk, ln.sku_id, ln.quantity)  # type: ignore[arg-type]
            for ln in lines
        ],
        refuse_when_short=not allow_short,
    )
    short = {o.ref_id: o.short for o in outcomes if o.short}
    now = timezone.now()
    Stockout.objects.bulk_create(
        [
            Stockout(order=locked, line=ln, sku=ln.sku, warehouse=target, quantity=short[ln.pk], created_at=now)
            for ln in lines
            if ln.pk in short
        ]
    )
    for ln in lines:
        ln.short_quantity = short.get(ln.pk, 0)
    OrderLine.objects.bulk_update(lines, ["short_quantity"])

    if shipment is not None:
        shipment.state = ShipmentState.CANCELLED
        shipment.save(update_fields=["state"])
        outbox_publish(
            topic=f"wms.cancel.{source.code}",
            aggregate=shipment,
            payload={"shipment": shipment.number, "order": locked.number, "reason": f"转仓 to {target.code}"},
        )
    record = WarehouseTransfer.objects.create(
        order=locked,
        from_warehouse=source,
        to_warehouse=target,
        from_subsidiary=source.subsidiary,
        to_subsidiary=target.subsidiary,
        reason=reason[:300],
        units_moved=moved,
        actor=actor_or_none(actor),
        actor_name=actor_name(actor),
        created_at=now,
    )
    AllocationDecision.objects.create(
        order=locked,
        kind=DecisionKind.TRANSFER,
        outcome="transferred",
        warehouse=target,
        reason=reason[:300],
        plan={"from": source.code, "to": target.code, "short_lines": {str(k): v for k, v in short.items()}},
        actor_name=actor_name(actor),
        created_at=now,
    )
    before = {"final_warehouse": source.code, "subsidiary": source.subsidiary.code, "status": locked.status}
    locked.final_warehouse = target
    locked.has_short_lines = bool(short)
    # The courier was chosen for A; it is chosen again for B by the pipeline.
    locked.courier = None
    locked.updated_at = now
    locked.save(update_fields=["final_warehouse", "has_short_lines", "courier", "updated_at"])
    order_event_build(
        order=locked,
        kind="warehouse_transferred",
        actor=actor,
        reason=reason,
        data={"from": source.code, "to": target.code, "short_lines": len(short)},
    ).save()
    if locked.status == Status.PENDING_DISPATCH:
        from oms.fulfillment.services.common import orders_transition

        orders_transition(
            orders=[locked],
            to_status=Status.PENDING_REVIEW.value,
            actor=actor,
            reason=f"转仓 to {target.code}: courier again",
        )
    audit_record(
        actor=actor,
        action="order.transfer_warehouse",
        obj=locked,
        before=before,
        after={"final_warehouse": target.code, "subsidiary": target.subsidiary.code, "short_lines": len(short)},
        reason=reason,
    )
    return record


def _move_reservations(lines: list[OrderLine], source_id: int, target_id: int, reason: str) -> int:
    """Move what the lines hold at the source warehouse to the target, line by line (in whole line units)."""
    held: dict[int, dict[int, int]] = defaultdict(dict)
    for ref_id, sku_id, q in Reservation.objects.filter(
        ref_type=REF_TYPE,
        ref_id__in=[ln.pk for ln in lines],
        scope=ReservationScope.WAREHOUSE,
        state=ReservationState.ACTIVE,
        warehouse_id=source_id,
    ).values_list("ref_id", "sku_id", "quantity"):
        held[ref_id][sku_id] = held[ref_id].get(sku_id, 0) + q
    recipes = recipes_for(lines)
    allocations = []
    for ln in lines:
        units = bundle_units(held.get(ln.pk, {}), recipes[ln.sku_id]) if ln.pk in held else 0  # type: ignore[index]
        if units:
            allocations.append(
                ReservationAllocation(
                    from_ref_id=ln.pk,
                    to_ref_id=ln.pk,
                    sku_id=ln.sku_id,  # type: ignore[arg-type]
                    quantity=units,
                    warehouse_id=target_id,
                )
            )
    if not allocations:
        return 0
    return reservations_transfer(
        ref_type=REF_TYPE,
        from_ref_ids=[a.from_ref_id for a in allocations],
        to_allocations=allocations,
        release_remainder=False,
        reason=f"转仓: {reason}"[:200],
    )
