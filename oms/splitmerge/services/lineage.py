"""Lineage links made outside a split or merge: an after-sales case's exchange or reissue order, linked to the
order it was made for (which lives on), so the lineage graph shows it both ways (S7)."""

from __future__ import annotations

from django.db import transaction

from oms.core.actors import Actor, actor_name, actor_user
from oms.core.errors import ValidationFailed
from oms.orders.models import Order
from oms.splitmerge.models import REPLACING_KINDS, LineageKind, OrderLineage


@transaction.atomic(savepoint=False)
def order_lineage_link(*, parent: Order, child: Order, kind: str, actor: Actor, reason: str) -> OrderLineage:
    """Link ``child`` (an exchange or reissue order) under ``parent``; linking the same pair again returns the
    link. The kinds that retire their parent are made only by split and merge."""
    if kind not in LineageKind.values or kind in REPLACING_KINDS:
        raise ValidationFailed(f"Not an after-sales lineage kind: {kind!r}.", code="bad_lineage_kind")
    link, _created = OrderLineage.objects.get_or_create(
        parent=parent,
        child=child,
        defaults={"kind": kind, "actor": actor_user(actor), "actor_name": actor_name(actor), "reason": reason[:300]},
    )
    return link
