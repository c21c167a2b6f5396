"""What a recalculation needs to know of an order, read through orders' selectors."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from oms.aftersales.domain.recalculate import LineFacts, LineVersion, OrderFacts, Policy
from oms.aftersales.models import ChannelPolicy
from oms.orders.domain.promotions import ORDER_KINDS, Rule, rule_from_dict
from oms.orders.models import Order, OrderLine, Payment
from oms.orders.selectors import order_lines_current


@dataclass(frozen=True)
class OrderView:
    facts: OrderFacts
    lines: list[OrderLine]  # in line_no order: position i is facts.lines[i]


def order_facts(*, order: Order) -> OrderView:
    """The order's lines as bought, its promotions as rules, the unnamed discount beyond them, the money received
    and refunded, and each line's latest figures (after earlier returns)."""
    current = order_lines_current(order=order)
    owed_back = Payment.objects.filter(order=order, kind="payment").aggregate(s=Sum("refund_due_minor"))["s"] or 0
    lines = [row[0] for row in current]
    # Promotions a split or merge carried from a parent were earned on the parent as a whole: what each took off a
    # line stays with that line's units (like the line's own discount) instead of a threshold judged again on a part.
    stored = [p for p in order.promotions or [] if not p.get("carried_from")]
    carried = [p for p in order.promotions or [] if p.get("carried_from")]
    rules: list[Rule] = [rule_from_dict(p) for p in stored]
    item_share = [0] * len(lines)
    carried_share = [0] * len(lines)
    order_total = 0
    for rule, p in zip(rules, stored, strict=True):
        if rule.kind in ORDER_KINDS:
            order_total += int(p.get("amount_minor", 0))
        else:
            for position, amount in (p.get("shares") or {}).items():
                item_share[int(position)] += int(amount)
    for p in carried:
        if p.get("kind") in ORDER_KINDS:
            order_total += int(p.get("amount_minor", 0))
            for position, amount in (p.get("shares") or {}).items():
                carried_share[int(position)] += int(amount)
    facts = OrderFacts(
        lines=tuple(
            LineFacts(ln.unit_price_minor, ln.quantity, ln.line_discount_minor - item + own, ln.shipping_minor)
            for ln, item, own in zip(lines, item_share, carried_share, strict=True)
        ),
        rules=tuple(rules),
        unnamed_discount_minor=order.order_discount_minor - order_total,
        received_minor=order.received_minor,
        # What is already owed back (flagged, not yet refunded) is no longer the buyer's paid money either.
        refunded_minor=order.refunded_minor + owed_back,
        current=tuple(LineVersion(q, paid, ship) for _ln, q, paid, ship in current),
    )
    return OrderView(facts, lines)


def channel_policy(*, channel_id: int) -> Policy:
    row = ChannelPolicy.objects.filter(channel_id=channel_id).first()
    if row is None:
        return Policy()
    return Policy(row.method, row.shipping, row.gift)
