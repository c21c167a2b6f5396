"""Dividing order lines between orders (拆单, S1): the money of every line is conserved to the cent.

A line split by quantity is divided with the one `apportion` function, weights = the quantities:

* gross follows the unit price exactly (unit price × part quantity);
* shipping is apportioned first, then what each part pays, capped so no part pays more than its
  goods plus shipping; the part's total discount is what is left, so
  ``paid = gross − line_discount − order_discount + shipping`` holds in every part;
* that discount is divided into the line's own discount (capped by the part's total discount) and
  the order-discount share, which takes the rest.

Every column then sums exactly to the original line's, no amount is negative, and the same input
always gives the same parts. Merging only adds: merged amounts are exact sums.

The whole money of a split, merge or un-merge is planned here: the line amounts (`plan_split`), the
line promotions divided with them (`plan_split_promotions`), and what the buyer paid and was refunded
carried to the new orders by what each is worth (`carried_money`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from oms.core.domain.money import apportion
from oms.core.errors import FieldError, ValidationFailed
from oms.orders.domain.promotions import ORDER_KINDS


@dataclass(frozen=True)
class LineAmounts:
    quantity: int
    unit_price_minor: int
    gross_minor: int
    line_discount_minor: int
    order_discount_minor: int
    shipping_minor: int
    paid_minor: int

    def check(self) -> None:
        assert self.gross_minor == self.unit_price_minor * self.quantity
        assert self.paid_minor == (
            self.gross_minor - self.line_discount_minor - self.order_discount_minor + self.shipping_minor
        )


def split_line_amounts(line: LineAmounts, quantities: Sequence[int]) -> list[LineAmounts]:
    """The line's amounts divided over parts of the given quantities (which add up to the line's)."""
    if sum(quantities) != line.quantity or any(q <= 0 for q in quantities):
        raise ValidationFailed(
            f"Part quantities {list(quantities)} must be positive and add up to the line's {line.quantity}.",
            code="split_quantities",
        )
    gross = [line.unit_price_minor * q for q in quantities]
    shipping = apportion(line.shipping_minor, quantities)
    budget = [g + s for g, s in zip(gross, shipping, strict=True)]
    paid = apportion(line.paid_minor, quantities, caps=budget)
    discount = [b - p for b, p in zip(budget, paid, strict=True)]
    line_discount = apportion(line.line_discount_minor, quantities, caps=discount)
    return [
        LineAmounts(
            quantity=q,
            unit_price_minor=line.unit_price_minor,
            gross_minor=g,
            line_discount_minor=ld,
            order_discount_minor=d - ld,
            shipping_minor=s,
            paid_minor=p,
        )
        for q, g, s, p, d, ld in zip(quantities, gross, shipping, paid, discount, line_discount, strict=True)
    ]


@dataclass(frozen=True)
class PlannedLine:
    source_key: int
    amounts: LineAmounts


def plan_split(lines: Mapping[int, LineAmounts], groups: Sequence[Mapping[int, int]]) -> list[list[PlannedLine]]:
    """Each group (line key → quantity) becomes one new order's lines; every unit of every line must
    land in exactly one group. Refuses, naming each problem, empty groups, unknown lines, quantities
    that are not positive or do not add up, and a 'split' into a single group."""
    errors: list[FieldError] = []
    if len(groups) < 2:
        errors.append(FieldError("groups", "A split needs at least two groups.", "too_few_groups"))
    for g, group in enumerate(groups):
        if not group:
            errors.append(FieldError(f"groups[{g}]", "A group must take at least one unit.", "empty_group"))
        for key, qty in group.items():
            if key not in lines:
                errors.append(FieldError(f"groups[{g}].{key}", "Not a line of this order.", "unknown_line"))
            elif not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
                errors.append(
                    FieldError(f"groups[{g}].{key}", "Quantity must be a positive whole number.", "min_value")
                )
    for key, line in lines.items():
        placed = sum(group.get(key, 0) for group in groups if isinstance(group.get(key, 0), int))
        if placed != line.quantity:
            errors.append(
                FieldError(
                    f"lines.{key}",
                    f"The groups take {placed} of this line's {line.quantity} units; every unit must go somewhere.",
                    "quantities_do_not_add_up",
                )
            )
    if errors:
        raise ValidationFailed(f"The split plan is invalid ({len(errors)} problem(s)).", details=errors)

    planned: list[list[PlannedLine]] = [[] for _ in groups]
    for key, line in lines.items():
        holders = [g for g, group in enumerate(groups) if key in group]
        parts = split_line_amounts(line, [groups[g][key] for g in holders])
        for g, part in zip(holders, parts, strict=True):
            planned[g].append(PlannedLine(source_key=key, amounts=part))
    return planned


def sum_amounts(lines: Sequence[LineAmounts]) -> dict[str, int]:
    """Order-level totals: always the sums of the lines (merged orders included)."""
    return {
        "goods_minor": sum(x.gross_minor for x in lines),
        "line_discount_minor": sum(x.line_discount_minor for x in lines),
        "order_discount_minor": sum(x.order_discount_minor for x in lines),
        "shipping_minor": sum(x.shipping_minor for x in lines),
        "payable_minor": sum(x.paid_minor for x in lines),
    }


def _is_order_share(promo: Mapping[str, object]) -> bool:
    """A line's share of one of the order's promotions of an order kind (满减, 满折, coupons): part of the line's
    order discount, not of its own line discount."""
    return "rule" in promo and promo.get("kind") in ORDER_KINDS


def split_promotions(
    promotions: Sequence[Mapping[str, object]],
    line_discounts: Sequence[int],
    order_discounts: Sequence[int] | None = None,
) -> list[list[dict[str, object]]]:
    """Divide a line's promotions over its parts so each part's promotions add up to its own line
    discount and each promotion's parts add up to the promotion: every amount conserved. A line's shares of
    the order's promotions of an order kind divide with the parts' order discounts instead."""
    parts: list[list[tuple[int, dict[str, object]]]] = [[] for _ in line_discounts]
    for own, room in (
        (False, list(line_discounts)),
        (True, list(order_discounts) if order_discounts is not None else [0] * len(line_discounts)),
    ):
        chosen = [(i, p) for i, p in enumerate(promotions) if _is_order_share(p) == own]
        for n, (index, promo) in enumerate(chosen):
            amount = int(promo.get("amount_minor", 0) or 0)  # type: ignore[call-overload]
            if n == len(chosen) - 1:
                shares = list(room) if sum(room) == amount else apportion(amount, room, caps=room)
            else:
                shares = apportion(amount, room, caps=room) if any(room) else [0] * len(room)
            for p, share in enumerate(shares):
                room[p] -= share
                if share:
                    parts[p].append((index, {**promo, "amount_minor": share}))
    return [[promo for _i, promo in sorted(part, key=lambda x: x[0])] for part in parts]


def plan_split_promotions(
    planned: Sequence[Sequence[PlannedLine]], promotions: Mapping[int, Sequence[Mapping[str, object]]]
) -> dict[tuple[int, int], list[dict[str, object]]]:
    """Each planned part's promotions, keyed (group, source line): a line's promotions divide with its
    parts' line discounts, in group order."""
    groups_of: dict[int, list[int]] = {}
    for g, group in enumerate(planned):
        for part in group:
            groups_of.setdefault(part.source_key, []).append(g)
    out: dict[tuple[int, int], list[dict[str, object]]] = {}
    for key, groups in groups_of.items():
        parts = [next(p.amounts for p in planned[g] if p.source_key == key) for g in groups]
        divided = split_promotions(
            promotions.get(key, []), [a.line_discount_minor for a in parts], [a.order_discount_minor for a in parts]
        )
        for g, share in zip(groups, divided, strict=True):
            out[(g, key)] = share
    return out


@dataclass(frozen=True)
class CarriedMoney:
    received_minor: int
    refunded_minor: int


def carried_money(*, received_minor: int, refunded_minor: int, payables: Sequence[int]) -> list[CarriedMoney]:
    """What the buyer paid (and was refunded) moves with the goods: both are divided by what each new
    order is worth (S1), so the replaced orders' sums and the new orders' sums are equal to the cent."""
    received = apportion(received_minor, payables)
    refunded = apportion(refunded_minor, payables)
    return [CarriedMoney(r, f) for r, f in zip(received, refunded, strict=True)]
