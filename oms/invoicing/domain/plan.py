"""Planning blue invoices from an order's lines (L5): one row per line, shipping and discounts by policy, divided
over as many invoices as the per-invoice limits need, every fen accounted for.

Per order line the amount including tax is what the buyer paid for the units they have (the latest figures
after returns): with shipping ``separate`` the goods row takes ``paid − shipping part`` and one shipping row per
invoice gathers the shipping parts; with shipping ``folded`` the goods row takes ``paid``. With discounts
``lines`` a line paid below its list value (unit price × units) prints the list value and a discount row (折扣行)
of the difference right under it; with ``net`` it prints what was paid. A ``net`` row of 0 is left out (there
is no money to invoice); a gift under ``lines`` prints its value and a discount row of all of it.

Limits per invoice: at most ``max_lines`` rows (a goods row and its discount row stay together), at most
``max_amount_minor`` including tax (单张开票限额; kept on the amount including tax, which is stricter than the
authority's limit on the amount excluding tax), and the tax authority's 1.27 yuan on the rows' summed tax
differences. A line worth more than the amount limit is divided by quantity into parts of as many units as fit,
its money divided by `apportion` so the parts add up exactly; a single unit above the limit is refused.
Packing is greedy in line order, so the same order always gives the same invoices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from oms.core.domain.money import apportion
from oms.core.errors import ValidationFailed
from oms.invoicing.domain.rows import (
    GOODS,
    ROW_DISCOUNT,
    ROW_GOODS,
    ROW_SHIPPING,
    SHIPPING,
    Document,
    Item,
    Row,
    Share,
)
from oms.invoicing.domain.taxes import INVOICE_TOLERANCE, tax_split

SHIPPING_SEPARATE = "separate"
SHIPPING_FOLDED = "folded"
DISCOUNT_LINES = "lines"
DISCOUNT_NET = "net"
MAX_LINES_LIMIT = 2000


@dataclass(frozen=True)
class SourceLine:
    """An order line as the invoice sees it: its item, the units the buyer has, the list unit price, and what
    was paid for those units including the shipping part (all fen, including tax)."""

    key: int
    item: Item
    quantity: int
    unit_price_minor: int
    paid_minor: int
    shipping_minor: int = 0


@dataclass(frozen=True)
class Policy:
    shipping: str = SHIPPING_SEPARATE
    discounts: str = DISCOUNT_NET
    shipping_item: Item | None = None
    max_lines: int = 200
    max_amount_minor: int | None = None

    def __post_init__(self) -> None:
        if self.shipping not in (SHIPPING_SEPARATE, SHIPPING_FOLDED):
            raise ValidationFailed("shipping: one of separate, folded.", code="choice", extra={"field": "shipping"})
        if self.discounts not in (DISCOUNT_LINES, DISCOUNT_NET):
            raise ValidationFailed("discounts: one of lines, net.", code="choice", extra={"field": "discounts"})
        if not 2 <= self.max_lines <= MAX_LINES_LIMIT:
            raise ValidationFailed(
                f"max_lines: between 2 and {MAX_LINES_LIMIT}.", code="out_of_range", extra={"field": "max_lines"}
            )
        if self.max_amount_minor is not None and self.max_amount_minor <= 0:
            raise ValidationFailed("max_amount: above 0.", code="out_of_range", extra={"field": "max_amount"})


def row_make(kind: str, item: Item, quantity: int, amount_minor: int, shares: tuple[Share, ...]) -> Row:
    split = tax_split(amount_minor, item.rate)
    return Row(kind, item, quantity, amount_minor, split.excl_minor, split.tax_minor, shares)


def _check(line: SourceLine) -> None:
    if line.quantity <= 0 or line.unit_price_minor < 0 or line.paid_minor < 0:
        raise ValidationFailed(f"Line {line.key}: quantity, price and paid must be positive.", code="bad_lines")
    if not 0 <= line.shipping_minor <= line.paid_minor:
        raise ValidationFailed(f"Line {line.key}: the shipping part is within what was paid.", code="bad_lines")


def _parts(line: SourceLine, amount: int, limit: int | None) -> list[tuple[int, int]]:
    """(units, amount) of each part of a goods amount: one part, or parts of ``k`` units each (the last takes the
    rest) where k units' exact share fits the limit, so its apportioned share (the exact share rounded up at
    most) does too."""
    if limit is None or amount <= limit:
        return [(line.quantity, amount)]
    per_part = limit * line.quantity // amount
    if per_part == 0:
        raise ValidationFailed(
            f"Line {line.key}: one unit costs more than the per-invoice limit.",
            code="line_over_limit",
            extra={"field": f"lines[{line.key}]"},
        )
    units = [per_part] * (line.quantity // per_part)
    if line.quantity % per_part:
        units.append(line.quantity % per_part)
    return list(zip(units, apportion(amount, units), strict=True))


def _goods_units(line: SourceLine, policy: Policy) -> list[tuple[Row, ...]]:
    """The line's goods rows, each with its discount row when it has one, one tuple per part."""
    goods = line.paid_minor - (line.shipping_minor if policy.shipping == SHIPPING_SEPARATE else 0)
    units: list[tuple[Row, ...]] = []
    for part, (quantity, amount) in enumerate(_parts(line, goods, policy.max_amount_minor), start=1):
        listed = max(line.unit_price_minor * quantity, amount) if policy.discounts == DISCOUNT_LINES else amount
        if listed == 0:
            continue
        rows = [row_make(ROW_GOODS, line.item, quantity, listed, (Share(line.key, GOODS, part, listed, quantity),))]
        if listed > amount:
            discount = amount - listed
            rows.append(row_make(ROW_DISCOUNT, line.item, 0, discount, (Share(line.key, GOODS, part, discount),)))
        units.append(tuple(rows))
    return units


def _shipping_row(lines: Sequence[SourceLine], policy: Policy) -> Row | None:
    shares = tuple(Share(ln.key, SHIPPING, 1, ln.shipping_minor) for ln in lines if ln.shipping_minor)
    if policy.shipping != SHIPPING_SEPARATE or not shares:
        return None
    if policy.shipping_item is None:
        raise ValidationFailed(
            "Shipping is invoiced as its own line, but no shipping item (name, tax code, rate) is set.",
            code="shipping_item_missing",
            extra={"field": "shipping_item"},
        )
    total = sum(s.amount_minor for s in shares)
    if policy.max_amount_minor is not None and total > policy.max_amount_minor:
        raise ValidationFailed(
            "The shipping is above the per-invoice limit.", code="line_over_limit", extra={"field": "shipping"}
        )
    return row_make(ROW_SHIPPING, policy.shipping_item, 0, total, shares)


def pack(units: Sequence[tuple[Row, ...]], policy: Policy, *, against: int | None = None) -> list[Document]:
    """Greedy, in order: a unit (rows that stay together) starts a new document when it would take the current
    one past the line limit, the amount limit or the tax authority's 1.27 yuan of summed tax differences."""
    documents: list[Document] = []
    current: list[Row] = []
    for unit in units:
        if current and (
            len(current) + len(unit) > policy.max_lines
            or (
                policy.max_amount_minor is not None
                and sum(r.amount_minor for r in (*current, *unit)) > policy.max_amount_minor
            )
            or sum(r.difference for r in (*current, *unit)) > INVOICE_TOLERANCE
        ):
            documents.append(Document(tuple(current), against))
            current = []
        current.extend(unit)
    if current:
        documents.append(Document(tuple(current), against))
    return documents


def plan_blue(lines: Sequence[SourceLine], policy: Policy) -> list[Document]:
    """The blue invoices for ``lines``: every line's paid amount lands on exactly its rows, to the fen."""
    for line in lines:
        _check(line)
    units: list[tuple[Row, ...]] = [unit for line in lines for unit in _goods_units(line, policy)]
    shipping = _shipping_row(lines, policy)
    if shipping is not None:
        units.append((shipping,))
    return pack(units, policy)
