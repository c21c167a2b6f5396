"""WMS callbacks: what the warehouse system reports about a shipment, signed like our own webhooks.

A callback is JSON, POSTed to ``/api/v1/fulfillment/wms/<warehouse code>/callbacks`` with the headers
``X-OMS-Event-Id``, ``X-OMS-Timestamp`` and ``X-OMS-Signature`` (HMAC-SHA256 of ``timestamp.body`` with the
warehouse's callback secret)::

    {"type": "accepted", "shipment": "SO2026…-1"}
    {"type": "shipped", "shipment": "SO2026…-1", "tracking_number": "SF1234567890", "weight_g": 1250,
     "packages": 1, "lines": [{"sku": "TEA-001", "quantity": 2}]}   # lines optional: all that is left
    {"type": "signed", "shipment": "SO2026…-1"}                 # or per parcel: "tracking_number": "SF…"
    {"type": "rejected", "shipment": "SO2026…-1", "reason": "收件人拒收"}  # or per parcel, like signed

accepted → pending_shipment (待发货). shipped: one parcel (包裹) under its tracking number, carrying the lines
named (``{"line": <line number>, "quantity"}`` or ``{"sku", "quantity"}``) or, without ``lines``, everything not
shipped yet. Each parcel consumes exactly its units' reservations (on-hand stock and the channel quota go
down), is written back to the platform for every platform order id on the order (one outbox event each, with
the parcel's lines) and leaves the order partially shipped (部分发货) until every unit has left, then shipped
(已发货). A warehouse may send several shipped callbacks with different tracking numbers; the same tracking
number again is ignored (or refused if it names other lines); more than is left to ship is refused.
signed → 已签收 and rejected → 已拒收 apply to the whole order once it is fully shipped (or its rest was
cancelled: `oms.fulfillment.services.parcels`). A signed or rejected callback may name one parcel
(``{"type": "rejected", "shipment": …, "tracking_number": "ZT-P1", "reason": …}``), as couriers report each
parcel: the parcel is recorded as signed for or rejected (拒收) at any time after it shipped, and the order
closes when every parcel of a fully shipped order is settled (`oms.fulfillment.services.delivery`).
Goods coming back are reported on the shipment they left with, for the after-sales case expecting them
(``RETURN_CALLBACKS``, `oms.aftersales.services.returns`)::

    {"type": "returned", "shipment": "SO2026…-1", "case": "AS…", "lines": {"2": 1}}
    {"type": "inspected", "shipment": "SO2026…-1", "case": "AS…", "good": {"2": 1}, "defective": {}}

Tampered or stale signatures, unknown warehouses or
shipments are refused and change nothing. Each (warehouse, event id) is taken once: a repeat gets the first
answer back; a repeat of an already-applied fact under a new event id is ignored.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import transaction

from oms.core.actors import Actor, wms_actor
from oms.core.db_retry import retry_on_deadlock
from oms.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from oms.fulfillment.conf import wms_callback_tolerance_s
from oms.fulfillment.models import Shipment, ShipmentState, WmsCallback, WmsLink
from oms.fulfillment.services.common import lock_orders
from oms.fulfillment.services.delivery import callback_rejected, callback_signed
from oms.fulfillment.services.shipping import parcel_ship, shipment_accept
from oms.inventory.models import Warehouse
from oms.orders.models import Order
from oms.outbox.domain.signing import verify_signature

logger = logging.getLogger("oms.fulfillment.wms")

KINDS = ("accepted", "shipped", "signed", "rejected")


class ReturnRecord(Protocol):
    """Applies a return callback in the callback's transaction (the order and shipment locked); the outcome."""

    def __call__(self, *, order: Order, shipment: Shipment, data: dict[str, Any], actor: Actor) -> str: ...


class ReturnFinish(Protocol):
    """Runs after the callback committed, and again for a repeat of it (so it must be idempotent)."""

    def __call__(self, *, order_number: str, data: dict[str, Any], actor: Actor) -> object: ...


@dataclass(frozen=True)
class ReturnCallback:
    record: ReturnRecord
    finish: ReturnFinish | None = None


# Goods coming back (after-sales): "returned" (received at the warehouse) and "inspected" (good or defective per
# unit), signed and deduplicated like the shipment callbacks. Registered in `oms.wiring`.
RETURN_CALLBACKS: dict[str, ReturnCallback] = {}


@dataclass(frozen=True)
class CallbackResult:
    outcome: str  # applied | ignored (already so) | duplicate (this event id was taken before)
    shipment: str
    order: str
    order_status: str
    message: str = ""


def wms_callback_receive(
    *, warehouse_code: str, headers: Mapping[str, str], body: bytes, now: float | None = None
) -> CallbackResult:
    """Verify and apply one signed WMS callback (see the module docstring)."""
    link = WmsLink.objects.select_related("warehouse").filter(warehouse__code=warehouse_code, is_active=True).first()
    if link is None:
        logger.warning("WMS callback for unknown warehouse %s refused", warehouse_code)
        raise NotFound(f"No WMS link for warehouse {warehouse_code}.", code="unknown_warehouse")
    tolerance = wms_callback_tolerance_s()
    try:
        verified = verify_signature(
            link.callback_secret, headers, body, tolerance, now=time.time() if now is None else now
        )
    except Exception:
        logger.warning("WMS callback for %s refused: bad signature", warehouse_code)
        raise
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationFailed("The body is not JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ValidationFailed("The body is a JSON object.", code="invalid_json")
    event_id = (verified.event_id or str(data.get("event_id") or "")).strip()[:64]
    errors: list[FieldError] = []
    if not event_id:
        errors.append(FieldError("event_id", "An event id (X-OMS-Event-Id) is required.", "required"))
    kind = data.get("type")
    if kind not in KINDS and kind not in RETURN_CALLBACKS:
        errors.append(FieldError("type", f"One of {', '.join((*KINDS, *RETURN_CALLBACKS))}.", "invalid"))
    number = str(data.get("shipment") or "").strip()
    if not number:
        errors.append(FieldError("shipment", "The shipment number from the dispatch document.", "required"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    try:
        result = _apply(warehouse=link.warehouse, event_id=event_id, kind=str(kind), number=number, data=data)
        returned = RETURN_CALLBACKS.get(str(kind))
        if returned is not None and returned.finish is not None:
            returned.finish(order_number=result.order, data=data, actor=wms_actor(link.warehouse.code))
        return result
    except (Conflict, NotFound, ValidationFailed) as exc:
        logger.warning("WMS callback %s (%s %s) refused: %s", event_id, kind, number, exc.message)
        raise


@retry_on_deadlock
@transaction.atomic(durable=True)
def _apply(*, warehouse: Warehouse, event_id: str, kind: str, number: str, data: dict[str, Any]) -> CallbackResult:
    found = Shipment.objects.filter(number=number, warehouse=warehouse).values_list("pk", "order_id").first()
    if found is None:
        raise NotFound(f"No shipment {number} at warehouse {warehouse.code}.", code="unknown_shipment")
    order = lock_orders([found[1]])[found[1]]
    previous = WmsCallback.objects.filter(warehouse=warehouse, event_id=event_id).first()
    shipment = Shipment.objects.select_for_update().select_related("courier").get(pk=found[0])
    if previous is not None:
        return CallbackResult(
            "duplicate", shipment.number, order.number, order.status, f"event {event_id} was {previous.outcome}"
        )
    if shipment.state == ShipmentState.CANCELLED:
        raise Conflict(f"Shipment {number} was withdrawn (the order changed warehouse).", code="shipment_cancelled")
    handler = {
        "accepted": _accepted,
        "shipped": _shipped,
        "signed": callback_signed,
        "rejected": callback_rejected,
        **{k: r.record for k, r in RETURN_CALLBACKS.items()},
    }[kind]
    outcome = handler(order=order, shipment=shipment, data=data, actor=wms_actor(warehouse.code))
    WmsCallback.objects.create(
        warehouse=warehouse, event_id=event_id, kind=kind, shipment=shipment, outcome=outcome, body=data
    )
    return CallbackResult(outcome, shipment.number, order.number, order.status)


def _accepted(*, order: Order, shipment: Shipment, data: dict[str, Any], actor: Actor) -> str:
    return shipment_accept(order=order, shipment=shipment, actor=actor, reason="accepted by the WMS")


def _shipped(*, order: Order, shipment: Shipment, data: dict[str, Any], actor: Actor) -> str:
    return parcel_ship(
        order=order,
        shipment=shipment,
        tracking_number=str(data.get("tracking_number") or ""),
        lines=data.get("lines"),
        weight_g=data.get("weight_g"),
        packages=data.get("packages", 1),
        actor=actor,
    )
