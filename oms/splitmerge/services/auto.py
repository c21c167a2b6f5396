"""Automatic split (by the warehouse plan, presale vs in stock, weight or category) and automatic merge of
mergeable orders."""

from __future__ import annotations

from oms.core.actors import Actor
from oms.core.errors import Conflict, ValidationFailed
from oms.fulfillment.models import AllocationDecision
from oms.orders.models import Order, OrderLine
from oms.review.models import RefundRequest
from oms.splitmerge.domain.strategies import (
    LineFacts,
    split_by_category,
    split_by_lines,
    split_by_presale,
    split_by_weight,
)
from oms.splitmerge.selectors import merge_suggestions
from oms.splitmerge.services.merge import orders_merge
from oms.splitmerge.services.split import order_split

STRATEGIES = ("warehouse", "presale", "weight", "category")


def _facts(order: Order) -> list[LineFacts]:
    return [
        LineFacts(
            line_no=ln.line_no,
            quantity=ln.quantity,
            unit_weight_g=ln.sku.weight_g if ln.sku else 0,
            category=ln.sku.category.code if ln.sku and ln.sku.category else "",
            is_gift=ln.is_gift,
            paid_minor=ln.paid_minor,
            is_presale=ln.is_presale,
        )
        for ln in OrderLine.objects.filter(order=order).select_related("sku__category").order_by("line_no")
    ]


def order_auto_split(*, order: Order, strategy: str, actor: Actor, max_weight_g: int | None = None) -> list[Order]:
    """Split by a strategy: ``warehouse`` executes the plan allocation proposed (pending_split), ``presale``
    separates presale lines from in-stock ones, ``weight`` packs parcels under a weight limit, ``category``
    separates categories. Refused when the strategy leaves the order whole."""
    facts = _facts(order)
    if strategy == "warehouse":
        decision = (
            AllocationDecision.objects.filter(order=order, kind="warehouse", outcome="split").order_by("-id").first()
        )
        if decision is None or not decision.plan:
            raise Conflict(f"Allocation proposed no split for order {order.number}.", code="no_split_plan")
        ids = {ln.pk: ln.line_no for ln in OrderLine.objects.filter(order=order)}
        groups = split_by_lines(facts, [[ids[i] for i in g["line_ids"] if i in ids] for g in decision.plan["groups"]])
    elif strategy == "presale":
        groups = split_by_presale(facts)
    elif strategy == "weight":
        groups = split_by_weight(facts, max_weight_g or 0)
    elif strategy == "category":
        groups = split_by_category(facts)
    else:
        raise ValidationFailed(
            f"Unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}.",
            code="invalid",
            extra={"field": "strategy"},
        )
    if len(groups) < 2:
        raise Conflict(f"The {strategy} strategy keeps order {order.number} whole.", code="nothing_to_split")
    return order_split(order=order, groups=groups, actor=actor, reason=f"auto split: {strategy}")


def orders_auto_merge(*, actor: Actor, max_orders: int = 5) -> list[Order]:
    """Merge every suggested group of orders not yet reviewed and with no open refund request, at most
    ``max_orders`` per merge. Each merge is its own transaction; a group that fails stays as it was."""
    merged: list[Order] = []
    refunding = set(RefundRequest.objects.filter(is_open=True).values_list("order_id", flat=True))
    for group in merge_suggestions(max_group=max_orders):
        eligible = [o for o in group if o.pk not in refunding and o.reviewed_at is None]
        if len(eligible) < 2:
            continue
        try:
            merged.append(orders_merge(numbers=[o.number for o in eligible], actor=actor, reason="auto merge"))
        except (Conflict, ValidationFailed):
            continue
    return merged


def orders_auto_split_pending(*, actor: Actor, limit: int = 200) -> list[Order]:
    """Execute the warehouse plan for orders allocation sent to pending_split (no single warehouse can
    serve them): each becomes one order per warehouse, which allocation then places. Each split is its
    own transaction; an order that cannot be split now stays pending for an operator."""
    children: list[Order] = []
    for order in Order.objects.filter(status="pending_split").order_by("placed_at", "pk")[:limit]:
        try:
            children += order_auto_split(order=order, strategy="warehouse", actor=actor)
        except (Conflict, ValidationFailed):
            continue
    return children
