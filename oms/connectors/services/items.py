"""Retrying failed pull items: the stored native payload goes through the same take as a pulled page."""

from __future__ import annotations

from collections.abc import Sequence

from oms.connectors.adapters import adapter_for
from oms.connectors.models import PullItem, PullItemState, Shop
from oms.connectors.services.pull import connector_actor
from oms.connectors.services.take import Tally, pulled_orders_take


def pull_items_retry(*, shop: Shop, item_ids: Sequence[int] | None = None) -> Tally:
    """Take the shop's failed items (all, or the ones named) again; those that now go in are resolved."""
    items = PullItem.objects.filter(shop=shop, state=PullItemState.FAILED).order_by("id")
    if item_ids is not None:
        items = items.filter(pk__in=list(item_ids))
    natives = [item.native for item in items]
    if not natives:
        return Tally()
    return pulled_orders_take(
        shop=shop, adapter=adapter_for(shop.platform), natives=natives, actor=connector_actor(shop)
    )
