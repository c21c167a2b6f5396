"""What fulfilment writes for operators to read, by code (rendered by `oms.core.texts`): timeline events,
warehouse allocation and courier decisions, and the reasons of the transitions it makes itself."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from oms.core.texts import label, label_define, text_define

label_define(
    "order_event",
    {
        "warehouse_allocated": gettext_noop("Warehouse allocated"),
        "split_proposed": gettext_noop("Split proposed"),
        "courier_assigned": gettext_noop("Courier assigned"),
        "dispatched": gettext_noop("Sent to the warehouse"),
        "dispatch_withdrawn": gettext_noop("Withdrawn from the warehouse"),
        "parcel_shipped": gettext_noop("Parcel shipped"),
        "parcel_signed": gettext_noop("Parcel signed for"),
        "parcel_rejected": gettext_noop("Parcel rejected"),
        "stockout_resolved": gettext_noop("Stockout resolved"),
        "stockout_reduced": gettext_noop("Stockout reduced"),
        "warehouse_transferred": gettext_noop("Warehouse transferred"),
    },
)

# The tie-break strategies of warehouse allocation, as the decision names them.
label_define(
    "tie_break",
    {
        "stock": gettext_noop("stock"),
        "packages": gettext_noop("packages"),
        "distance": gettext_noop("distance"),
        "cost": gettext_noop("cost"),
        "priority": gettext_noop("priority"),
    },
)


def _strategies(value: object) -> str:
    return " → ".join(label("tie_break", part.strip()) for part in str(value).split("→"))


label_define(
    "shipment_state",
    {
        "signed": gettext_noop("signed"),
        "rejected": gettext_noop("rejected"),
        "shipped": gettext_noop("shipped"),
        "accepted": gettext_noop("accepted"),
    },
)


def _state(value: object) -> str:
    return label("shipment_state", str(value))


# Warehouse allocation decisions (oms.fulfillment.domain.allocation).
text_define(
    "allocation.tie_break", gettext_noop("tie-break %(order)s: %(warehouse)s (%(km)s km away)"), order=_strategies
)
text_define("allocation.rule", gettext_noop("rule %(rule)s: %(warehouse)s"))
text_define("allocation.split", gettext_noop("no warehouse holds the whole order; split over %(n)s warehouses"))
text_define("allocation.short", gettext_noop("short of stock everywhere; %(warehouse)s holds the most"))
text_define(
    "allocation.none_designated",
    gettext_noop("No eligible warehouse (designated by rule %(rule)s, none covers the receiver's region)."),
)
text_define("allocation.none", gettext_noop("No eligible warehouse (none covers the receiver's region)."))
text_define("allocation.unmapped", gettext_noop("the order has lines without a SKU"))
# Courier decisions (oms.fulfillment.domain.courier).
text_define("courier.designated", gettext_noop("designated by rule %(rule)s"))
text_define("courier.designated_cannot", gettext_noop("designated courier %(courier)s cannot carry this parcel"))
text_define("courier.remark", gettext_noop("remark asks for it (%(keyword)s)"))
text_define("courier.rule", gettext_noop("rule %(rule)s"))
text_define("courier.cheapest", gettext_noop("cheapest capable courier"))
text_define("courier.none", gettext_noop("no courier covers the region, weight and payment of this parcel"))
# Reasons of the transitions fulfilment makes itself.
text_define("fulfilment.split_proposed", gettext_noop("split proposed"))
text_define("fulfilment.assigned", gettext_noop("warehouse and courier assigned"))
text_define("fulfilment.accepted", gettext_noop("accepted by the WMS"))
text_define("fulfilment.closed_by_wms", gettext_noop("%(state)s (WMS)"), state=_state)
text_define("fulfilment.shipped_by", gettext_noop("shipped by %(courier)s %(tracking)s"))
text_define("fulfilment.rest_cancelled", gettext_noop("rest cancelled (%(units)s unit(s)): %(reason)s"))
text_define("fulfilment.transfer_courier", gettext_noop("转仓 to %(warehouse)s: courier again"))
text_define("fulfilment.transferred", gettext_noop("transferred to %(warehouse)s"))
