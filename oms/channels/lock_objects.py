"""Row locks on channel stock, taken last in the global order (see ``oms.inventory.lock_objects``)."""

from __future__ import annotations

from collections.abc import Iterable

from oms.channels.models import ChannelStock
from oms.inventory.lock_objects import pairs_q


def channel_stocks_for_update(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], ChannelStock]:
    """Lock ChannelStock rows for (channel id, sku id) keys, creating missing ones (quota 0) first."""
    keys = set(keys)
    if not keys:
        return {}
    rows = _locked(keys)
    missing = keys - rows.keys()
    if missing:
        ChannelStock.objects.bulk_create(
            [ChannelStock(channel_id=c, sku_id=s) for c, s in sorted(missing)], ignore_conflicts=True
        )
        rows = _locked(keys)
    return rows


def _locked(keys: set[tuple[int, int]]) -> dict[tuple[int, int], ChannelStock]:
    qs = ChannelStock.objects.select_for_update().filter(pairs_q(keys, "channel_id", "sku_id"))
    return {(r.channel_id, r.sku_id): r for r in qs.order_by("channel_id", "sku_id")}


def channel_stocks_of_skus_for_update(sku_ids: Iterable[int]) -> None:
    """Lock every channel's row of these SKUs in one ordered statement: taken by a service that adjusts some
    rows and then re-allocates (which touches them all), so that its later locks never wait out of order."""
    ids = sorted(set(sku_ids))
    if ids:
        list(
            ChannelStock.objects.select_for_update()
            .filter(sku_id__in=ids)
            .order_by("channel_id", "sku_id")
            .values_list("id")
        )
