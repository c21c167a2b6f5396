"""Re-derive every stock counter from its ledger and report drift (must be zero), plus invariant breaches.

Counters are a cache of the ledger kept in the same transaction; this is the proof. It reads in a few
GROUP BY queries whatever the data size and compares in memory.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Sum

from oms.channels.models import ChannelStock, ChannelWarehouse
from oms.channels.services.allocation import CS_FIELDS
from oms.inventory.domain.reservation import pushed_figure
from oms.inventory.models import (
    Batch,
    Reservation,
    ReservationKind,
    ReservationScope,
    ReservationState,
    StockItem,
    StockMove,
)


@dataclass(frozen=True)
class Drift:
    table: str
    key: tuple[int, ...]
    counter: str
    stored: int
    derived: int


@dataclass
class VerifyReport:
    checked: dict[str, int] = field(default_factory=dict)
    drift: list[Drift] = field(default_factory=list)
    over_committed: list[tuple[int, int, int]] = field(default_factory=list)  # (sku, quotas, pool)

    @property
    def ok(self) -> bool:
        return not self.drift


def _compare(
    report: VerifyReport,
    table: str,
    stored: dict[tuple[int, ...], dict[str, int]],
    derived: dict[tuple[int, ...], dict[str, int]],
    counters: tuple[str, ...],
) -> None:
    for key in stored.keys() | derived.keys():
        s, d = stored.get(key, {}), derived.get(key, {})
        for name in counters:
            if s.get(name, 0) != d.get(name, 0):
                report.drift.append(Drift(table, key, name, s.get(name, 0), d.get(name, 0)))


def stock_verify() -> VerifyReport:
    """Compare StockItem, Batch and ChannelStock counters with the stock ledger and the reservation ledger."""
    report = VerifyReport()
    items: dict[tuple[int, ...], dict[str, int]] = {}
    for w, s, on_hand, reserved, transfer, defective, in_transit in StockItem.objects.values_list(
        "warehouse_id", "sku_id", "on_hand", "reserved", "reserved_transfer", "defective", "in_transit"
    ):
        items[(w, s)] = {
            "on_hand": on_hand,
            "reserved": reserved,
            "reserved_transfer": transfer,
            "defective": defective,
            "in_transit": in_transit,
        }
    derived: dict[tuple[int, ...], dict[str, int]] = defaultdict(dict)
    for row in StockMove.objects.values("warehouse_id", "sku_id").annotate(
        on_hand=Sum("delta_on_hand"), defective=Sum("delta_defective"), in_transit=Sum("delta_in_transit")
    ):
        derived[(row["warehouse_id"], row["sku_id"])].update(
            on_hand=row["on_hand"] or 0, defective=row["defective"] or 0, in_transit=row["in_transit"] or 0
        )
    active = Reservation.objects.filter(state=ReservationState.ACTIVE)
    for row in (
        active.filter(scope=ReservationScope.WAREHOUSE)
        .values("warehouse_id", "sku_id", "kind")
        .annotate(q=Sum("quantity"))
    ):
        d = derived[(row["warehouse_id"], row["sku_id"])]
        d["reserved"] = d.get("reserved", 0) + row["q"]
        if row["kind"] == ReservationKind.TRANSFER:
            d["reserved_transfer"] = d.get("reserved_transfer", 0) + row["q"]
    _compare(
        report, "stock_item", items, derived, ("on_hand", "reserved", "reserved_transfer", "defective", "in_transit")
    )
    report.checked["stock_items"] = len(items)

    batches: dict[tuple[int, ...], dict[str, int]] = {
        (b[0],): {"on_hand": b[1], "defective": b[2]} for b in Batch.objects.values_list("id", "on_hand", "defective")
    }
    by_batch: dict[tuple[int, ...], dict[str, int]] = {
        (row["batch_id"],): {"on_hand": row["on_hand"] or 0, "defective": row["defective"] or 0}
        for row in StockMove.objects.filter(batch__isnull=False)
        .values("batch_id")
        .annotate(on_hand=Sum("delta_on_hand"), defective=Sum("delta_defective"))
    }
    _compare(report, "batch", batches, by_batch, ("on_hand", "defective"))
    report.checked["batches"] = len(batches)

    channel: dict[tuple[int, ...], dict[str, int]] = {}
    pool_claims: dict[int, int] = defaultdict(int)
    for rec in ChannelStock.objects.values_list(*CS_FIELDS[1:-1]):  # channel … pushed
        c, s, quota, sales, ret, safety, minq, maxq, pushed = rec
        channel[(c, s)] = {"sales_reserved": sales, "return_reserved": ret, "pushed": pushed}
        pool_claims[s] += quota
        expected = pushed_figure(
            available=quota - sales - ret, safety_stock=safety, min_quantity=minq, max_quantity=maxq
        )
        if expected != pushed:
            report.drift.append(Drift("channel_stock", (c, s), "pushed", pushed, expected))
    ch_derived: dict[tuple[int, ...], dict[str, int]] = defaultdict(dict)
    for row in (
        active.filter(scope=ReservationScope.CHANNEL).values("channel_id", "sku_id", "kind").annotate(q=Sum("quantity"))
    ):
        name = "return_reserved" if row["kind"] == ReservationKind.RETURN else "sales_reserved"
        ch_derived[(row["channel_id"], row["sku_id"])][name] = row["q"]
    for key, values in channel.items():
        ch_derived[key].setdefault("pushed", values["pushed"])
    _compare(report, "channel_stock", channel, ch_derived, ("sales_reserved", "return_reserved"))
    report.checked["channel_stock"] = len(channel)

    # Quotas of all channels together never exceed what all their warehouses hold (a necessary condition of
    # the per-warehouse backing the allocator keeps); a breach is reported, not drift: a count found less.
    assigned = set(ChannelWarehouse.objects.values_list("warehouse_id", flat=True))
    transit = set(ChannelWarehouse.objects.filter(include_in_transit=True).values_list("warehouse_id", flat=True))
    pool: dict[int, int] = defaultdict(int)
    for (w, s), v in items.items():
        if w in assigned:
            pool[s] += v["on_hand"] - v["reserved_transfer"] + (v["in_transit"] if w in transit else 0)
    for s, claimed in sorted(pool_claims.items()):
        if claimed > pool.get(s, 0):
            report.over_committed.append((s, claimed, pool.get(s, 0)))
    return report
