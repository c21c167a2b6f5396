"""A parcel leaves the warehouse (发货): the one path every shipment takes, whether a WMS reports it
(`oms.fulfillment.services.wms`) or an operator enters the tracking number by hand
(`oms.fulfillment.services.by_hand`).

A parcel carries the lines named (``{"line": <line number>, "quantity"}`` or ``{"sku", "quantity"}``) or,
without lines, everything not shipped yet. It consumes exactly its units' reservations (on-hand stock and the
channel quota go down), is written back to the platform for every platform order id on the order (one outbox
event each, with the parcel's lines) and leaves the order partially shipped (部分发货) until every unit has
left, then shipped (已发货). The same tracking number again is ignored (or refused if it names other lines);
more than is left to ship is refused. The caller holds the order and shipment locks.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.actors import Actor
from oms.core.errors import Conflict, FieldError, ValidationFailed
from oms.fulfillment import actions
from oms.fulfillment.domain.parcels import Outstanding, parcel_plan
from oms.fulfillment.models import Parcel, ParcelLine, Shipment, ShipmentState
from oms.fulfillment.services.common import REF_TYPE, order_lines, recipes_for
from oms.inventory.services.reservations import reservations_consume
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderLine
from oms.orders.services.timeline import order_event_record, orders_transition
from oms.orders.services.updates import order_tracking_save
from oms.outbox.services import outbox_publish
from oms.review.models import Interception, InterceptionState


def shipment_accept(*, order: Order, shipment: Shipment, actor: Actor, reason: str) -> str:
    """The warehouse took the document: 待下发 → 待发货. Refused while the order is held."""
    if shipment.state != ShipmentState.SENT:
        return "ignored"
    holds = sorted(
        Interception.objects.filter(order=order, state=InterceptionState.OPEN).values_list("reason_code", flat=True)
    )
    if holds:
        # A hold raised after dispatch (a refund request, a changed remark) stops the order until an operator
        # releases it or withdraws the document: the warehouse is told not to take it yet.
        raise Conflict(
            f"Order {order.number} is held ({', '.join(holds)}); do not ship it yet.",
            code="order_held",
            extra={"holds": holds},
        )
    shipment.state = ShipmentState.ACCEPTED
    shipment.accepted_at = timezone.now()
    shipment.save(update_fields=["state", "accepted_at"])
    if order.status == Status.PENDING_DISPATCH:
        orders_transition(orders=[order], to_status=Status.PENDING_SHIPMENT.value, actor=actor, reason=reason)
    return "applied"


def outstanding_lines(order: Order) -> tuple[list[OrderLine], list[Outstanding]]:
    """The order's stocked lines and what each still has to ship (ordered less the parcels that left)."""
    lines = [ln for ln in order_lines([order.pk]).get(order.pk, []) if ln.sku_id is not None]
    shipped: dict[int, int] = defaultdict(int)
    for line_id, qty in ParcelLine.objects.filter(line_id__in=[ln.pk for ln in lines]).values_list(
        "line_id", "quantity"
    ):
        shipped[line_id] += qty
    return lines, [
        Outstanding(ln.pk, ln.line_no, ln.sku.code if ln.sku else "", ln.quantity, shipped[ln.pk]) for ln in lines
    ]


def _parcel_repeat(shipment: Shipment, tracking: str, reported: Any) -> str | None:
    """ "ignored" when this parcel was taken before (same tracking number, same lines if any are named);
    Conflict when the same tracking number comes back with other lines; None for a new parcel."""
    parcel = Parcel.objects.filter(shipment=shipment, tracking_number=tracking).first()
    if parcel is None:
        if shipment.state in (ShipmentState.SHIPPED, ShipmentState.SIGNED, ShipmentState.REJECTED):
            if shipment.tracking_number == tracking:
                return "ignored"  # shipped before parcels were recorded
            raise Conflict(
                f"Shipment {shipment.number} is fully shipped (tracking number {shipment.tracking_number}); "
                f"nothing is left to ship under {tracking}.",
                code="tracking_mismatch",
            )
        return None
    if reported is not None:
        # Compare by SKU totals, naming lines by number or SKU alike.
        recorded: dict[str, int] = defaultdict(int)
        for sku, q in ParcelLine.objects.filter(parcel=parcel).values_list("line__sku__code", "quantity"):
            recorded[sku or ""] += q
        sku_of = dict(OrderLine.objects.filter(order_id=shipment.order_id).values_list("line_no", "sku__code"))
        again: dict[str, int] = defaultdict(int)
        for item in reported if isinstance(reported, list) else [None]:
            qty = item.get("quantity") if isinstance(item, dict) else None
            if not isinstance(item, dict) or not isinstance(qty, int):
                again["?"] += 1
                continue
            key = sku_of.get(item["line"], "?") if item.get("line") is not None else str(item.get("sku"))
            again[key or ""] += qty
        if again != recorded:
            raise Conflict(
                f"Parcel {tracking} of shipment {shipment.number} was recorded with other lines.",
                code="parcel_mismatch",
                extra={"recorded": dict(recorded)},
            )
    return "ignored"


def _consume_quantities(lines: list[OrderLine], plan: dict[int, int]) -> dict[tuple[int, int], int]:
    """(line id, stocked SKU id) → units leaving: a bundle line takes its components."""
    recipes = recipes_for(ln for ln in lines if ln.pk in plan)
    out: dict[tuple[int, int], int] = defaultdict(int)
    for ln in lines:
        if ln.pk in plan and ln.sku_id is not None:
            for sku_id, per_unit in recipes[ln.sku_id]:
                out[(ln.pk, sku_id)] += plan[ln.pk] * per_unit
    return dict(out)


def parcel_ship(
    *,
    order: Order,
    shipment: Shipment,
    tracking_number: str,
    lines: Any = None,
    weight_g: Any = None,
    packages: Any = 1,
    actor: Actor,
    by_hand: bool = False,
) -> str:
    """Record one parcel that left (see the module docstring): "applied", or "ignored" for a repeat.

    ``lines`` as the WMS callback names them (None: everything left). ``by_hand``: an operator entered it."""
    tracking = str(tracking_number or "").strip()[:64]
    if not tracking:
        raise ValidationFailed(
            "A tracking number is required.", details=[FieldError("tracking_number", "Required.", "required")]
        )
    repeat = _parcel_repeat(shipment, tracking, lines)
    if repeat is not None:
        return repeat
    if weight_g is not None and (not isinstance(weight_g, int) or isinstance(weight_g, bool) or weight_g < 0):
        raise ValidationFailed("weight_g is a whole number of grams.", code="invalid_weight")
    if not isinstance(packages, int) or isinstance(packages, bool) or packages < 1:
        raise ValidationFailed("packages is a whole number above 0.", code="invalid_packages")
    order_rows, outstanding = outstanding_lines(order)
    plan = parcel_plan(outstanding, lines)
    if not plan:
        raise Conflict(f"Shipment {shipment.number} has nothing left to ship.", code="over_shipment")
    left = sum(o.left for o in outstanding) - sum(plan.values())
    if order.status == Status.PENDING_DISPATCH:
        shipment_accept(
            order=order, shipment=shipment, actor=actor, reason="shipped by hand" if by_hand else "accepted by the WMS"
        )
    reservations_consume(
        ref_type=REF_TYPE,
        ref_ids=sorted(plan),
        warehouse_id=shipment.warehouse_id,
        quantities=_consume_quantities(order_rows, plan),
    )
    now = timezone.now()
    parcel = Parcel.objects.create(
        shipment=shipment,
        order=order,
        tracking_number=tracking,
        weight_g=weight_g,
        package_count=packages,
        units=sum(plan.values()),
        shipped_at=now,
    )
    ParcelLine.objects.bulk_create([ParcelLine(parcel=parcel, line_id=k, quantity=q) for k, q in sorted(plan.items())])
    first = not shipment.tracking_number
    _shipment_update(shipment, tracking=tracking, weight_g=weight_g, packages=packages, first=first, done=left == 0)
    if not order.tracking_number:
        order_tracking_save(order, tracking_number=tracking)
    by_line = {o.line_id: o for o in outstanding}
    parcel_lines = [{"line": by_line[k].line_no, "sku": by_line[k].sku, "quantity": q} for k, q in sorted(plan.items())]
    summary: dict[str, Any] = {
        "tracking_number": tracking,
        "weight_g": weight_g,
        "shipment": shipment.number,
        "lines": parcel_lines,
    }
    if by_hand:
        summary["by_hand"] = True
    _order_shipped(order, shipment=shipment, tracking=tracking, left=left, summary=summary, actor=actor)
    _publish(
        order,
        shipment=shipment,
        tracking=tracking,
        weight_g=weight_g,
        at=now,
        lines=parcel_lines,
        left=left,
        first=first,
    )
    audit_record(actor=actor, action=actions.ORDER_SHIP, obj=order, after=summary)
    return "applied"


def _shipment_update(
    shipment: Shipment, *, tracking: str, weight_g: int | None, packages: int, first: bool, done: bool
) -> None:
    shipment.state = ShipmentState.SHIPPED if done else ShipmentState.PARTIAL
    if first:
        shipment.tracking_number = tracking
    if weight_g is not None:
        shipment.weight_g = (shipment.weight_g or 0) + weight_g if not first else weight_g
    shipment.package_count = packages if first else shipment.package_count + packages
    if done:
        shipment.shipped_at = timezone.now()
    shipment.save(update_fields=["state", "tracking_number", "weight_g", "package_count", "shipped_at"])


def _order_shipped(
    order: Order, *, shipment: Shipment, tracking: str, left: int, summary: dict[str, Any], actor: Actor
) -> None:
    """已发货 when nothing is left, else 部分发货; a further parcel of a partial order is a timeline event."""
    target = Status.SHIPPED if left == 0 else Status.PARTIALLY_SHIPPED
    reason = f"shipped by {shipment.courier.code} {tracking}"
    if order.status != target:
        orders_transition(orders=[order], to_status=target.value, actor=actor, reason=reason, data={order.pk: summary})
    else:
        order_event_record(order=order, kind="parcel_shipped", actor=actor, reason=reason, data=summary)


def _publish(
    order: Order,
    *,
    shipment: Shipment,
    tracking: str,
    weight_g: int | None,
    at: Any,
    lines: list[dict[str, Any]],
    left: int,
    first: bool,
) -> None:
    payload = {
        "order": order.number,
        "shipment": shipment.number,
        "courier": shipment.courier.code,
        "tracking_number": tracking,
        "weight_g": weight_g,
        "shipped_at": at.isoformat(),
        "lines": lines,
        "units_left": left,
    }
    outbox_publish(topic="order.shipped" if left == 0 else "order.partially_shipped", aggregate=order, payload=payload)
    # Tracking write-back (回传单号), once per parcel: one event per platform order this order answers for
    # (merged orders: several), naming the lines in the parcel so the platform can ship them in part (拆包发货).
    for platform_order_id in order.platform_order_ids or ([order.platform_order_id] if order.platform_order_id else []):
        outbox_publish(
            topic=f"platform.tracking.{order.channel.platform}",
            aggregate=order,
            payload={
                "channel": order.channel.code,
                "platform": order.channel.platform,
                "platform_order_id": platform_order_id,
                "courier": shipment.courier.code,
                "courier_name": shipment.courier.name,
                "tracking_number": tracking,
                "shipped_at": at.isoformat(),
                "lines": lines,
                "partial": left > 0 or not first,
            },
        )
