"""Reads for fulfilment: stockouts, decisions, transfers and shipments of an order."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Prefetch, QuerySet, Sum

from oms.fulfillment.models import (
    AllocationDecision,
    Courier,
    Parcel,
    ParcelLine,
    Shipment,
    Stockout,
    StockoutState,
    WarehouseTransfer,
    WmsLink,
)
from oms.orders.domain.status import Status
from oms.orders.models import Order
from oms.review.models import Interception, InterceptionState


def stockout_list(
    *, state: str = StockoutState.OPEN, sku_code: str = "", warehouse_code: str = ""
) -> QuerySet[Stockout]:
    qs = Stockout.objects.select_related("order", "line", "sku", "warehouse").order_by("created_at", "id")
    if state:
        qs = qs.filter(state=state)
    if sku_code:
        qs = qs.filter(sku__code=sku_code)
    if warehouse_code:
        qs = qs.filter(warehouse__code=warehouse_code)
    return qs


def stockouts_by_sku(*, state: str = StockoutState.OPEN) -> list[dict[str, Any]]:
    """The stockout list by SKU (缺货汇总): units short, orders waiting, since when — most units first."""
    return list(
        Stockout.objects.filter(state=state)
        .values("sku_id", "sku__code", "sku__name", "warehouse__code")
        .annotate(units=Sum("quantity"), orders=Count("order_id", distinct=True), since=Min("created_at"))
        .order_by("-units", "sku__code", "warehouse__code")
    )


def order_fulfilment(*, order: Order) -> dict[str, Any]:
    """What fulfilment decided and did for one order, oldest first (the order detail's panel)."""
    return {
        "decisions": list(
            AllocationDecision.objects.filter(order=order)
            .select_related("warehouse", "courier", "rule")
            .order_by("created_at", "id")
        ),
        "transfers": list(
            WarehouseTransfer.objects.filter(order=order)
            .select_related("from_warehouse", "to_warehouse", "from_subsidiary", "to_subsidiary")
            .order_by("created_at", "id")
        ),
        "shipments": list(
            Shipment.objects.filter(order=order)
            .select_related("warehouse", "subsidiary", "courier")
            .order_by("created_at", "id")
        ),
        "stockouts": list(
            Stockout.objects.filter(order=order).select_related("sku", "warehouse", "line").order_by("created_at", "id")
        ),
        "parcels": order_parcels(order=order),
    }


def order_parcels(*, order: Order) -> list[Parcel]:
    """The parcels that left for the order, with their lines, oldest first."""
    return list(
        Parcel.objects.filter(order=order)
        .select_related("shipment")
        .prefetch_related(Prefetch("lines", queryset=ParcelLine.objects.select_related("line__sku")))
        .order_by("shipped_at", "id")
    )


def shipment_list(*, state: str = "", warehouse_code: str = "") -> QuerySet[Shipment]:
    qs = Shipment.objects.select_related("order", "warehouse", "courier").order_by("-created_at", "-id")
    if state:
        qs = qs.filter(state=state)
    if warehouse_code:
        qs = qs.filter(warehouse__code=warehouse_code)
    return qs


def order_outstanding(*, order: Order) -> list[dict[str, Any]]:
    """The order's stocked lines with what has shipped and what is left (the ship-by-hand form, pick lists)."""
    shipped = dict(
        ParcelLine.objects.filter(line__order=order)
        .values("line_id")
        .annotate(n=Sum("quantity"))
        .values_list("line_id", "n")
    )
    return [
        {
            "line_no": ln.line_no,
            "sku": ln.sku.code if ln.sku else "",
            "name": ln.name,
            "ordered": ln.quantity,
            "shipped": shipped.get(ln.pk, 0),
            "left": ln.quantity - shipped.get(ln.pk, 0),
        }
        for ln in order.lines.filter(sku__isnull=False).select_related("sku").order_by("line_no")
    ]


def couriers_active() -> QuerySet[Courier]:
    return Courier.objects.filter(is_active=True).order_by("code")


def dispatch_queue() -> QuerySet[Order]:
    """Orders waiting for dispatch (待下发), oldest first, each with what it lacks: ``held`` (an open
    interception), ``has_wms`` (its warehouse takes documents from us); no warehouse or courier shows as null."""
    return (
        Order.objects.filter(status=Status.PENDING_DISPATCH)
        .select_related("final_warehouse", "courier")
        .annotate(
            held=Exists(Interception.objects.filter(order=OuterRef("pk"), state=InterceptionState.OPEN)),
            has_wms=Exists(WmsLink.objects.filter(warehouse=OuterRef("final_warehouse"), is_active=True)),
        )
        .order_by("placed_at", "pk")
    )
