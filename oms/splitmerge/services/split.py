"""Split (拆单): one order becomes two or more, by lines and by quantity (S1–S6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from oms.core.actors import Actor
from oms.core.db_retry import run_atomic
from oms.core.errors import FieldError, ValidationFailed
from oms.orders.domain.split import plan_split, plan_split_promotions
from oms.orders.lock_objects import order_lock
from oms.orders.models import Order, OrderLine
from oms.splitmerge.models import LineageKind
from oms.splitmerge.services.after import children_follow_up
from oms.splitmerge.services.children import ChildLine, ChildSpec, check_workable, line_amounts, replace_orders


@transaction.atomic(savepoint=False)
def split_locked(
    *,
    order: Order,
    groups: Sequence[Mapping[int, int]],
    actor: Actor,
    reason: str,
    kind: str = LineageKind.SPLIT,
    headers: Sequence[Mapping[str, Any]] | None = None,
    platform_ids: Sequence[list[str]] | None = None,
) -> list[Order]:
    """Split a locked order. ``groups`` map line numbers (line_no) to quantities."""
    check_workable([order])
    lines = {line.line_no: line for line in OrderLine.objects.filter(order=order).order_by("line_no")}
    planned = plan_split({no: line_amounts(line) for no, line in lines.items()}, groups)
    gifts_only = [
        FieldError(f"groups[{g}]", "An order cannot hold only gifts; put them with goods.", "gifts_only")
        for g, group in enumerate(groups)
        if group and all(lines[no].is_gift for no in group if no in lines)
    ]
    if gifts_only:
        raise ValidationFailed("A new order would hold only gifts.", details=gifts_only)
    # Promotions divide with the line.
    promos = plan_split_promotions(planned, {no: line.promotions or [] for no, line in lines.items()})
    specs = [
        ChildSpec(
            header_from=order,
            lines=[
                ChildLine(
                    source=lines[p.source_key],
                    amounts=p.amounts,
                    promotions=promos[(g, p.source_key)],
                    origins=[(lines[p.source_key], p.amounts.quantity)],
                )
                for p in group
            ],
            platform_order_ids=list(platform_ids[g]) if platform_ids else list(order.platform_order_ids),
            overrides=dict(headers[g]) if headers else {},
        )
        for g, group in enumerate(planned)
    ]
    parent = Order.objects.prefetch_related("lines").get(pk=order.pk)
    return replace_orders(parents=[parent], specs=specs, kind=kind, actor=actor, reason=reason)


def order_split(*, order: Order, groups: Sequence[Mapping[int, int]], actor: Actor, reason: str = "") -> list[Order]:
    """Split an order into new orders, one per group of {line number: quantity}. The original is
    retired (closed) and kept with its history; money, reservations, remarks, invoice request and
    platform order ids carry over; holds and stockouts are judged again on the new orders."""
    # Re-run whole if PostgreSQL breaks a deadlock: the children's reservations span several SKUs.
    children = run_atomic(
        lambda: split_locked(order=order_lock(pk=order.pk), groups=groups, actor=actor, reason=reason)
    )
    children_follow_up(children=children, actor=actor)
    return children
