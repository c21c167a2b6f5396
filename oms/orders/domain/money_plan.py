"""Line money for one order (L1, L2): apportion order discount and shipping, reconcile platform totals.

Every amount is an int of minor units. Per line:
    gross = unit_price × quantity
    paid  = gross − line_discount − order_discount_share + shipping_share
The order amounts are the sums of the line amounts, always; `apportion` guarantees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from oms.core.domain.money import apportion, format_minor
from oms.core.errors import FieldError, ValidationFailed


@dataclass(frozen=True)
class LineMoneyIn:
    unit_price_minor: int
    quantity: int
    line_discount_minor: int


@dataclass(frozen=True)
class LineMoney:
    gross_minor: int
    line_discount_minor: int
    order_discount_minor: int
    shipping_minor: int
    paid_minor: int


@dataclass(frozen=True)
class OrderMoney:
    goods_minor: int
    line_discount_minor: int
    order_discount_minor: int
    shipping_minor: int
    payable_minor: int
    lines: tuple[LineMoney, ...]


@dataclass(frozen=True)
class StatedTotals:
    """What the platform says the order adds up to; any of them may be absent."""

    goods_minor: int | None = None
    line_discount_minor: int | None = None
    order_discount_minor: int | None = None
    shipping_minor: int | None = None
    payable_minor: int | None = None


def plan_order_money(
    lines: Sequence[LineMoneyIn],
    *,
    order_discount_minor: int,
    shipping_minor: int,
    promotion_shares: Sequence[int] | None = None,
) -> OrderMoney:
    """Spread the order-level discount and shipping over the lines.

    Both are apportioned by each line's value after its own discount (what the buyer actually pays
    for it), so a gift line at zero takes no discount and no shipping. The residue (尾差) follows
    `apportion`: largest remainder, ties to the earlier line. Refuses a discount larger than the
    goods it discounts, which would make a line's paid amount negative.

    ``promotion_shares`` (per line) are the order promotions' shares, already divided by their rules
    (`plan_promotions`); the unnamed ``order_discount_minor`` is then spread as above, each line capped at
    what the promotions left of it. The order discount is both together.
    """
    if not lines:
        raise ValidationFailed("An order needs at least one line.", details=[FieldError("lines", "empty", "required")])
    errors: list[FieldError] = []
    nets: list[int] = []
    for i, line in enumerate(lines):
        gross = line.unit_price_minor * line.quantity
        if line.line_discount_minor > gross:
            errors.append(
                FieldError(f"lines[{i}].line_discount", "The line discount exceeds the line's value.", "too_large")
            )
        nets.append(max(gross - line.line_discount_minor, 0))
    promoted = list(promotion_shares) if promotion_shares is not None else [0] * len(lines)
    room = [max(net - share, 0) for net, share in zip(nets, promoted, strict=True)]
    if order_discount_minor > sum(room):
        errors.append(FieldError("order_discount", "The order discount exceeds the goods' value.", "too_large"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    if promotion_shares is None:
        discount_shares = apportion(order_discount_minor, nets)
    else:
        unnamed = apportion(order_discount_minor, nets, caps=room)
        discount_shares = [a + b for a, b in zip(unnamed, promoted, strict=True)]
        order_discount_minor += sum(promoted)
    shipping_shares = apportion(shipping_minor, nets)
    planned = tuple(
        LineMoney(
            gross_minor=line.unit_price_minor * line.quantity,
            line_discount_minor=line.line_discount_minor,
            order_discount_minor=d,
            shipping_minor=s,
            paid_minor=net - d + s,
        )
        for line, net, d, s in zip(lines, nets, discount_shares, shipping_shares, strict=True)
    )
    goods = sum(p.gross_minor for p in planned)
    line_discount = sum(p.line_discount_minor for p in planned)
    return OrderMoney(
        goods_minor=goods,
        line_discount_minor=line_discount,
        order_discount_minor=order_discount_minor,
        shipping_minor=shipping_minor,
        payable_minor=sum(p.paid_minor for p in planned),
        lines=planned,
    )


def reconcile_totals(money: OrderMoney, stated: StatedTotals, currency: str) -> list[FieldError]:
    """One error per stated amount that the lines do not add up to, naming both figures."""
    errors: list[FieldError] = []
    for name in ("goods_minor", "line_discount_minor", "order_discount_minor", "shipping_minor", "payable_minor"):
        said = getattr(stated, name)
        computed = getattr(money, name)
        if said is not None and said != computed:
            field = f"totals.{name.removesuffix('_minor')}"
            errors.append(
                FieldError(
                    field,
                    f"The platform states {format_minor(said, currency)} but the lines add up to "
                    f"{format_minor(computed, currency)}.",
                    "totals_mismatch",
                )
            )
    return errors
