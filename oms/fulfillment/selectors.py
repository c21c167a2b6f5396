"""Reads for fulfilment: stockouts, decisions, transfers and shipments of an order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Prefetch, QuerySet, Sum

from oms.catalog.models import BundleComponent, Sku
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
from oms.orders.models import Order, OrderLine
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


@dataclass(frozen=True)
class PickRow:
    """One SKU to take off the shelves of one warehouse for the orders printed, and the orders it is for."""

    warehouse: str
    sku: str
    name: str
    barcode: str
    quantity: int
    orders: tuple[str, ...]


@dataclass(frozen=True)
class SlipLine:
    line_no: int
    sku: str
    name: str
    quantity: int  # still to ship
    components: tuple[tuple[str, str, int], ...]  # a bundle's parts: (code, name, units)


def orders_for_print(*, numbers: Sequence[str]) -> list[Order]:
    """The orders named, in the order named (unknown numbers left out), with warehouse and courier."""
    found = {
        o.number: o
        for o in Order.objects.filter(number__in=list(numbers)).select_related("final_warehouse", "courier", "channel")
    }
    return [found[n] for n in dict.fromkeys(numbers) if n in found]


def slip_lines(*, orders: Sequence[Order]) -> dict[int, list[SlipLine]]:
    """Per order: its stocked lines with the units not shipped yet, a bundle with its components."""
    lines = list(
        OrderLine.objects.filter(order__in=list(orders), sku__isnull=False)
        .select_related("sku")
        .order_by("order_id", "line_no")
    )
    shipped = dict(
        ParcelLine.objects.filter(line__in=lines)
        .values("line_id")
        .annotate(n=Sum("quantity"))
        .values_list("line_id", "n")
    )
    parts: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for bundle_id, code, name, qty in (
        BundleComponent.objects.filter(bundle_id__in={ln.sku_id for ln in lines if ln.sku and ln.sku.is_bundle})
        .order_by("bundle_id", "component__code")
        .values_list("bundle_id", "component__code", "component__name", "quantity")
    ):
        parts[bundle_id].append((code, name, qty))
    out: dict[int, list[SlipLine]] = defaultdict(list)
    for ln in lines:
        assert ln.sku is not None
        left = ln.quantity - shipped.get(ln.pk, 0)
        if left > 0:
            comps = tuple((c, n, q * left) for c, n, q in parts.get(ln.sku.pk, [])) if ln.sku.is_bundle else ()
            out[ln.order_id].append(SlipLine(ln.line_no, ln.sku.code, ln.name or ln.sku.name, left, comps))
    return out


def pick_rows(*, orders: Sequence[Order]) -> list[PickRow]:
    """What to pick for the orders (拣货单): units still to ship per warehouse and stocked SKU (a bundle by its
    components), warehouse then SKU code; orders without a warehouse under "—"."""
    by_order = slip_lines(orders=orders)
    skus = {
        s.code: s
        for s in Sku.objects.filter(
            code__in={c for lines in by_order.values() for ln in lines for c in _stocked(ln)}
        ).only("code", "name", "barcode")
    }
    units: dict[tuple[str, str], int] = defaultdict(int)
    who: dict[tuple[str, str], dict[str, None]] = defaultdict(dict)
    for order in orders:
        warehouse = order.final_warehouse.code if order.final_warehouse else "—"
        for ln in by_order.get(order.pk, []):
            for code, qty in _stocked(ln).items():
                units[(warehouse, code)] += qty
                who[(warehouse, code)][order.number] = None
    return [
        PickRow(
            wh,
            code,
            skus[code].name if code in skus else "",
            skus[code].barcode if code in skus else "",
            qty,
            tuple(who[(wh, code)]),
        )
        for (wh, code), qty in sorted(units.items())
    ]


def _stocked(line: SlipLine) -> dict[str, int]:
    if line.components:
        return {code: qty for code, _name, qty in line.components}
    return {line.sku: line.quantity}
