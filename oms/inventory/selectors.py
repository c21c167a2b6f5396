"""Stock reads for the API and the console. Read-only; each runs a fixed number of queries (tests pin them)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet, Sum

from oms.catalog.models import BundleComponent, Sku
from oms.channels.models import Channel, ChannelStock
from oms.core.errors import NotFound
from oms.inventory.domain.reservation import bundle_units
from oms.inventory.models import Batch, Reservation, ReservationState, StockDocument, StockItem, StockMove


@dataclass(frozen=True)
class SkuStock:
    sku: Sku
    items: list[StockItem]
    batches: list[Batch]
    channels: list[ChannelStock]
    moves: list[StockMove]
    active_reservations: list[Reservation]


def sku_stock_get(*, sku_code: str, moves_limit: int = 50) -> SkuStock:
    """Everything about one SKU's stock: per warehouse, batches, per channel, the recent ledger and active
    reservations. Six queries."""
    sku = Sku.objects.filter(code=sku_code).first()
    if sku is None:
        raise NotFound(f"No SKU {sku_code}.")
    items = list(
        StockItem.objects.filter(sku=sku).select_related("warehouse").order_by("warehouse__priority", "warehouse__code")
    )
    batches = list(
        Batch.objects.filter(sku=sku)
        .filter(Q(on_hand__gt=0) | Q(defective__gt=0))
        .select_related("warehouse")
        .order_by("expiry_date", "id")
    )
    channels = list(ChannelStock.objects.filter(sku=sku).select_related("channel").order_by("channel__code"))
    moves = list(StockMove.objects.filter(sku=sku).select_related("warehouse", "batch").order_by("-id")[:moves_limit])
    active = list(
        Reservation.objects.filter(sku=sku, state=ReservationState.ACTIVE)
        .select_related("channel", "warehouse")
        .order_by("-id")[:100]
    )
    return SkuStock(sku, items, batches, channels, moves, active)


@dataclass(frozen=True)
class FeedRow:
    sku_id: int
    sku_code: str
    available: int
    pushed: int
    changed_at: dt.datetime | None


def channel_feed_list(*, channel_code: str, changed_since: dt.datetime | None = None) -> list[FeedRow]:
    """The available-to-sell feed of one channel: the figure to push per SKU, all SKUs or only those whose
    figure changed after ``changed_since``. Bundles (组合装) are derived from their components: a bundle is
    listed when any component changed. Four queries whatever the size."""
    channel = Channel.objects.filter(code=channel_code).first()
    if channel is None:
        raise NotFound(f"No channel {channel_code}.")
    rows = ChannelStock.objects.filter(channel=channel)
    if changed_since is not None:
        rows = rows.filter(pushed_at__gt=changed_since)
    listed = list(rows.select_related("sku").order_by("sku__code"))
    out = [FeedRow(r.sku_id, r.sku.code, r.available, r.pushed, r.pushed_at) for r in listed]
    changed_ids = {r.sku_id for r in listed}
    parts: dict[int, list[tuple[int, int]]] = defaultdict(list)
    codes: dict[int, str] = {}
    recipes = BundleComponent.objects.select_related("bundle").filter(bundle__is_active=True)
    if changed_since is not None:
        recipes = recipes.filter(
            bundle__in=BundleComponent.objects.filter(component_id__in=changed_ids).values("bundle_id")
        )
    for bc in recipes:
        parts[bc.bundle_id].append((bc.component_id, bc.quantity))
        codes[bc.bundle_id] = bc.bundle.code
    if parts:
        comps = {c for recipe in parts.values() for c, _q in recipe}
        stock = {r.sku_id: r for r in ChannelStock.objects.filter(channel=channel, sku_id__in=comps)}
        for bundle_id, recipe in sorted(parts.items(), key=lambda kv: codes[kv[0]]):
            available = bundle_units({c: stock[c].available for c in stock}, recipe)
            pushed = bundle_units({c: stock[c].pushed for c in stock}, recipe)
            stamps = [t for c, _q in recipe if c in stock and (t := stock[c].pushed_at) is not None]
            out.append(FeedRow(bundle_id, codes[bundle_id], available, pushed, max(stamps) if stamps else None))
    return out


def stock_document_list(*, doc_type: str | None = None, status: str | None = None) -> QuerySet[StockDocument]:
    docs = StockDocument.objects.select_related("warehouse", "dest_warehouse", "channel", "created_by")
    if doc_type:
        docs = docs.filter(doc_type=doc_type)
    if status:
        docs = docs.filter(status=status)
    return docs.order_by("-id")


def stock_document_get(*, document_id: int) -> StockDocument:
    doc = (
        StockDocument.objects.select_related("warehouse", "dest_warehouse", "channel", "created_by")
        .prefetch_related("lines__sku")
        .filter(pk=document_id)
        .first()
    )
    if doc is None:
        raise NotFound(f"No stock document {document_id}.")
    return doc


def sku_stock_skus(*, query: str = "", warehouse_code: str = "") -> QuerySet[Sku]:
    """Stocked SKUs (not bundles) matching ``query`` (code or name contains it, or the barcode is it), by code;
    with ``warehouse_code`` only those the warehouse holds a stock row of. Page it, then `sku_stock_totals`."""
    skus = Sku.objects.filter(is_bundle=False)
    if query:
        skus = skus.filter(Q(code__icontains=query) | Q(name__icontains=query) | Q(barcode=query))
    if warehouse_code:
        skus = skus.filter(pk__in=StockItem.objects.filter(warehouse__code=warehouse_code).values("sku_id"))
    return skus.order_by("code")


def sku_stock_totals(*, skus: Sequence[Sku], warehouse_code: str = "") -> list[tuple[Sku, dict[str, Any]]]:
    """Each SKU with its totals over all warehouses (or one), ``available`` = on hand − reserved: one
    aggregated query for the figures."""
    items = StockItem.objects.filter(sku_id__in=[s.pk for s in skus])
    if warehouse_code:
        items = items.filter(warehouse__code=warehouse_code)
    totals = {
        row["sku_id"]: {**row, "available": (row["on_hand"] or 0) - (row["reserved"] or 0)}
        for row in items.values("sku_id").annotate(
            on_hand=Sum("on_hand"), reserved=Sum("reserved"), defective=Sum("defective"), in_transit=Sum("in_transit")
        )
    }
    return [(sku, totals.get(sku.pk, {})) for sku in skus]
