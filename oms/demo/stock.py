"""Demo stock: warehouses assigned to channels, allocation rules, opening stock with batches (food lots carry
production and expiry dates), then a transfer in transit, a stock count, some defective goods and a return
to warehouse from the store — so every stock screen has something real to show."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from oms.catalog.models import Sku
from oms.channels.models import AllocationRule, Channel, ChannelStock, ChannelWarehouse
from oms.channels.services.allocation import channel_stock_reallocate
from oms.core.actors import SYSTEM
from oms.core.context import request_context
from oms.inventory.models import StockItem, Warehouse
from oms.inventory.services import documents as docs

# channel code -> (warehouse codes, rule keyword arguments)
ASSIGNMENTS: dict[str, tuple[list[str], dict[str, object]]] = {
    "TMALL": (["HZ01", "GZ01", "SH01"], {"method": "ratio", "ratio_bp": 3500, "safety_stock": 2, "priority": 10}),
    "JD": (["HZ01", "GZ01", "CD01"], {"method": "ratio", "ratio_bp": 2500, "safety_stock": 2, "priority": 20}),
    "DOUYIN": (["HZ01", "GZ01"], {"method": "forecast", "ratio_bp": 2000, "forecast_days": 14, "priority": 30}),
    "VIP": (["GZ01"], {"method": "fixed", "fixed_quantity": 20, "min_quantity": 5, "max_quantity": 40, "priority": 40}),
    "STORE-SH": (["SH01"], {"method": "ratio", "ratio_bp": 10_000, "priority": 50}),
    "DIST-01": (["HZ01"], {"method": "ratio", "ratio_bp": 500, "min_quantity": 10, "priority": 60}),
}


@dataclass(frozen=True)
class StockDemoSummary:
    receipts: int
    units: int
    channel_rows: int

    def __str__(self) -> str:
        return f"{self.receipts} receipts, {self.units} units, {self.channel_rows} channel stock rows"


def _stocked(warehouse: Warehouse, n: int) -> list[int]:
    """SKU ids with plenty of free stock in the warehouse, for the sample documents."""
    return list(
        StockItem.objects.filter(warehouse=warehouse, on_hand__gte=50, reserved=0)
        .order_by("sku_id")
        .values_list("sku_id", flat=True)[:n]
    )


def load_stock_demo(seed: int = 2026) -> StockDemoSummary:
    rng = random.Random(seed + 4)
    warehouses = {w.code: w for w in Warehouse.objects.filter(is_active=True)}
    channels = {c.code: c for c in Channel.objects.filter(is_active=True)}
    for code, (wh_codes, rule) in ASSIGNMENTS.items():
        channel = channels.get(code)
        if channel is None:
            continue
        for wc in wh_codes:
            if wc in warehouses:
                ChannelWarehouse.objects.get_or_create(channel=channel, warehouse=warehouses[wc])
        AllocationRule.objects.get_or_create(channel=channel, scope="all", defaults=rule)
    skus = list(Sku.objects.filter(is_active=True, is_bundle=False).select_related("category").order_by("code"))
    today = dt.date(2026, 11, 1)
    receipts, units = 0, 0
    with request_context(channel="system"):
        for wh in warehouses.values():
            lines = []
            for sku in skus:
                if rng.random() < 0.15:
                    continue
                qty = rng.randint(20, 300)
                units += qty
                food = sku.category is not None and sku.category.code == "FOOD"
                produced = today - dt.timedelta(days=rng.randint(10, 120))
                lines.append(
                    docs.DocLine(
                        sku_id=sku.pk,
                        quantity=qty,
                        batch_no=f"L{produced:%Y%m%d}" if food else "",
                        production_date=produced if food else None,
                        expiry_date=produced + dt.timedelta(days=270) if food else None,
                    )
                )
            if lines:
                docs.stock_receipt_create(warehouse_id=wh.pk, lines=lines, actor=SYSTEM, note="期初入库 opening stock")
                receipts += 1
        hz, gz, sh = warehouses.get("HZ01"), warehouses.get("GZ01"), warehouses.get("SH01")
        if hz and gz:
            at_hz = _stocked(hz, 3)
            at_gz = _stocked(gz, 1)
            if len(at_hz) == 3 and at_gz:
                moving = docs.stock_transfer_create(
                    source_id=hz.pk, dest_id=gz.pk, lines=[docs.DocLine(at_hz[0], 10)], actor=SYSTEM, note="华南补货"
                )
                docs.stock_transfer_ship(document_id=moving.pk, actor=SYSTEM)
                docs.stock_transfer_create(
                    source_id=hz.pk, dest_id=gz.pk, lines=[docs.DocLine(at_hz[1], 6)], actor=SYSTEM, note="待出库调拨"
                )
                docs.stock_count_create(
                    warehouse_id=hz.pk, lines=[docs.DocLine(at_hz[2], 15)], actor=SYSTEM, note="月度盘点 monthly count"
                )
                docs.stock_defective_mark(
                    warehouse_id=gz.pk, lines=[docs.DocLine(at_gz[0], 3)], actor=SYSTEM, note="外箱破损 damaged cartons"
                )
        store = channels.get("STORE-SH")
        at_sh = _stocked(sh, 1) if sh else []
        if store and sh and hz and at_sh:
            channel_stock_reallocate(sku_ids=at_sh)
            docs.stock_return_create(
                channel_id=store.pk,
                source_id=sh.pk,
                dest_id=hz.pk,
                lines=[docs.DocLine(at_sh[0], 5)],
                actor=SYSTEM,
                note="门店换季退仓 seasonal return",
            )
    channel_stock_reallocate()
    return StockDemoSummary(receipts=receipts, units=units, channel_rows=ChannelStock.objects.count())
