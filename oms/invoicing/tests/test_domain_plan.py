"""Blue invoices from order lines (L5): every line's paid amount exactly on its rows, limits and tolerances kept."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.core.errors import ValidationFailed
from oms.invoicing.domain.plan import (
    DISCOUNT_LINES,
    DISCOUNT_NET,
    SHIPPING_FOLDED,
    SHIPPING_SEPARATE,
    Policy,
    SourceLine,
    plan_blue,
)
from oms.invoicing.domain.rows import GOODS, ROW_DISCOUNT, ROW_GOODS, SHIPPING, invoiced_per_line, rows_of
from oms.invoicing.domain.taxes import INVOICE_TOLERANCE, LINE_TOLERANCE, TaxRate
from oms.invoicing.tests.strategies import SHIPPING_ITEM, item, policies, source_lines


def expected(lines: list[SourceLine], policy: Policy) -> dict[tuple[int, str], int]:
    out: dict[tuple[int, str], int] = {}
    for ln in lines:
        separate = policy.shipping == SHIPPING_SEPARATE
        out[(ln.key, GOODS)] = ln.paid_minor - (ln.shipping_minor if separate else 0)
        out[(ln.key, SHIPPING)] = ln.shipping_minor if separate else 0
    return out


def check_documents(documents: list[Any], policy: Policy) -> None:
    for doc in documents:
        assert 1 <= len(doc.rows) <= policy.max_lines
        if policy.max_amount_minor is not None:
            assert doc.amount_minor <= policy.max_amount_minor
        assert doc.difference <= INVOICE_TOLERANCE
        assert doc.amount_minor == doc.excl_minor + doc.tax_minor
        for row in doc.rows:
            assert row.excl_minor + row.tax_minor == row.amount_minor
            assert sum(s.amount_minor for s in row.shares) == row.amount_minor
            assert row.difference <= LINE_TOLERANCE
            if row.item.rate.bp == 0:
                assert row.tax_minor == 0


@settings(max_examples=150)
@given(lines=source_lines(), policy=policies())
def test_invoice_lines_carry_exactly_what_each_line_paid(lines: list[SourceLine], policy: Policy) -> None:
    documents = plan_blue(lines, policy)
    got = invoiced_per_line(rows_of(documents))
    want = expected(lines, policy)
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in want.items() if v}
    check_documents(documents, policy)
    # Each piece of money (line, component, part) is on exactly one row of one invoice (discount rows go with
    # their goods row); the plan is deterministic.
    pieces = Counter(
        (s.key, s.component, s.part) for r in rows_of(documents) if r.kind != ROW_DISCOUNT for s in r.shares
    )
    assert set(pieces.values()) <= {1}
    for doc in documents:
        for i, row in enumerate(doc.rows):
            if row.kind == ROW_DISCOUNT:
                assert doc.rows[i - 1].kind == ROW_GOODS and doc.rows[i - 1].shares[0].key == row.shares[0].key
                assert row.amount_minor < 0 < doc.rows[i - 1].amount_minor
    assert plan_blue(lines, policy) == documents


@given(lines=source_lines(max_lines=8), data=st.data())
def test_units_on_goods_rows_are_the_units_the_buyer_has(lines: list[SourceLine], data: Any) -> None:
    policy = Policy(discounts=DISCOUNT_LINES, shipping_item=SHIPPING_ITEM, max_amount_minor=10**6)
    units: Counter[int] = Counter()
    for row in rows_of(plan_blue(lines, policy)):
        if row.kind == ROW_GOODS:
            units[row.shares[0].key] += row.quantity
    assert all(
        units[ln.key] == ln.quantity
        for ln in lines
        if ln.unit_price_minor * ln.quantity or ln.paid_minor - ln.shipping_minor
    )


def test_a_thousand_line_order_is_split_over_invoices_exactly() -> None:
    lines = [
        SourceLine(k, item(("13", "9", "6", "0", "exempt")[k % 5]), 3, 1999 + k, 3 * (1999 + k) - 7, 7)
        for k in range(1, 1001)
    ]
    policy = Policy(shipping_item=SHIPPING_ITEM, max_lines=100)
    documents = plan_blue(lines, policy)
    assert len(documents) == 11  # 1,000 goods rows and 1 shipping row, 100 a document
    assert sum(d.amount_minor for d in documents) == sum(ln.paid_minor for ln in lines)
    assert invoiced_per_line(rows_of(documents))[(1000, GOODS)] == 3 * 2999 - 7 - 7
    check_documents(documents, policy)


def test_a_line_above_the_amount_limit_is_divided_by_quantity_into_parts_that_fit() -> None:
    line = SourceLine(1, item("13"), 10, 300_000, 2_999_999, 0)  # 10 × 3,000.00, paid 29,999.99
    policy = Policy(max_amount_minor=1_000_000, discounts=DISCOUNT_LINES)
    documents = plan_blue([line], policy)
    # apportion by units: the fen short of 30,000.00 falls where the remainder is smallest
    assert [d.amount_minor for d in documents] == [900_000, 900_000, 899_999, 300_000]
    assert [r.quantity for d in documents for r in d.rows if r.kind == ROW_GOODS] == [3, 3, 3, 1]
    assert [r.shares[0].part for d in documents for r in d.rows] == [
        1,
        2,
        3,
        3,
        4,
    ]  # only the part a fen short has a discount row
    with pytest.raises(ValidationFailed) as err:
        plan_blue([SourceLine(7, item("13"), 1, 2_000_000, 2_000_000)], policy)
    assert err.value.code == "line_over_limit" and err.value.extra == {"field": "lines[7]"}


def test_edge_lines_one_fen_zero_rate_exempt_gift_and_mixed_rates_on_one_invoice() -> None:
    lines = [
        SourceLine(1, item("13"), 1, 1, 1),  # 0.01
        SourceLine(2, item("0"), 2, 500, 1000),
        SourceLine(3, item("exempt"), 1, 800, 800),
        SourceLine(4, item("9"), 1, 1500, 0),  # a gift
        SourceLine(5, item("6"), 4, 2500, 9000, 500),
    ]
    net = plan_blue(lines, Policy(shipping=SHIPPING_FOLDED, discounts=DISCOUNT_NET))
    assert len(net) == 1
    assert [(r.item.rate.code, r.amount_minor, r.excl_minor, r.tax_minor) for r in net[0].rows] == [
        ("13", 1, 1, 0),
        ("0", 1000, 1000, 0),
        ("exempt", 800, 800, 0),
        ("6", 9000, 8491, 509),
    ]
    with_lines = plan_blue(lines, Policy(shipping_item=SHIPPING_ITEM, discounts=DISCOUNT_LINES))
    kinds = [(r.kind, r.amount_minor) for r in with_lines[0].rows]
    assert kinds == [
        ("goods", 1),
        ("goods", 1000),
        ("goods", 800),
        ("goods", 1500),
        ("discount", -1500),
        ("goods", 10000),
        ("discount", -1500),
        ("shipping", 500),
    ]
    assert with_lines[0].amount_minor == 1 + 1000 + 800 + 0 + 9000


def test_shipping_as_its_own_line_needs_its_item() -> None:
    with pytest.raises(ValidationFailed) as err:
        plan_blue([SourceLine(1, item("13"), 1, 1000, 1100, 100)], Policy())
    assert err.value.extra == {"field": "shipping_item"}
    assert plan_blue([SourceLine(1, item("13"), 1, 1000, 1000, 0)], Policy())[0].amount_minor == 1000


def test_bad_policies_name_their_field() -> None:
    for kwargs, field in (
        ({"shipping": "x"}, "shipping"),
        ({"discounts": "x"}, "discounts"),
        ({"max_lines": 1}, "max_lines"),
        ({"max_amount_minor": 0}, "max_amount"),
    ):
        with pytest.raises(ValidationFailed) as err:
            Policy(**kwargs)
        assert err.value.extra == {"field": field}
    assert TaxRate("13").bp == 1300


@settings(max_examples=80)
@given(lines=source_lines(max_lines=10), policy=policies(), data=st.data())
def test_split_children_invoiced_per_child_add_up_to_the_original_line(
    lines: list[SourceLine], policy: Policy, data: Any
) -> None:
    """S1 + L5: an order split by quantity (orders' own split) and invoiced per child carries, summed over the
    children's invoices, exactly what each original line paid; merging the children back invoices the same."""
    from oms.orders.domain.split import LineAmounts, split_line_amounts

    children: list[list[SourceLine]] = [[], []]
    for ln in lines:
        amounts = LineAmounts(
            quantity=ln.quantity,
            unit_price_minor=ln.unit_price_minor,
            gross_minor=ln.unit_price_minor * ln.quantity,
            line_discount_minor=max(ln.unit_price_minor * ln.quantity - (ln.paid_minor - ln.shipping_minor), 0),
            order_discount_minor=0,
            shipping_minor=ln.shipping_minor,
            paid_minor=ln.paid_minor,
        )
        if amounts.gross_minor - amounts.line_discount_minor + ln.shipping_minor != ln.paid_minor or ln.quantity < 2:
            children[0].append(ln)  # a charged gift (paid above list) stays whole
            continue
        first = data.draw(st.integers(min_value=1, max_value=ln.quantity - 1))
        for child, part in zip(children, split_line_amounts(amounts, [first, ln.quantity - first]), strict=True):
            child.append(
                SourceLine(ln.key, ln.item, part.quantity, ln.unit_price_minor, part.paid_minor, part.shipping_minor)
            )
    per_child = [invoiced_per_line(rows_of(plan_blue(c, policy))) for c in children]
    total: Counter[tuple[int, str]] = Counter()
    for got in per_child:
        total.update(got)
    want = expected(lines, policy)
    assert {k: v for k, v in total.items() if v} == {k: v for k, v in want.items() if v}
