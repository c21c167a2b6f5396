"""What fulfilment writes for operators to read, by code (rendered by `oms.core.texts`): timeline events,
warehouse allocation and courier decisions, and the reasons of the transitions it makes itself."""

from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

from oms.core.texts import label, label_define, text_define, text_render
from oms.orders.domain.status import STATUS_LABELS, Status


def _one_based(value: object) -> str:
    """A parcel index as people count it: parcels[0] is parcel 1."""
    try:
        return str(int(str(value)) + 1)
    except ValueError:
        return str(value)


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
text_define("fulfilment.shipped_by_hand", gettext_noop("shipped by hand"))


def _status(value: object) -> str:
    """An order status as operators say it (Chinese in every language)."""
    try:
        return STATUS_LABELS[Status(str(value))][0]
    except ValueError:
        return str(value)


def _over(value: object) -> str:
    """ "TEA-001 shipped 9, outstanding 3, line 2 shipped …" item by item in the reader's words."""
    items = re.findall(r"(.+?) shipped (\d+), outstanding (\d+)(?:, |$)", str(value))
    if not items:
        return str(value)
    return gettext("; ").join(
        text_render("ship.over_item", {"what": what, "requested": r, "left": o}) for what, r, o in items
    )


# Shipping by hand (oms.fulfillment.services.by_hand) and the parcel path it shares with the WMS.
text_define("ship.courier_required", gettext_noop("Name the courier."))
text_define("ship.unknown_courier", gettext_noop("No active courier %(courier)s."))
text_define(
    "ship.not_shippable",
    gettext_noop(
        "Order %(order)s is %(status)s: only an order pending dispatch or shipment, or partially shipped, can be "
        "marked shipped."
    ),
    status=_status,
)
text_define("ship.refunded", gettext_noop("Order %(order)s is refunded in full; it cannot ship."))
text_define("ship.held", gettext_noop("Order %(order)s has an open interception; release it first."))
text_define("ship.no_warehouse", gettext_noop("Order %(order)s has no shipping warehouse yet: allocate one first."))
text_define(
    "ship.tracking_in_use",
    gettext_noop("Tracking number %(tracking)s of %(courier)s is already on order %(other)s."),
)
text_define("ship.already_on", gettext_noop("Already on order %(other)s."))
text_define(
    "ship.courier_mismatch",
    gettext_noop("Order %(order)s has parcels with %(courier)s; enter its further parcels with the same courier."),
)
text_define("ship.parcels_left_with", gettext_noop("Parcels left with %(courier)s."))
text_define("ship.required", gettext_noop("Required."))
text_define("ship.unknown", gettext_noop("Unknown."))
text_define("ship.too_long", gettext_noop("At most 64 characters."))
text_define("ship.entered_twice", gettext_noop("Entered twice."))
text_define("ship.one_tracking_number", gettext_noop("Enter at least one tracking number."))
text_define("ship.tracking_required", gettext_noop("A tracking number is required."))
text_define("ship.nothing_left", gettext_noop("Shipment %(shipment)s has nothing left to ship."))
text_define("ship.over", gettext_noop("Shipped more than is left to ship: %(over)s"), over=_over)
text_define("ship.over_item", gettext_noop("%(what)s: %(requested)s entered, %(left)s left"), parse=False)
text_define(
    "ship.fully_shipped",
    gettext_noop(
        "Shipment %(shipment)s is fully shipped (tracking number %(tracking)s); nothing is left to ship under "
        "%(other)s."
    ),
)
text_define(
    "ship.parcel_mismatch", gettext_noop("Parcel %(tracking)s of shipment %(shipment)s was recorded with other lines.")
)
text_define("ship.weight", gettext_noop("weight_g is a whole number of grams."))
text_define(
    "field.parcel_tracking",
    gettext_noop("parcel %(p)s: tracking number"),
    stored="parcels[%(p)s].tracking_number",
    p=_one_based,
)
text_define("field.parcels", gettext_noop("parcels"), stored="parcels")
text_define("field.courier", gettext_noop("courier"), stored="courier")
text_define("field.tracking_number", gettext_noop("tracking number"), stored="tracking_number")

# A file of tracking numbers (oms.fulfillment.services.tracking_import): each refused row by its code.
label_define(
    "tracking_column",
    {
        "order": gettext_noop("Order number"),
        "courier": gettext_noop("Courier"),
        "tracking_number": gettext_noop("Tracking number"),
        "sku": gettext_noop("SKU"),
        "quantity": gettext_noop("Quantity"),
        "weight_g": gettext_noop("Weight (g)"),
    },
)
text_define("tracking_row.required", gettext_noop("This column is required."), parse=False)
text_define("tracking_row.invalid_quantity", gettext_noop("A whole number of units above 0."), parse=False)
text_define("tracking_row.sku_and_quantity", gettext_noop("Give SKU and quantity together."), parse=False)
text_define("tracking_row.invalid_weight", gettext_noop("A whole number of grams."), parse=False)
text_define(
    "tracking_row.courier_differs",
    gettext_noop("One courier per order: the order's first row names another."),
    parse=False,
)
text_define("tracking_row.unknown_order", gettext_noop("No order %(order)s."), parse=False)
text_define(
    "tracking_row.held_back", gettext_noop("Not applied: another row of order %(order)s has a problem."), parse=False
)
# What a parcel's lines may be refused for (oms.fulfillment.domain.parcels), and their field paths.
text_define("parcel.no_line", gettext_noop("The order has no line %(line)s."))
text_define("parcel.units", gettext_noop("A whole number of units above 0."))
text_define("parcel.line_number", gettext_noop("The line number of the dispatch document."))
text_define("parcel.line_or_sku", gettext_noop("Name the line (line number) or the SKU (sku)."))
text_define("parcel.lines_list", gettext_noop("A non-empty list of {line or sku, quantity}."))
text_define("parcel.lines_list_field", gettext_noop("lines is a non-empty list of {line or sku, quantity}."))
text_define("field.parcel_line", gettext_noop("parcel line %(i)s"), stored="lines[%(i)s]", i=_one_based)
text_define(
    "field.parcel_line_part",
    gettext_noop("parcel line %(i)s: %(part)s"),
    stored="lines[%(i)s].%(part)s",
    i=_one_based,
    part=lambda v: label("parcel_line_part", str(v)),
)
label_define("parcel_line_part", {"line": gettext_noop("line number"), "quantity": gettext_noop("quantity")})
