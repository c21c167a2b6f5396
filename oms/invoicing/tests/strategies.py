"""Hypothesis strategies for invoicing's domain tests: orders' lines as invoices see them, and policies."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from oms.invoicing.domain.plan import DISCOUNT_LINES, DISCOUNT_NET, SHIPPING_FOLDED, SHIPPING_SEPARATE, Policy
from oms.invoicing.domain.rows import Item
from oms.invoicing.domain.taxes import RATE_CODES, TaxRate

SHIPPING_ITEM = Item("*运输服务*国内运输费", "3010101020203000000", TaxRate("9"), "次")


def item(rate: str) -> Item:
    return Item(f"*日用杂品*商品{rate}", "1060512990000000000", TaxRate(rate), "件")


@st.composite
def source_lines(draw: Any, *, max_lines: int = 50, max_price: int = 10**6) -> list[Any]:
    from oms.invoicing.domain.plan import SourceLine

    lines = []
    for key in range(1, draw(st.integers(min_value=1, max_value=max_lines)) + 1):
        quantity = draw(st.integers(min_value=1, max_value=30))
        unit = draw(st.integers(min_value=0, max_value=max_price))
        gross = unit * quantity
        # Paid is mostly at or under the list value (discounts), sometimes above it (a gift charged after a
        # return), sometimes a single fen.
        paid_goods = draw(
            st.one_of(st.integers(min_value=0, max_value=gross), st.integers(min_value=0, max_value=gross + 5000))
        )
        shipping = draw(st.one_of(st.just(0), st.integers(min_value=0, max_value=2000)))
        rate = draw(st.sampled_from(RATE_CODES))
        lines.append(SourceLine(key, item(rate), quantity, unit, paid_goods + shipping, shipping))
    return lines


@st.composite
def policies(draw: Any) -> Policy:
    limit = draw(st.one_of(st.none(), st.integers(min_value=10**6, max_value=10**8)))
    return Policy(
        shipping=draw(st.sampled_from([SHIPPING_SEPARATE, SHIPPING_FOLDED])),
        discounts=draw(st.sampled_from([DISCOUNT_LINES, DISCOUNT_NET])),
        shipping_item=SHIPPING_ITEM,
        max_lines=draw(st.integers(min_value=2, max_value=60)),
        max_amount_minor=limit,
    )
