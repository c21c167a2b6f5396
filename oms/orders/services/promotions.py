"""The order's promotions as stored (L1): each rule with what it took off and its share per line.

Orders own the write: intake puts these on the order and its lines when it inserts them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oms.orders.domain.promotions import rule_as_dict

if TYPE_CHECKING:
    from oms.orders.services.intake_prepare import Prepared


def order_promotions_record(p: Prepared) -> list[dict[str, Any]]:
    """The order's promotions as rules, each with its amount, the tier it met and its share per line position."""
    if p.promotions is None:
        return []
    return [
        {
            **rule_as_dict(pr.rule),
            "amount_minor": share.amount_minor,
            "tier": share.tier,
            "shares": {str(i): amount for i, amount in sorted(share.per_line.items())},
        }
        for pr, share in zip(p.command.promotions, p.promotions.rules, strict=True)
    ]


def line_promotion_shares(p: Prepared, position: int) -> list[dict[str, Any]]:
    """What each of the order's promotions took off this line, beside the line's own promotions."""
    if p.promotions is None:
        return []
    out: list[dict[str, Any]] = []
    for k, (pr, share) in enumerate(zip(p.command.promotions, p.promotions.rules, strict=True)):
        amount = share.per_line.get(position)
        if amount is not None:
            out.append(
                {"code": pr.rule.code, "name": pr.rule.name, "kind": pr.rule.kind, "amount_minor": amount, "rule": k}
            )
    return out
