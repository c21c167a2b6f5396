"""Shipping without a WMS (手工发货): an operator enters the courier and the tracking number of each parcel
that left, and the order reaches 部分发货 / 已发货 exactly as a WMS ``shipped`` callback takes it there — the
same `parcel_ship` consumes the same reservations, writes the same parcels, timeline, platform write-back and
operation-log rows.

An order pending dispatch (待下发) gets its shipment here, marked ``by_hand`` and never sent to a WMS; one
already with a WMS takes the parcels on its own shipment. Each call is one transaction: every parcel of it
is recorded, or none. Entering the same tracking number for the same order again changes nothing, so a file
of tracking numbers can be uploaded twice; a tracking number of the same courier already used by another
order is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.actors import Actor, actor_name
from oms.core.db_retry import retry_on_deadlock
from oms.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from oms.fulfillment import actions
from oms.fulfillment.models import AllocationDecision, Courier, DecisionKind, Parcel, Shipment, ShipmentState
from oms.fulfillment.services.common import lock_orders, open_holds, order_lines
from oms.fulfillment.services.dispatch import dispatch_document
from oms.fulfillment.services.shipping import parcel_ship
from oms.orders.domain.payments import refunded_in_full
from oms.orders.domain.status import Status
from oms.orders.models import Order
from oms.orders.services.timeline import order_event_record
from oms.orders.services.updates import order_courier_save

SHIPPABLE = (Status.PENDING_DISPATCH, Status.PENDING_SHIPMENT, Status.PARTIALLY_SHIPPED)


@dataclass(frozen=True)
class ParcelIn:
    """One parcel as the operator enters it. ``lines``: ``[{"line": n, "quantity": q}]`` or
    ``[{"sku": code, "quantity": q}]``; None ships everything still to ship."""

    tracking_number: str
    lines: list[dict[str, Any]] | None = None
    weight_g: int | None = None


@dataclass(frozen=True)
class ShipOutcome:
    order: Order
    shipment: Shipment
    applied: list[str]  # tracking numbers recorded now
    repeated: list[str]  # tracking numbers recorded before (nothing changed)


def courier_find(value: str) -> Courier:
    """An active courier by code (any case) or by name, as operators write it in a file."""
    text = (value or "").strip()
    if not text:
        raise ValidationFailed("Name the courier.", details=[FieldError("courier", "Required.", "required")])
    courier = Courier.objects.filter(Q(code__iexact=text) | Q(name=text), is_active=True).order_by("pk").first()
    if courier is None:
        raise NotFound(
            f"No active courier {text}.",
            code="unknown_courier",
            details=[FieldError("courier", "Unknown.", "unknown")],
            extra={"courier": text},
        )
    return courier


def _parcels_checked(parcels: Sequence[ParcelIn]) -> list[ParcelIn]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    out: list[ParcelIn] = []
    for i, p in enumerate(parcels):
        tracking = (p.tracking_number or "").strip()
        if not tracking:
            errors.append(FieldError(f"parcels[{i}].tracking_number", "Required.", "required"))
        elif len(tracking) > 64:
            errors.append(FieldError(f"parcels[{i}].tracking_number", "At most 64 characters.", "too_long"))
        elif tracking in seen:
            errors.append(FieldError(f"parcels[{i}].tracking_number", "Entered twice.", "duplicate"))
        seen.add(tracking)
        out.append(ParcelIn(tracking, p.lines, p.weight_g))
    if not parcels:
        errors.append(FieldError("parcels", "Enter at least one tracking number.", "required"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    return out


def _shippable_checked(order: Order) -> None:
    if order.status not in SHIPPABLE:
        raise Conflict(
            f"Order {order.number} is {order.status}: only an order pending dispatch or shipment, or partially "
            "shipped, can be marked shipped.",
            code="not_shippable",
            extra={"order": order.number, "status": order.status},
        )
    if refunded_in_full(order.payment_status):
        raise Conflict(
            f"Order {order.number} is refunded in full; it cannot ship.",
            code="order_refunded",
            extra={"order": order.number},
        )
    if open_holds([order.pk]):
        raise Conflict(
            f"Order {order.number} has an open interception; release it first.",
            code="order_held",
            extra={"order": order.number},
        )
    if order.final_warehouse_id is None:
        raise Conflict(
            f"Order {order.number} has no shipping warehouse yet: allocate one first.",
            code="no_warehouse",
            extra={"order": order.number},
        )


def _tracking_in_use(order: Order, courier: Courier, parcels: Sequence[ParcelIn]) -> None:
    numbers = [p.tracking_number for p in parcels]
    taken = (
        Parcel.objects.filter(tracking_number__in=numbers, shipment__courier=courier)
        .exclude(order=order)
        .values_list("tracking_number", "order__number")
        .first()
    )
    if taken is not None:
        field = f"parcels[{numbers.index(taken[0])}].tracking_number"
        raise Conflict(
            f"Tracking number {taken[0]} of {courier.code} is already on order {taken[1]}.",
            code="tracking_in_use",
            details=[FieldError(field, f"Already on order {taken[1]}.", "in_use")],
            extra={"tracking_number": taken[0], "other_order": taken[1]},
        )


def _shipment_for(order: Order, courier: Courier, actor: Actor) -> Shipment:
    """The order's live shipment (its courier set to ``courier`` while nothing has left under another), or a
    new one made here for shipping by hand."""
    live = (
        Shipment.objects.select_for_update()
        .select_related("courier", "warehouse")
        .filter(order=order)
        .exclude(state=ShipmentState.CANCELLED)
        .first()
    )
    if order.courier_id != courier.pk:
        if live is not None and Parcel.objects.filter(shipment=live).exists():
            raise Conflict(
                f"Order {order.number} has parcels with {live.courier.code}; enter its further parcels with the "
                "same courier.",
                code="courier_mismatch",
                details=[FieldError("courier", f"Parcels left with {live.courier.code}.", "mismatch")],
                extra={"order": order.number, "courier": live.courier.code},
            )
        _courier_record(order, courier, actor)
    if live is not None:
        if live.courier_id != courier.pk:
            live.courier = courier
            live.save(update_fields=["courier"])
        return live
    count = Shipment.objects.filter(order=order).count()
    shipment = Shipment(
        number=f"{order.number}-{count + 1}",
        order=order,
        warehouse=order.final_warehouse,
        subsidiary_id=order.final_warehouse.subsidiary_id,  # type: ignore[union-attr]
        courier=courier,
        created_at=timezone.now(),
        by_hand=True,
    )
    shipment.document = dispatch_document(
        shipment=shipment,
        order=order,
        lines=order_lines([order.pk]).get(order.pk, []),
        warehouse_code=order.final_warehouse.code,  # type: ignore[union-attr]
    )
    shipment.save()
    order_event_record(
        order=order,
        kind="dispatched",
        actor=actor,
        data={"shipment": shipment.number, "warehouse": shipment.warehouse.code, "by_hand": True},
    )
    return shipment


def _recorded_before(order: Order, parcels: Sequence[ParcelIn]) -> ShipOutcome | None:
    """Every tracking number is already a parcel of this order (the same file uploaded again): nothing to do."""
    numbers = [p.tracking_number for p in parcels]
    found = {
        p.tracking_number: p
        for p in Parcel.objects.filter(order=order, tracking_number__in=numbers).select_related("shipment")
    }
    if len(found) < len(set(numbers)):
        return None
    return ShipOutcome(order, found[numbers[0]].shipment, [], numbers)


def _courier_record(order: Order, courier: Courier, actor: Actor) -> None:
    """The parcel left with another courier than the one chosen: the order says so (as a manual choice)."""
    before = order.courier_id
    order_courier_save(order, courier=courier)
    AllocationDecision.objects.create(
        order=order,
        kind=DecisionKind.COURIER,
        outcome="manual",
        courier=courier,
        warehouse_id=order.final_warehouse_id,
        reason="shipped by hand",
        actor_name=actor_name(actor),
    )
    order_event_record(
        order=order, kind="courier_assigned", actor=actor, data={"courier_id": courier.pk, "manual": True}
    )
    audit_record(
        actor=actor,
        action=actions.ORDER_SET_COURIER,
        obj=order,
        before={"courier_id": before},
        after={"courier_id": courier.pk},
        reason="shipped by hand",
    )


@retry_on_deadlock
@transaction.atomic(durable=True)
def order_ship_by_hand(*, order: Order, courier: str, parcels: Sequence[ParcelIn], actor: Actor) -> ShipOutcome:
    """Mark the order's parcels shipped under their tracking numbers (see the module docstring).

    422 naming the field for a missing or repeated tracking number or an unknown courier; 409 when the order
    cannot ship now (status, hold, refund, no warehouse), a tracking number belongs to another order, or a
    parcel asks for more than is left. Nothing is written then."""
    checked = _parcels_checked(parcels)
    carrier = courier_find(courier)
    locked = lock_orders([order.pk])[order.pk]
    recorded = _recorded_before(locked, checked)
    if recorded is not None:
        return recorded
    _shippable_checked(locked)
    _tracking_in_use(locked, carrier, checked)
    shipment = _shipment_for(locked, carrier, actor)
    applied: list[str] = []
    repeated: list[str] = []
    for i, parcel in enumerate(checked):
        try:
            outcome = parcel_ship(
                order=locked,
                shipment=shipment,
                tracking_number=parcel.tracking_number,
                lines=parcel.lines,
                weight_g=parcel.weight_g,
                actor=actor,
                by_hand=True,
            )
        except (Conflict, ValidationFailed) as exc:
            exc.extra.setdefault("parcel", i)
            raise
        (applied if outcome == "applied" else repeated).append(parcel.tracking_number)
    return ShipOutcome(locked, shipment, applied, repeated)
