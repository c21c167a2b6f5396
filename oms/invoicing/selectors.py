"""Reads: policies, an order's invoices and their chain, what each blue invoice still holds, the queue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, Q, QuerySet

from oms.core.errors import NotFound
from oms.invoicing.domain.plan import DISCOUNT_LINES, SHIPPING_SEPARATE, Policy
from oms.invoicing.domain.rows import Item, Row, Share
from oms.invoicing.domain.taxes import TaxRate
from oms.invoicing.models import ChannelInvoicePolicy, Invoice, InvoiceKind, InvoiceLine, InvoiceShare, InvoiceState
from oms.orders.models import Order
from oms.splitmerge.models import LineageKind, OrderLineage

DEFAULT_POLICY = ChannelInvoicePolicy()


def policy_get(*, channel_id: int) -> ChannelInvoicePolicy:
    """The shop's policy; no row: the defaults (by hand, shipping its own line, net amounts)."""
    return ChannelInvoicePolicy.objects.filter(channel_id=channel_id).first() or ChannelInvoicePolicy(
        channel_id=channel_id
    )


def policy_domain(policy: ChannelInvoicePolicy, *, discounts: str | None = None) -> Policy:
    return Policy(
        shipping=policy.shipping,
        discounts=discounts or policy.discounts,
        shipping_item=Item(policy.shipping_name, policy.shipping_tax_code, TaxRate(policy.shipping_rate), "次"),
        max_lines=policy.max_lines,
        max_amount_minor=policy.max_amount_minor,
    )


def invoice_get(*, number: str) -> Invoice:
    found = Invoice.objects.select_related("order", "against").filter(number=number).first()
    if found is None:
        raise NotFound(f"No invoice {number}.", code="invoice_not_found", extra={"field": "number"})
    return found


def invoice_rows(invoices: Sequence[Invoice]) -> dict[int, list[Row]]:
    """Each invoice's rows as the domain's, with their shares (two queries whatever the count)."""
    lines = list(InvoiceLine.objects.filter(invoice__in=invoices).order_by("invoice_id", "row_no"))
    shares: dict[int, list[Share]] = defaultdict(list)
    for s in InvoiceShare.objects.filter(line__in=lines).order_by("line_id", "id"):
        shares[s.line_id].append(Share(s.order_line_id, s.component, s.part, s.amount_minor, s.quantity))
    out: dict[int, list[Row]] = defaultdict(list)
    for ln in lines:
        item = Item(ln.name, ln.tax_code, TaxRate(ln.rate), ln.unit)
        out[ln.invoice_id].append(
            Row(ln.kind, item, ln.quantity, ln.amount_minor, ln.excl_minor, ln.tax_minor, tuple(shares[ln.pk]))
        )
    return out


def blues_holding(*, order_ids: Iterable[int]) -> list[Invoice]:
    """Blue invoices holding (live) money of these orders' lines, oldest first."""
    ids = InvoiceShare.objects.filter(live=True, order_line__order_id__in=list(order_ids)).values("blue_id")
    return list(Invoice.objects.filter(pk__in=ids, kind=InvoiceKind.BLUE).order_by("created_at", "pk"))


def blue_with_reds_rows(blue: Invoice) -> list[Row]:
    """A blue invoice's rows and every red row against it: what `groups_of` reads."""
    reds = list(Invoice.objects.filter(against=blue))
    rows = invoice_rows([blue, *reds])
    return [*rows.get(blue.pk, []), *(r for red in reds for r in rows.get(red.pk, []))]


# Split, merge and un-merge move the same money between orders; an exchange or reissue order is new money.
SAME_MONEY_KINDS = (LineageKind.SPLIT, LineageKind.MERGE, LineageKind.UNMERGE)


def lineage_relatives(order_ids: Sequence[int]) -> set[int]:
    """The orders these came from and the orders made of them, through split/merge links, transitively (not
    siblings: a split's children hold different parts of the money): money invoiced on any of them is the
    same money."""
    found: set[int] = set()
    for mine, theirs in (("child_id", "parent_id"), ("parent_id", "child_id")):
        frontier = set(order_ids)
        while frontier:
            links = OrderLineage.objects.filter(**{f"{mine}__in": frontier}, kind__in=SAME_MONEY_KINDS)
            step = set(links.values_list(theirs, flat=True)) - found - set(order_ids)
            found |= step
            frontier = step
    return found


def split_family(order: Order) -> tuple[Order, list[Order]] | None:
    """For an order that came out of a split: (the original, its living split children), else None."""
    link = OrderLineage.objects.filter(child=order, kind=LineageKind.SPLIT).select_related("parent").first()
    if link is None:
        return None
    children = Order.objects.filter(
        pk__in=OrderLineage.objects.filter(parent=link.parent, kind=LineageKind.SPLIT).values("child_id")
    ).order_by("pk")
    return link.parent, list(children)


def order_invoices(*, order: Order) -> list[Invoice]:
    """Invoices issued for this order or carrying its lines' money (blue and red), oldest first."""
    ids = InvoiceShare.objects.filter(order_line__order=order).values("line__invoice_id")
    return list(
        Invoice.objects.filter(Q(order=order) | Q(pk__in=ids)).select_related("against").order_by("created_at", "pk")
    )


def invoice_lines(*, invoice: Invoice) -> QuerySet[InvoiceLine]:
    return InvoiceLine.objects.filter(invoice=invoice).order_by("row_no")


def invoice_list(
    *,
    state: str = "",
    kind: str = "",
    channel_id: int | None = None,
    q: str = "",
) -> QuerySet[Invoice]:
    qs = Invoice.objects.select_related("order", "against")
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if channel_id:
        qs = qs.filter(order__channel_id=channel_id)
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(order__number=q) | Q(provider_number=q) | Q(buyer_title__icontains=q))
    return qs.order_by("-created_at", "-id")


def invoice_counts() -> dict[str, int]:
    counts = dict(Invoice.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return {state: counts.get(state, 0) for state in InvoiceState.values}


def uses_discount_lines(policy: ChannelInvoicePolicy) -> bool:
    return policy.discounts == DISCOUNT_LINES


def shipping_separate(policy: ChannelInvoicePolicy) -> bool:
    return policy.shipping == SHIPPING_SEPARATE


def payload_lines(invoice: Invoice) -> list[dict[str, Any]]:
    return [
        {
            "row": ln.row_no,
            "kind": ln.kind,
            "name": ln.name,
            "tax_code": ln.tax_code,
            "unit": ln.unit,
            "rate": ln.rate,
            "quantity": ln.quantity,
            "amount_minor": ln.amount_minor,
            "excl_minor": ln.excl_minor,
            "tax_minor": ln.tax_minor,
        }
        for ln in invoice_lines(invoice=invoice)
    ]
