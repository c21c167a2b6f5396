"""Row-lock querysets. Anything that changes an order takes its row lock first, through here."""

from __future__ import annotations

from django.db.models import QuerySet

from oms.orders.models import Order


def orders_for_update(*, pks: list[int]) -> QuerySet[Order]:
    """Lock in primary-key order so two services locking overlapping sets cannot deadlock."""
    return Order.objects.select_for_update().filter(pk__in=pks).order_by("pk")


def order_lock(*, pk: int) -> Order:
    """The order, locked until the end of the caller's transaction."""
    return Order.objects.select_for_update().get(pk=pk)
