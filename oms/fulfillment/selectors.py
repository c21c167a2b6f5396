"""Reads for fulfilment: stockouts, decisions, transfers and shipments of an order."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min, Prefetch, QuerySet, Sum

from oms.fulfillment.models import (
    AllocationDecision,
    Parcel,
    ParcelLine,
    Shipment,
    Stockout,
    StockoutState,
    WarehouseTransfer,
)
from oms.orders.models import Order


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
