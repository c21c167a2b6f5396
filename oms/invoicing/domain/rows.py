"""What an invoice is made of: rows (发票明细行) and the shares of order lines each row carries.

A row is what the invoice prints: an item (name, tax code, unit, rate), a quantity and the amount including
tax with its division into amount and tax. Each row also says whose money it is — its *shares*: a goods row
carries one order line's goods (``component`` "goods"), a discount row (折扣行) that line's discount (negative),
a shipping row the shipping part of every line it gathers (``component`` "shipping"). Summing the shares of
every row ever issued for an order line, blue and red, gives what that line has been invoiced for; the
invariant the rest of this package keeps is that this equals what the buyer paid for the line.

``part`` numbers the pieces of a line divided over several invoices by the per-invoice amount limit; together
with the line and component it names one piece of money, which at most one live blue invoice may hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from oms.invoicing.domain.taxes import TaxRate, tax_difference

GOODS = "goods"
SHIPPING = "shipping"
COMPONENTS = (GOODS, SHIPPING)

ROW_GOODS = "goods"
ROW_DISCOUNT = "discount"
ROW_SHIPPING = "shipping"


@dataclass(frozen=True)
class Item:
    """How a row is named on the invoice: 货物或应税劳务名称 (``*类别简称*名称``), 税收分类编码, unit, rate."""

    name: str
    tax_code: str
    rate: TaxRate
    unit: str = ""


@dataclass(frozen=True)
class Share:
    key: int  # the order line
    component: str  # GOODS or SHIPPING
    part: int  # 1, 2, … when the line is divided over several invoices
    amount_minor: int
    quantity: int = 0


@dataclass(frozen=True)
class Row:
    kind: str  # ROW_GOODS, ROW_DISCOUNT, ROW_SHIPPING
    item: Item
    quantity: int  # negative on a red row that takes units back; 0 on discount and shipping rows
    amount_minor: int  # including tax (价税合计)
    excl_minor: int  # 金额
    tax_minor: int  # 税额
    shares: tuple[Share, ...]

    @property
    def difference(self) -> int:
        """|amount × rate − tax| in 1/10,000 fen (what the tax authority's tolerances bound)."""
        return tax_difference(self.excl_minor, self.tax_minor, self.item.rate)


@dataclass(frozen=True)
class Document:
    """One invoice's rows. Totals are the exact sums of its rows; ``against`` names the blue document a red
    one reverses (its position in the plan's input)."""

    rows: tuple[Row, ...]
    against: int | None = None

    @property
    def amount_minor(self) -> int:
        return sum(r.amount_minor for r in self.rows)

    @property
    def excl_minor(self) -> int:
        return sum(r.excl_minor for r in self.rows)

    @property
    def tax_minor(self) -> int:
        return sum(r.tax_minor for r in self.rows)

    @property
    def difference(self) -> int:
        return sum(r.difference for r in self.rows)


def invoiced_per_line(rows: Iterable[Row]) -> dict[tuple[int, str], int]:
    """(order line, component) → amount including tax carried by ``rows`` (blue positive, red negative)."""
    out: dict[tuple[int, str], int] = {}
    for row in rows:
        for share in row.shares:
            out[(share.key, share.component)] = out.get((share.key, share.component), 0) + share.amount_minor
    return out


def rows_of(documents: Sequence[Document]) -> list[Row]:
    return [row for doc in documents for row in doc.rows]
