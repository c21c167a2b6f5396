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
Tampered or stale signatures, unknown warehouses or
shipments are refused and change nothing. Each (warehouse, event id) is taken once: a repeat gets the first
answer back; a repeat of an already-applied fact under a new event id is ignored.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.actors import Actor, wms_actor
from oms.core.db_retry import retry_on_deadlock
from oms.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from oms.fulfillment import actions
from oms.fulfillment.conf import wms_callback_tolerance_s
from oms.fulfillment.domain.parcels import Outstanding, parcel_plan
from oms.fulfillment.models import Parcel, ParcelLine, Shipment, ShipmentState, WmsCallback, WmsLink
from oms.fulfillment.services.common import REF_TYPE, lock_orders, order_lines, recipes_for
from oms.fulfillment.services.delivery import callback_rejected, callback_signed
from oms.inventory.models import Warehouse
from oms.inventory.services.reservations import reservations_consume
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderLine
from oms.orders.services.timeline import order_event_record, orders_transition
from oms.orders.services.updates import order_tracking_save
from oms.outbox.domain.signing import verify_signature
from oms.outbox.services import outbox_publish
from oms.review.models import Interception, InterceptionState

logger = logging.getLogger("oms.fulfillment.wms")

KINDS = ("accepted", "shipped", "signed", "rejected")


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
    if kind not in KINDS:
        errors.append(FieldError("type", f"One of {', '.join(KINDS)}.", "invalid"))
    number = str(data.get("shipment") or "").strip()
    if not number:
        errors.append(FieldError("shipment", "The shipment number from the dispatch document.", "required"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    try:
        return _apply(warehouse=link.warehouse, event_id=event_id, kind=str(kind), number=number, data=data)
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
    }[kind]
    outcome = handler(order=order, shipment=shipment, data=data, actor=wms_actor(warehouse.code))
    WmsCallback.objects.create(
        warehouse=warehouse, event_id=event_id, kind=kind, shipment=shipment, outcome=outcome, body=data
    )
    return CallbackResult(outcome, shipment.number, order.number, order.status)


def _accepted(*, order: Order, shipment: Shipment, data: dict[str, Any], actor: Actor) -> str:
    if shipment.state != ShipmentState.SENT:
        return "ignored"
    holds = sorted(
        Interception.objects.filter(order=order, state=InterceptionState.OPEN).values_list("reason_code", flat=True)
    )
    if holds:
        # A hold raised after dispatch (a refund request, a changed remark) stops the order until an operator
        # releases it or withdraws the document: the WMS is told not to take it yet.
        raise Conflict(
            f"Order {order.number} is held ({', '.join(holds)}); do not ship it yet.",
            code="order_held",
            extra={"holds": holds},
        )
    shipment.state = ShipmentState.ACCEPTED
    shipment.accepted_at = timezone.now()
    shipment.save(update_fields=["state", "accepted_at"])
    orders_transition(
        orders=[order], to_status=Status.PENDING_SHIPMENT.value, actor=actor, reason="accepted by the WMS"
    )
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


def _parcel_repeat(shipment: Shipment, tracking: str, data: dict[str, Any]) -> str | None:
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
    reported = data.get("lines")
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


def _shipped(*, order: Order, shipment: Shipment, data: dict[str, Any], actor: Actor) -> str:
    tracking = str(data.get("tracking_number") or "").strip()[:64]
    if not tracking:
        raise ValidationFailed(
            "A tracking number is required.", details=[FieldError("tracking_number", "Required.", "required")]
        )
    repeat = _parcel_repeat(shipment, tracking, data)
    if repeat is not None:
        return repeat
    weight = data.get("weight_g")
    if weight is not None and (not isinstance(weight, int) or isinstance(weight, bool) or weight < 0):
        raise ValidationFailed("weight_g is a whole number of grams.", code="invalid_weight")
    packages = data.get("packages", 1)
    if not isinstance(packages, int) or isinstance(packages, bool) or packages < 1:
        raise ValidationFailed("packages is a whole number above 0.", code="invalid_packages")
    lines, outstanding = outstanding_lines(order)
    plan = parcel_plan(outstanding, data.get("lines"))
    if not plan:
        raise Conflict(f"Shipment {shipment.number} has nothing left to ship.", code="over_shipment")
    left = sum(o.left for o in outstanding) - sum(plan.values())
    if order.status == Status.PENDING_DISPATCH:
        _accepted(order=order, shipment=shipment, data=data, actor=actor)
    reservations_consume(
        ref_type=REF_TYPE,
        ref_ids=sorted(plan),
        warehouse_id=shipment.warehouse_id,
        quantities=_consume_quantities(lines, plan),
    )
    now = timezone.now()
    parcel = Parcel.objects.create(
        shipment=shipment,
        order=order,
        tracking_number=tracking,
        weight_g=weight,
        package_count=packages,
        units=sum(plan.values()),
        shipped_at=now,
    )
    ParcelLine.objects.bulk_create([ParcelLine(parcel=parcel, line_id=k, quantity=q) for k, q in sorted(plan.items())])
    first = not shipment.tracking_number
    shipment.state = ShipmentState.SHIPPED if left == 0 else ShipmentState.PARTIAL
    if first:
        shipment.tracking_number = tracking
    if weight is not None:
        shipment.weight_g = (shipment.weight_g or 0) + weight if not first else weight
    shipment.package_count = packages if first else shipment.package_count + packages
    if left == 0:
        shipment.shipped_at = now
    shipment.save(update_fields=["state", "tracking_number", "weight_g", "package_count", "shipped_at"])
    if not order.tracking_number:
        order_tracking_save(order, tracking_number=tracking)
    by_line = {o.line_id: o for o in outstanding}
    parcel_lines = [{"line": by_line[k].line_no, "sku": by_line[k].sku, "quantity": q} for k, q in sorted(plan.items())]
    target = Status.SHIPPED if left == 0 else Status.PARTIALLY_SHIPPED
    summary = {"tracking_number": tracking, "weight_g": weight, "shipment": shipment.number, "lines": parcel_lines}
    if order.status != target:
        orders_transition(
            orders=[order],
            to_status=target.value,
            actor=actor,
            reason=f"shipped by {shipment.courier.code} {tracking}",
            data={order.pk: summary},
        )
    else:
        order_event_record(
            order=order,
            kind="parcel_shipped",
            actor=actor,
            reason=f"shipped by {shipment.courier.code} {tracking}",
            data=summary,
        )
    payload = {
        "order": order.number,
        "shipment": shipment.number,
        "courier": shipment.courier.code,
        "tracking_number": tracking,
        "weight_g": weight,
        "shipped_at": now.isoformat(),
        "lines": parcel_lines,
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
                "shipped_at": now.isoformat(),
                "lines": parcel_lines,
                "partial": left > 0 or not first,
            },
        )
    audit_record(actor=actor, action=actions.ORDER_SHIP, obj=order, after=summary)
    return "applied"
