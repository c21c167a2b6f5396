"""The review fact split/merge owns: how many open orders this one could be merged with but is not
("same buyer, not merged" 同买家未合单). Orders an operator split apart do not count for each other."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from oms.orders.models import Order
from oms.splitmerge.domain.rules import merge_key
from oms.splitmerge.models import LineageKind, OrderLineage
from oms.splitmerge.services.children import WORKABLE
from oms.splitmerge.services.merge import merge_view


def unmerged_mergeable_orders(orders: Sequence[Order]) -> dict[int, dict[str, Any]]:
    customer_ids = {o.customer_id for o in orders if o.customer_id}
    if not customer_ids:
        return {}
    open_orders = list(Order.objects.filter(customer_id__in=customer_ids, status__in=[s.value for s in WORKABLE]))
    split_parent: dict[int, set[int]] = defaultdict(set)
    for child_id, parent_id in OrderLineage.objects.filter(
        child_id__in=[o.pk for o in open_orders] + [o.pk for o in orders],
        kind__in=[LineageKind.SPLIT, LineageKind.UNMERGE],
    ).values_list("child_id", "parent_id"):
        split_parent[child_id].add(parent_id)
    by_key: dict[tuple[object, ...], list[Order]] = defaultdict(list)
    for o in open_orders:
        by_key[(*merge_key(merge_view(o)), o.is_presale)].append(o)
    out: dict[int, dict[str, Any]] = {}
    for o in orders:
        partners = [
            p
            for p in by_key.get((*merge_key(merge_view(o)), o.is_presale), [])
            if p.pk != o.pk and not (split_parent[p.pk] & split_parent[o.pk])
        ]
        out[o.pk] = {"unmerged_mergeable_orders": len(partners)}
    return out
