"""The one writer of changes to existing orders and lines that are not status changes: short lines,
review marks, the warehouse, courier and tracking number fulfilment decides. Other apps decide; these
functions write (status changes go through `timeline.order_transition` / `orders_transition`).

The caller holds the orders' row locks (`orders.lock_objects`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

from oms.core.bulk import ids_in
from oms.orders.models import Order, OrderLine


def orders_update_grouped(orders: Sequence[Order], fields: Sequence[str]) -> None:
    """Write ``fields`` of many orders with one UPDATE per distinct combination of values (a batch has a
    handful: one per warehouse or courier), far cheaper than a CASE per row."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for order in orders:
        groups[tuple(getattr(order, f) for f in fields)].append(order.pk)
    for values, pks in groups.items():
        Order.objects.filter(ids_in("pk", pks)).update(**dict(zip(fields, values, strict=True)))


def order_lines_mark_short(*, lines: Sequence[OrderLine], short_by_line: Mapping[int, int]) -> set[int]:
    """Lines that could not all be reserved: record how many units each lacks and flag their orders.
    ``lines`` may hold others (left alone). Returns the ids of the orders flagged."""
    shorts = [line for line in lines if line.pk in short_by_line]
    for line in shorts:
        line.short_quantity = short_by_line[line.pk]
    if not shorts:
        return set()
    OrderLine.objects.bulk_update(shorts, ["short_quantity"])
    order_ids = {line.order_id for line in shorts}
    Order.objects.filter(pk__in=order_ids).update(has_short_lines=True)
    return order_ids


def order_lines_short_save(lines: Sequence[OrderLine]) -> None:
    """Write the short quantity the caller set on each line (stock arrived or moved)."""
    if lines:
        OrderLine.objects.bulk_update(lines, ["short_quantity"])


def order_lines_clear_short(*, line_ids: Collection[int], order_ids: Collection[int]) -> None:
    """The lines lack nothing any more (their stockouts ended) and their orders have no short line."""
    OrderLine.objects.filter(pk__in=list(line_ids)).update(short_quantity=0)
    orders_short_clear(order_ids)


def orders_short_clear(order_ids: Collection[int]) -> None:
    Order.objects.filter(pk__in=list(order_ids)).update(has_short_lines=False)


def orders_mark_reviewed(*, orders: Sequence[Order], at: datetime) -> None:
    """The orders passed review at ``at``: one plain UPDATE (they all get the same time)."""
    for order in orders:
        order.reviewed_at = at
        order.updated_at = at
    if orders:
        Order.objects.filter(ids_in("pk", [o.pk for o in orders])).update(reviewed_at=at, updated_at=at)


def order_reviewed_save(order: Order, *, at: datetime) -> None:
    """One order passed review by force (its holds released)."""
    order.reviewed_at = at
    order.save(update_fields=["reviewed_at"])


def order_courier_save(order: Order, *, courier: Any) -> None:
    """The courier an operator chose for the order."""
    order.courier = courier
    order.updated_at = timezone.now()
    order.save(update_fields=["courier", "updated_at"])


def order_tracking_save(order: Order, *, tracking_number: str) -> None:
    """The order's first tracking number (its first parcel's)."""
    order.tracking_number = tracking_number
    order.save(update_fields=["tracking_number"])


def order_warehouse_save(order: Order, *, warehouse: Any, has_short_lines: bool, at: datetime) -> None:
    """The order ships from another warehouse now: its short flag as judged there, and no courier (the
    one chosen for the old warehouse is chosen again)."""
    order.final_warehouse = warehouse
    order.has_short_lines = has_short_lines
    order.courier = None
    order.updated_at = at
    order.save(update_fields=["final_warehouse", "has_short_lines", "courier", "updated_at"])
