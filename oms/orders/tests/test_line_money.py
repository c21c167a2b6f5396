"""Exact line money (L2): Hypothesis orders of 1–50 lines with random discounts and shipping."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.core.errors import ValidationFailed
from oms.orders.domain.money_plan import LineMoneyIn, StatedTotals, plan_order_money, reconcile_totals


@st.composite
def orders(draw: Any) -> tuple[list[LineMoneyIn], int, int]:
    lines = []
    for _ in range(draw(st.integers(1, 50))):
        price = draw(st.integers(0, 2_000_000))
        qty = draw(st.integers(1, 20))
        discount = draw(st.integers(0, price * qty))
        lines.append(LineMoneyIn(price, qty, discount))
    net = sum(ln.unit_price_minor * ln.quantity - ln.line_discount_minor for ln in lines)
    return lines, draw(st.integers(0, net)), draw(st.integers(0, 100_000))


@given(orders())
def test_line_amounts_add_up_to_the_order_to_the_cent(case: tuple[list[LineMoneyIn], int, int]) -> None:
    lines, order_discount, shipping = case
    plan = plan_order_money(lines, order_discount_minor=order_discount, shipping_minor=shipping)
    assert sum(p.order_discount_minor for p in plan.lines) == order_discount
    assert sum(p.shipping_minor for p in plan.lines) == shipping
    assert sum(p.paid_minor for p in plan.lines) == plan.payable_minor
    assert plan.payable_minor == plan.goods_minor - plan.line_discount_minor - order_discount + shipping
    for ln, p in zip(lines, plan.lines, strict=True):
        assert p.gross_minor == ln.unit_price_minor * ln.quantity
        assert p.paid_minor == p.gross_minor - p.line_discount_minor - p.order_discount_minor + p.shipping_minor
        assert p.paid_minor >= 0
    # Deterministic: the same order always splits the same way.
    assert plan_order_money(lines, order_discount_minor=order_discount, shipping_minor=shipping) == plan


@given(orders())
def test_each_share_is_within_one_cent_of_its_exact_share(case: tuple[list[LineMoneyIn], int, int]) -> None:
    lines, order_discount, shipping = case
    plan = plan_order_money(lines, order_discount_minor=order_discount, shipping_minor=shipping)
    nets = [ln.unit_price_minor * ln.quantity - ln.line_discount_minor for ln in lines]
    total = sum(nets)
    for net, p in zip(nets, plan.lines, strict=True):
        if total:
            assert abs(p.order_discount_minor * total - order_discount * net) < total
            assert abs(p.shipping_minor * total - shipping * net) < total


def test_residue_goes_to_the_largest_remainder_then_the_earlier_line() -> None:
    # 10.00 over three equal lines: 3.34, 3.33, 3.33 — the 尾差 cent lands on the first line.
    lines = [LineMoneyIn(1000, 1, 0)] * 3
    plan = plan_order_money(lines, order_discount_minor=1000, shipping_minor=0)
    assert [p.order_discount_minor for p in plan.lines] == [334, 333, 333]


def test_gift_line_at_zero_takes_no_discount_or_shipping() -> None:
    plan = plan_order_money(
        [LineMoneyIn(5000, 1, 0), LineMoneyIn(0, 1, 0)], order_discount_minor=500, shipping_minor=600
    )
    assert [(p.order_discount_minor, p.shipping_minor, p.paid_minor) for p in plan.lines] == [
        (500, 600, 5100),
        (0, 0, 0),
    ]


def test_discount_larger_than_the_goods_is_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        plan_order_money([LineMoneyIn(100, 1, 200)], order_discount_minor=50, shipping_minor=0)
    assert {d.field for d in info.value.details} == {"lines[0].line_discount", "order_discount"}


def test_reconcile_names_each_differing_amount() -> None:
    plan = plan_order_money([LineMoneyIn(1000, 2, 100)], order_discount_minor=100, shipping_minor=500)
    errors = reconcile_totals(
        plan, StatedTotals(goods_minor=2000, line_discount_minor=0, payable_minor=2200, shipping_minor=500), "CNY"
    )
    assert [(e.field, e.code) for e in errors] == [
        ("totals.line_discount", "totals_mismatch"),
        ("totals.payable", "totals_mismatch"),
    ]
    assert "23.00" in errors[1].message and "22.00" in errors[1].message


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders())
def test_persisted_orders_add_up_exactly(
    tmall: Any, skus: Any, admin_operator: Any, case: tuple[list[LineMoneyIn], int, int]
) -> None:
    """Through the real intake and database: stored line amounts sum to the stored order amounts."""
    from oms.core.domain.money import format_minor
    from oms.orders.models import OrderLine
    from oms.orders.services.intake import order_intake
    from oms.testing.orders import order_payload

    lines, order_discount, shipping = case
    payload = order_payload(
        order_discount=format_minor(order_discount, "CNY"),
        shipping=format_minor(shipping, "CNY"),
        lines=[
            {
                "sku_code": "TEA-001",
                "quantity": ln.quantity,
                "unit_price": format_minor(ln.unit_price_minor, "CNY"),
                "line_discount": format_minor(ln.line_discount_minor, "CNY"),
            }
            for ln in lines
        ],
    )
    order = order_intake(payload=payload, actor=admin_operator).order
    assert order is not None
    stored = list(OrderLine.objects.filter(order=order).order_by("line_no"))
    assert sum(s.paid_minor for s in stored) == order.payable_minor == order.received_minor
    assert sum(s.order_discount_minor for s in stored) == order.order_discount_minor == order_discount
    assert sum(s.shipping_minor for s in stored) == order.shipping_minor == shipping
    expected = plan_order_money(lines, order_discount_minor=order_discount, shipping_minor=shipping)
    assert [s.paid_minor for s in stored] == [p.paid_minor for p in expected.lines]
