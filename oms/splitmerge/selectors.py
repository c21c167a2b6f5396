"""Reads: an order's lineage both ways (S7), its split/merge status, and merge suggestions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from oms.orders.models import RECEIVER_ADDRESS_FIELDS, Order
from oms.splitmerge.models import REPLACING_KINDS, LineageKind, OrderLineage
from oms.splitmerge.services.children import WORKABLE

MAX_DEPTH = 20


@dataclass
class LineageGraph:
    root: str
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[dict[str, str]] = field(default_factory=list)


SPLIT_MERGE_LABELS = {
    "none": _("Not split or merged"),
    "split_parent": _("Split parent 拆单原单"),
    "split_child": _("Split child 拆单子单"),
    "merged_source": _("Merged source 合单原单"),
    "merge_result": _("Merge result 合单结果"),
}


def split_merge_status(*, order: Order) -> str:
    """none / split parent / split child / merged source / merge result (S7); un-merge reads as split."""
    as_parent = set(OrderLineage.objects.filter(parent=order).values_list("kind", flat=True))
    as_child = set(OrderLineage.objects.filter(child=order).values_list("kind", flat=True))
    if LineageKind.MERGE in as_parent:
        return "merged_source"
    if as_parent & {LineageKind.SPLIT, LineageKind.UNMERGE}:
        return "split_parent"
    if LineageKind.MERGE in as_child:
        return "merge_result"
    if as_child & {LineageKind.SPLIT, LineageKind.UNMERGE}:
        return "split_child"
    return "none"


def order_lineage(*, order: Order) -> LineageGraph:
    """Ancestors and descendants with their statuses: one query per generation, bounded depth."""
    links: dict[int, OrderLineage] = {}
    frontier = {order.pk}
    seen = {order.pk}
    for _generation in range(MAX_DEPTH):
        if not frontier:
            break
        batch = list(
            OrderLineage.objects.filter(Q(parent_id__in=frontier) | Q(child_id__in=frontier)).select_related(
                "parent", "child"
            )
        )
        frontier = set()
        for link in batch:
            links[link.pk] = link
            for o in (link.parent, link.child):
                if o.pk not in seen:
                    seen.add(o.pk)
                    frontier.add(o.pk)
    graph = LineageGraph(root=order.number)
    orders: dict[int, Order] = {order.pk: order}
    for link in links.values():
        orders[link.parent_id] = link.parent
        orders[link.child_id] = link.child
    for o in orders.values():
        graph.nodes[o.number] = {
            "number": o.number,
            "status": o.status,
            "status_label": o.get_status_display(),
            "payable_minor": o.payable_minor,
            "currency": o.currency,
            "current": o.pk == order.pk,
        }
    for link in sorted(links.values(), key=lambda x: (x.at, x.pk)):
        graph.edges.append(
            {
                "parent": link.parent.number,
                "child": link.child.number,
                "kind": link.kind,
                "at": link.at.isoformat(),
                "operator": link.actor_name,
            }
        )
    return graph


def order_is_retired() -> Exists:
    """True for an order (``OuterRef("pk")``) that a split, merge or un-merge replaced."""
    return Exists(OrderLineage.objects.filter(parent_id=OuterRef("pk"), kind__in=REPLACING_KINDS))


def living_descendants(order_ids: Sequence[int]) -> dict[int, list[Order]]:
    """For each replaced order among ``order_ids``: its descendants that nothing replaced (any status),
    in creation order. One query per generation, bounded depth; orders never replaced are left out."""
    children_of: dict[int, list[int]] = defaultdict(list)
    orders: dict[int, Order] = {}
    frontier = set(order_ids)
    seen = set(frontier)
    for _generation in range(MAX_DEPTH):
        if not frontier:
            break
        links = list(
            OrderLineage.objects.filter(parent_id__in=frontier, kind__in=REPLACING_KINDS)
            .select_related("child")
            .order_by("child_id", "id")
        )
        frontier = set()
        for link in links:
            children_of[link.parent_id].append(link.child_id)
            orders[link.child_id] = link.child
            if link.child_id not in seen:
                seen.add(link.child_id)
                frontier.add(link.child_id)
    out: dict[int, list[Order]] = {}
    for pk in order_ids:
        if pk not in children_of:
            continue
        leaves: set[int] = set()
        stack, visited = [pk], {pk}
        while stack:
            node = stack.pop()
            kids = children_of.get(node, [])
            if not kids and node != pk:
                leaves.add(node)
            for kid in kids:
                if kid not in visited:
                    visited.add(kid)
                    stack.append(kid)
        out[pk] = [orders[i] for i in sorted(leaves)]
    return out


# The merge key as columns (see domain.rules.merge_key), plus the presale flag.
MERGE_KEY_COLUMNS = (
    "channel_id",
    "customer_id",
    *RECEIVER_ADDRESS_FIELDS,
    "is_cod",
    "currency",
    "is_presale",
)


def merge_suggestions(
    *, limit_orders: int = 100_000, max_group: int = 10, channel_id: int | None = None
) -> list[list[Order]]:
    """Groups of open, paid orders that share the merge key (channel, buyer, receiver, address, COD,
    currency) and presale flag: what auto-merge would combine, largest groups first. Orders an operator
    split apart are not offered for merging again.

    The database groups (GROUP BY the key, only keys with more than one order); only the orders in
    those groups are then read: two queries, whatever the number of open orders."""
    split_off = OrderLineage.objects.filter(kind__in=[LineageKind.SPLIT, LineageKind.UNMERGE]).values("child_id")
    open_orders = Order.objects.filter(status__in=[s.value for s in WORKABLE], customer__isnull=False).exclude(
        pk__in=split_off
    )
    if channel_id is not None:
        open_orders = open_orders.filter(channel_id=channel_id)
    keys = (
        open_orders.values(*MERGE_KEY_COLUMNS)
        .annotate(n=Count("id"), first=Min("id"))
        .filter(n__gt=1)
        .order_by("-n", "first")[:limit_orders]
    )
    key_rows = list(keys)
    if not key_rows:
        return []
    members: dict[tuple[object, ...], list[Order]] = defaultdict(list)
    wanted = {tuple(row[c] for c in MERGE_KEY_COLUMNS) for row in key_rows}
    customer_ids = {row["customer_id"] for row in key_rows}
    for o in (
        open_orders.filter(customer_id__in=customer_ids)
        .only("pk", "number", "status", "payable_minor", "currency", "receiver_name", "reviewed_at", *MERGE_KEY_COLUMNS)
        .order_by("pk")
    ):
        key = tuple(getattr(o, c) for c in MERGE_KEY_COLUMNS)
        if key in wanted:
            members[key].append(o)
    return [members[tuple(row[c] for c in MERGE_KEY_COLUMNS)][:max_group] for row in key_rows]


def order_merge_candidates(*, order: Order, limit: int = 9) -> list[Order]:
    """Other open, paid orders this order could merge with (same merge key and presale flag), oldest first:
    what the order page offers to merge with it. None once the order is not workable or has no buyer."""
    if order.status not in [s.value for s in WORKABLE] or order.customer_id is None:
        return []
    split_off = OrderLineage.objects.filter(kind__in=[LineageKind.SPLIT, LineageKind.UNMERGE]).values("child_id")
    same_key = {column: getattr(order, column) for column in MERGE_KEY_COLUMNS}
    return list(
        Order.objects.filter(status__in=[s.value for s in WORKABLE], **same_key)
        .exclude(pk=order.pk)
        .exclude(pk__in=split_off)
        .only("pk", "number")
        .order_by("pk")[:limit]
    )
