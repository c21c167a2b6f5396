"""What follows a split or merge, once it has committed: the rules run again on new orders that were
not yet reviewed (S6), and every new order is allocated a warehouse and a courier again (S4)."""

from __future__ import annotations

from collections.abc import Sequence

from oms.core.actors import Actor
from oms.fulfillment.services.pipeline import orders_advance
from oms.orders.models import Order
from oms.review.services import orders_review


def children_follow_up(*, children: Sequence[Order], actor: Actor) -> None:
    unreviewed = [c for c in children if c.reviewed_at is None]
    if unreviewed:
        orders_review(orders=unreviewed, actor=actor)
    orders_advance(orders=list(children), actor=actor, buffer_minutes=0)
    for child in children:
        child.refresh_from_db()
