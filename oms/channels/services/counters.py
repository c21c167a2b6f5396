"""Channel stock counters: the one place that changes ChannelStock and logs available-to-sell changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import timezone

from oms.channels.lock_objects import channel_stocks_for_update
from oms.channels.models import AvailabilityChange, ChannelStock
from oms.inventory.domain.reservation import pushed_figure


@dataclass(frozen=True)
class ChannelDelta:
    sales_reserved: int = 0
    return_reserved: int = 0
    quota: int = 0


def refresh_pushed(rows: list[ChannelStock]) -> list[AvailabilityChange]:
    """Recompute each row's pushed figure; for those that changed set ``pushed_at`` and return change-log rows
    (not yet saved)."""
    now = timezone.now()
    changes: list[AvailabilityChange] = []
    for row in rows:
        figure = pushed_figure(
            available=row.available,
            safety_stock=row.safety_stock,
            min_quantity=row.min_quantity,
            max_quantity=row.max_quantity,
        )
        if figure != row.pushed or row.pushed_at is None:
            row.pushed = figure
            row.pushed_at = now
            changes.append(
                AvailabilityChange(channel_id=row.channel_id, sku_id=row.sku_id, available=row.available, pushed=figure)
            )
    return changes


def channel_stock_apply(
    *, deltas: Mapping[tuple[int, int], ChannelDelta], locked: Mapping[tuple[int, int], ChannelStock] | None = None
) -> list[ChannelStock]:
    """Add ``deltas`` to the (channel id, sku id) counters, refresh pushed figures and log changes: a constant
    number of statements whatever the size. Locks the rows unless the caller passes them already locked."""
    keys = [k for k, d in deltas.items() if d != ChannelDelta()]
    if not keys:
        return []
    rows = dict(locked) if locked is not None else channel_stocks_for_update(keys)
    touched: list[ChannelStock] = []
    for key in sorted(keys):
        row, delta = rows[key], deltas[key]
        row.sales_reserved += delta.sales_reserved
        row.return_reserved += delta.return_reserved
        row.quota += delta.quota
        touched.append(row)
    changes = refresh_pushed(touched)
    now = timezone.now()
    for row in touched:
        row.updated_at = now
    ChannelStock.objects.bulk_update(
        touched, ["sales_reserved", "return_reserved", "quota", "pushed", "pushed_at", "updated_at"]
    )
    if changes:
        AvailabilityChange.objects.bulk_create(changes)
    return touched
