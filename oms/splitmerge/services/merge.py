"""Merge (合单) and un-merge (取消合单): several orders of one buyer to one address become one, and back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from oms.core.actors import Actor
from oms.core.db_retry import run_atomic
from oms.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from oms.orders.lock_objects import orders_for_update
from oms.orders.models import Order, OrderLine
from oms.splitmerge.domain.rules import MergeView, invoice_conflict, merge_problems, merged_remark
from oms.splitmerge.models import LineageKind, LineOrigin, OrderLineage
from oms.splitmerge.services.after import children_follow_up
from oms.splitmerge.services.children import ChildLine, ChildSpec, check_workable, line_amounts, replace_orders
from oms.splitmerge.services.split import split_locked


def merge_view(o: Order) -> MergeView:
    return MergeView(
        number=o.number,
        channel_id=o.channel_id,
        customer_id=o.customer_id,
        receiver=o.receiver_address_key(),
        is_cod=o.is_cod,
        is_presale=o.is_presale,
        currency=o.currency,
        invoice=(o.invoice_kind, o.invoice_title, o.invoice_tax_id, o.invoice_email),
        buyer_remark=o.buyer_remark,
        seller_remark=o.seller_remark,
    )


def _lock_by_numbers(numbers: Sequence[str]) -> list[Order]:
    found = {o.number: o.pk for o in Order.objects.filter(number__in=list(numbers)).only("pk", "number")}
    missing = [n for n in numbers if n not in found]
    if missing:
        raise NotFound(f"No such orders: {', '.join(missing)}.", extra={"orders": missing})
    locked = {o.pk: o for o in orders_for_update(pks=sorted(found.values()))}
    return [locked[found[n]] for n in numbers]


@transaction.atomic(savepoint=False)
def merge_locked(*, orders: Sequence[Order], actor: Actor, reason: str, invoice_from: str = "") -> Order:
    problems = merge_problems([merge_view(o) for o in orders])
    if problems:
        raise Conflict(
            "These orders cannot be merged: " + " ".join(problems), code="not_mergeable", extra={"problems": problems}
        )
    check_workable(orders)
    views = [merge_view(o) for o in orders]
    header = orders[0]
    overrides: dict[str, Any] = {}
    if invoice_conflict(views):
        chosen = next((o for o in orders if o.number == invoice_from), None)
        if chosen is None:
            raise Conflict(
                "The orders ask for different invoices; choose which one applies (invoice_from).",
                code="invoice_conflict",
                details=[FieldError("invoice_from", "Name the order whose invoice request applies.", "required")],
                extra={"invoices": {o.number: list(v.invoice) for o, v in zip(orders, views, strict=True)}},
            )
        reason = f"{reason} 发票按 {chosen.number}".strip()
    else:
        chosen = next((o for o in orders if o.invoice_kind != "none"), header)
    overrides.update(
        invoice_kind=chosen.invoice_kind,
        invoice_title=chosen.invoice_title,
        invoice_tax_id=chosen.invoice_tax_id,
        invoice_email=chosen.invoice_email,
        buyer_remark=merged_remark([(o.number, o.buyer_remark) for o in orders]),
        seller_remark=merged_remark([(o.number, o.seller_remark) for o in orders]),
        paid_at=max((o.paid_at for o in orders if o.paid_at), default=None),
        placed_at=min(o.placed_at for o in orders),
        reviewed_at=header.reviewed_at if all(o.reviewed_at for o in orders) else None,
    )
    lines_by_order: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(order__in=orders).order_by("order_id", "line_no"):
        lines_by_order[line.order_id].append(line)
    spec = ChildSpec(
        header_from=header,
        lines=[
            ChildLine(
                source=line,
                amounts=line_amounts(line),
                promotions=list(line.promotions or []),
                origins=[(line, line.quantity)],
            )
            for o in orders
            for line in lines_by_order[o.pk]
        ],
        platform_order_ids=[pid for o in orders for pid in o.platform_order_ids if pid],
        overrides=overrides,
    )
    parents = list(Order.objects.prefetch_related("lines").filter(pk__in=[o.pk for o in orders]).order_by("pk"))
    (merged,) = replace_orders(parents=parents, specs=[spec], kind=LineageKind.MERGE, actor=actor, reason=reason)
    return merged


def orders_merge(*, numbers: Sequence[str], actor: Actor, reason: str = "", invoice_from: str = "") -> Order:
    """Merge orders into one new order; the originals are retired. Refused, with every reason, unless
    they share channel, buyer, receiver and address, COD flag and currency, are all paid and not yet
    with the warehouse, and presale goes only with presale. Conflicting invoice requests need the
    operator to name the order whose request applies (recorded in the reason)."""
    if len(set(numbers)) != len(numbers):
        raise ValidationFailed(
            "An order cannot be merged with itself.", details=[FieldError("orders", "Each order once.", "duplicate")]
        )
    # Re-run whole if PostgreSQL breaks a deadlock: the merged order's reservations span several SKUs.
    merged = run_atomic(
        lambda: merge_locked(orders=_lock_by_numbers(numbers), actor=actor, reason=reason, invoice_from=invoice_from)
    )
    children_follow_up(children=[merged], actor=actor)
    return merged


def order_unmerge(*, order: Order, actor: Actor, reason: str = "") -> list[Order]:
    """Split a merged order back into orders matching the originals' lines, each with its original's
    platform order ids, remarks and invoice request."""
    with transaction.atomic(durable=True):
        (locked,) = orders_for_update(pks=[order.pk])
        links = list(OrderLineage.objects.filter(child=locked, kind=LineageKind.MERGE).select_related("parent"))
        if not links:
            raise Conflict(f"Order {locked.number} is not the result of a merge.", code="not_merged")
        sources = {link.parent_id: link.parent for link in links}
        origin_of = {
            o.line_id: o.source_line
            for o in LineOrigin.objects.filter(line__order=locked).select_related("source_line")
        }
        groups: dict[int, dict[int, int]] = defaultdict(dict)
        for line in OrderLine.objects.filter(order=locked).order_by("line_no"):
            source_order = origin_of[line.pk].order_id
            groups[source_order][line.line_no] = line.quantity
        order_ids = sorted(groups)
        headers = [
            {
                "buyer_remark": sources[i].buyer_remark,
                "seller_remark": sources[i].seller_remark,
                "invoice_kind": sources[i].invoice_kind,
                "invoice_title": sources[i].invoice_title,
                "invoice_tax_id": sources[i].invoice_tax_id,
                "invoice_email": sources[i].invoice_email,
                "paid_at": sources[i].paid_at,
                "placed_at": sources[i].placed_at,
            }
            for i in order_ids
        ]
        children = split_locked(
            order=locked,
            groups=[groups[i] for i in order_ids],
            actor=actor,
            reason=reason,
            kind=LineageKind.UNMERGE,
            headers=headers,
            platform_ids=[list(sources[i].platform_order_ids) for i in order_ids],
        )
    children_follow_up(children=children, actor=actor)
    return children
