"""What fulfilment undoes when an order is cancelled, split or merged away: its open stockouts are cancelled
and a dispatch document the WMS has not shipped yet is withdrawn (``wms.cancel.<warehouse>``).

The orders app's cancel runs it inside its transaction, holding the order's row lock, through
`oms.orders.services.cancel.ORDER_CANCEL_HOOKS` (registered in this app's ready()); split and merge
cancel the retired orders' stockouts themselves.
"""

from __future__ import annotations

from django.db import transaction

from oms.audit.services import audit_record
from oms.core.actors import Actor
from oms.fulfillment import actions
from oms.fulfillment.models import Shipment, ShipmentState
from oms.fulfillment.services.stockouts import stockouts_cancel
from oms.orders.models import Order
from oms.orders.services.timeline import order_event_record
from oms.outbox.services import outbox_publish


@transaction.atomic(savepoint=False)
def order_fulfilment_cancel(*, order: Order, actor: Actor, reason: str) -> dict[str, int]:
    """Cancel the order's open stockouts and withdraw its unshipped shipment. The caller holds the order lock."""
    cancelled = stockouts_cancel(order_ids=[order.pk], reason=reason, actor=actor)
    withdrawn = 0
    for shipment in (
        Shipment.objects.select_for_update()
        .filter(order=order, state__in=[ShipmentState.SENT, ShipmentState.ACCEPTED])
        .select_related("warehouse")
    ):
        shipment.state = ShipmentState.CANCELLED
        shipment.save(update_fields=["state"])
        outbox_publish(
            topic=f"wms.cancel.{shipment.warehouse.code}",
            aggregate=shipment,
            payload={"shipment": shipment.number, "order": order.number, "reason": reason},
        )
        order_event_record(
            order=order, kind="dispatch_withdrawn", actor=actor, reason=reason, data={"shipment": shipment.number}
        )
        audit_record(
            actor=actor, action=actions.SHIPMENT_WITHDRAW, obj=shipment, after={"state": "cancelled"}, reason=reason
        )
        withdrawn += 1
    return {"stockouts_cancelled": cancelled, "shipments_withdrawn": withdrawn}
