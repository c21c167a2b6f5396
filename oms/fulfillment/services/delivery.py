"""What the carrier reports once parcels are out: signed for (签收) or rejected (拒收), per parcel or for the
whole order. Applied by the WMS callbacks (`oms.fulfillment.services.wms`) inside their transaction, with the
order and the shipment locked.

A parcel is settled once: signed for or rejected, never both (a database constraint says so too); the same
fact again is ignored, the other one refused (409 ``parcel_signed`` / ``parcel_rejected``). A rejected parcel
is announced on ``order.parcel_rejected`` with its lines, so after-sales can take the goods back and refund.
When a shipment has fully left and every parcel is settled, the order closes: 已签收 if at least one parcel
was signed for (the rejected ones stay recorded), 已拒收 if every parcel came back. A whole-order signed or
rejected callback closes a fully shipped order as it says and marks every parcel not yet settled so.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.actors import Actor
from oms.core.errors import Conflict, NotFound
from oms.fulfillment import actions
from oms.fulfillment.models import Parcel, ParcelLine, Shipment, ShipmentState
from oms.orders.domain.status import Status
from oms.orders.models import Order
from oms.orders.services.timeline import order_event_record, orders_transition
from oms.outbox.services import outbox_publish


class ParcelRejectedHook(Protocol):
    """After-sales opens a refused-delivery case (拒收) for units coming back: ``units`` per order line no,
    ``reference`` the parcel's tracking number (or the shipment's, for the whole order). Runs in the callback's
    transaction with the order locked. Registered in `oms.wiring`."""

    def __call__(self, *, order: Order, units: dict[int, int], reference: str, reason: str, actor: Actor) -> object: ...


PARCEL_REJECTED_HOOKS: list[ParcelRejectedHook] = []


def _rejected_units(parcel_ids: list[int]) -> dict[int, int]:
    units: dict[int, int] = {}
    for line_no, quantity in ParcelLine.objects.filter(parcel_id__in=parcel_ids).values_list(
        "line__line_no", "quantity"
    ):
        units[line_no] = units.get(line_no, 0) + quantity
    return units


def _announce_rejected(*, order: Order, parcel_ids: list[int], reference: str, reason: str, actor: Actor) -> None:
    units = _rejected_units(parcel_ids)
    if not units:
        return
    for hook in PARCEL_REJECTED_HOOKS:
        hook(order=order, units=units, reference=reference, reason=reason, actor=actor)


def _close(*, order: Order, shipment: Shipment, actor: Actor, state: str, status: str, reason: str) -> str:
    """Close a fully shipped shipment and its order as ``state`` / ``status``; parcels not settled yet take the
    same outcome. The caller holds the order and shipment locks."""
    if shipment.state == state:
        return "ignored"
    if shipment.state == ShipmentState.PARTIAL:
        raise Conflict(
            f"Shipment {shipment.number} is partially shipped: the order is signed for or rejected once every "
            "unit has shipped (or the rest is cancelled).",
            code="not_shipped",
        )
    if shipment.state != ShipmentState.SHIPPED:
        raise Conflict(f"Shipment {shipment.number} is {shipment.state}, not shipped.", code="not_shipped")
    shipment.state = state
    shipment.closed_at = timezone.now()
    shipment.save(update_fields=["state", "closed_at"])
    unsettled = Parcel.objects.filter(shipment=shipment, signed_at__isnull=True, rejected_at__isnull=True)
    rejected_ids = [] if state == ShipmentState.SIGNED else list(unsettled.values_list("pk", flat=True))
    if state == ShipmentState.SIGNED:
        unsettled.update(signed_at=shipment.closed_at)
    else:
        unsettled.update(rejected_at=shipment.closed_at, rejected_reason=reason)
    orders_transition(orders=[order], to_status=status, actor=actor, reason=reason or f"{state} (WMS)")
    if rejected_ids:
        _announce_rejected(order=order, parcel_ids=rejected_ids, reference=shipment.number, reason=reason, actor=actor)
    parcels = [
        {"tracking_number": tracking, "state": "signed" if signed_at is not None else "rejected"}
        for tracking, signed_at in Parcel.objects.filter(shipment=shipment)
        .order_by("shipped_at", "id")
        .values_list("tracking_number", "signed_at")
    ]
    outbox_publish(
        topic=f"order.{status}",
        aggregate=order,
        payload={
            "order": order.number,
            "shipment": shipment.number,
            "tracking_number": shipment.tracking_number,
            "reason": reason,
            "parcels": parcels,
        },
    )
    order_event_record(order=order, kind=f"parcel_{state}", actor=actor, reason=reason)
    return "applied"


def close_if_every_parcel_settled(*, order: Order, shipment: Shipment, actor: Actor) -> str | None:
    """Close the order when its shipment has fully left and each of its parcels is settled — after the last
    parcel's signature or rejection, or after the rest was cancelled once the others were settled: 已签收 if
    any parcel was signed for, else 已拒收. Returns the order's new status, or None while it waits.
    The caller holds the order and shipment locks."""
    if shipment.state != ShipmentState.SHIPPED:
        return None
    settled = list(Parcel.objects.filter(shipment=shipment).values_list("signed_at", "rejected_reason", "rejected_at"))
    if not settled or any(signed is None and rejected is None for signed, _reason, rejected in settled):
        return None
    if any(signed is not None for signed, _reason, _rejected in settled):
        state, status, reason = ShipmentState.SIGNED, Status.SIGNED.value, ""
    else:
        state, status = ShipmentState.REJECTED, Status.REJECTED.value
        reason = "; ".join(dict.fromkeys(r for _s, r, _r in settled if r))[:300]
    _close(order=order, shipment=shipment, actor=actor, state=state, status=status, reason=reason)
    return status


def _parcel_locked(shipment: Shipment, tracking: str) -> Parcel:
    parcel = Parcel.objects.select_for_update().filter(shipment=shipment, tracking_number=tracking).first()
    if parcel is None:
        raise NotFound(f"Shipment {shipment.number} has no parcel {tracking}.", code="unknown_parcel")
    return parcel


def callback_signed(*, order: Order, shipment: Shipment, data: dict[str, Any], actor: Actor) -> str:
    """A signed callback: one parcel when it names a tracking number, else the whole order."""
    return _callback(order=order, shipment=shipment, data=data, actor=actor, signed=True)


def callback_rejected(*, order: Order, shipment: Shipment, data: dict[str, Any], actor: Actor) -> str:
    """A rejected callback: one parcel when it names a tracking number, else the whole order."""
    return _callback(order=order, shipment=shipment, data=data, actor=actor, signed=False)


def _callback(*, order: Order, shipment: Shipment, data: dict[str, Any], actor: Actor, signed: bool) -> str:
    tracking = str(data.get("tracking_number") or "").strip()
    reason = str(data.get("reason") or "")[:300]
    if not tracking:
        return _close(
            order=order,
            shipment=shipment,
            actor=actor,
            state=ShipmentState.SIGNED if signed else ShipmentState.REJECTED,
            status=Status.SIGNED.value if signed else Status.REJECTED.value,
            reason=reason,
        )
    parcel = _parcel_locked(shipment, tracking)
    same, other = (parcel.signed_at, parcel.rejected_at) if signed else (parcel.rejected_at, parcel.signed_at)
    if same is not None:
        return "ignored"
    if other is not None:
        was, cannot = ("rejected", "be signed for") if signed else ("signed for", "be rejected")
        raise Conflict(
            f"Parcel {tracking} of shipment {shipment.number} was {was}; it cannot {cannot}.",
            code="parcel_rejected" if signed else "parcel_signed",
        )
    if signed:
        parcel.signed_at = timezone.now()
        parcel.save(update_fields=["signed_at"])
        order_event_record(order=order, kind="parcel_signed", actor=actor, data={"tracking_number": tracking})
        audit_record(actor=actor, action=actions.PARCEL_SIGNED, obj=order, after={"tracking_number": tracking})
    else:
        _reject(order=order, shipment=shipment, parcel=parcel, actor=actor, reason=reason)
    close_if_every_parcel_settled(order=order, shipment=shipment, actor=actor)
    if not signed:
        # After the order's status follows the parcels: a case on a rejected order is one on goods that shipped.
        _announce_rejected(order=order, parcel_ids=[parcel.pk], reference=tracking, reason=reason, actor=actor)
    return "applied"


def _reject(*, order: Order, shipment: Shipment, parcel: Parcel, actor: Actor, reason: str) -> None:
    """Record one parcel rejected and announce it (with its lines) for after-sales."""
    parcel.rejected_at = timezone.now()
    parcel.rejected_reason = reason
    parcel.save(update_fields=["rejected_at", "rejected_reason"])
    lines = [
        {"line": line_no, "sku": sku or "", "quantity": quantity}
        for line_no, sku, quantity in ParcelLine.objects.filter(parcel=parcel)
        .order_by("line__line_no")
        .values_list("line__line_no", "line__sku__code", "quantity")
    ]
    summary = {"tracking_number": parcel.tracking_number, "reason": reason, "units": parcel.units, "lines": lines}
    order_event_record(order=order, kind="parcel_rejected", actor=actor, reason=reason, data=summary)
    audit_record(actor=actor, action=actions.PARCEL_REJECTED, obj=order, after=summary, reason=reason)
    outbox_publish(
        topic="order.parcel_rejected",
        aggregate=order,
        payload={
            "order": order.number,
            "shipment": shipment.number,
            "rejected_at": parcel.rejected_at.isoformat(),
            **summary,
        },
    )
