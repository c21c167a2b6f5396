"""S1: a split conserves every line amount to the cent; no part pays less than nothing."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.core.errors import ValidationFailed
from oms.orders.domain.split import LineAmounts, plan_split, split_line_amounts, sum_amounts

COLUMNS = ("gross_minor", "line_discount_minor", "order_discount_minor", "shipping_minor", "paid_minor")


@st.composite
def lines(draw: Any) -> LineAmounts:
    quantity = draw(st.integers(min_value=1, max_value=200))
    unit = draw(st.integers(min_value=0, max_value=10**7))
    gross = unit * quantity
    shipping = draw(st.integers(min_value=0, max_value=10**5))
    discount = draw(st.integers(min_value=0, max_value=gross + shipping))
    line_discount = draw(st.integers(min_value=0, max_value=min(discount, gross)))
    return LineAmounts(
        quantity=quantity,
        unit_price_minor=unit,
        gross_minor=gross,
        line_discount_minor=line_discount,
        order_discount_minor=discount - line_discount,
        shipping_minor=shipping,
        paid_minor=gross + shipping - discount,
    )


@st.composite
def partitions(draw: Any, total: int) -> list[int]:
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=total - 1), max_size=min(total - 1, 8))))
    bounds = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(bounds)]


@given(data=st.data())
def test_split_line_conserves_every_column_and_keeps_identity(data: Any) -> None:
    line = data.draw(lines())
    quantities = data.draw(partitions(line.quantity)) if line.quantity > 1 else [1]
    parts = split_line_amounts(line, quantities)
    for column in COLUMNS:
        assert sum(getattr(p, column) for p in parts) == getattr(line, column)
    for part, q in zip(parts, quantities, strict=True):
        part.check()
        assert part.quantity == q
        assert all(getattr(part, c) >= 0 for c in COLUMNS)
    assert split_line_amounts(line, quantities) == parts


@given(data=st.data())
def test_plan_split_then_merge_totals_are_the_original(data: Any) -> None:
    order_lines = {i: data.draw(lines()) for i in range(data.draw(st.integers(min_value=1, max_value=6)))}
    group_count = data.draw(st.integers(min_value=2, max_value=4))
    # Each line's parts go to distinct groups; parts beyond the group count join the first group.
    groups: list[dict[int, int]] = [{} for _ in range(group_count)]
    for key, line in order_lines.items():
        parts = data.draw(partitions(line.quantity)) if line.quantity > 1 else [1]
        for index, q in enumerate(parts[:group_count]):
            groups[index][key] = q
        for q in parts[group_count:]:
            groups[0][key] += q
    if any(not g for g in groups):
        return
    planned = plan_split(order_lines, groups)
    merged = [p.amounts for group in planned for p in group]
    assert sum_amounts(merged) == sum_amounts(list(order_lines.values()))
    for key, line in order_lines.items():
        assert sum(p.amounts.quantity for group in planned for p in group if p.source_key == key) == line.quantity


def _line(quantity: int = 5, unit: int = 1000) -> LineAmounts:
    return LineAmounts(quantity, unit, unit * quantity, 300, 200, 100, unit * quantity - 400)


def test_two_of_five_units_example() -> None:
    parts = split_line_amounts(_line(), [2, 3])
    assert [p.gross_minor for p in parts] == [2000, 3000]
    assert [p.shipping_minor for p in parts] == [40, 60]
    assert [p.paid_minor for p in parts] == [1840, 2760]
    assert sum(p.line_discount_minor for p in parts) == 300


def test_nearly_free_line_never_goes_negative() -> None:
    line = LineAmounts(3, 1, 3, 2, 1, 0, 0)
    for part in split_line_amounts(line, [1, 1, 1]):
        part.check()
        assert part.paid_minor == 0
        assert part.line_discount_minor >= 0
        assert part.order_discount_minor >= 0


def test_bad_plans_are_refused_with_every_problem() -> None:
    lines_ = {1: _line(5), 2: _line(2)}
    with pytest.raises(ValidationFailed) as err:
        plan_split(lines_, [{1: 2}, {}, {9: 1, 2: 0}])
    codes = {d.code for d in err.value.details}
    assert {"empty_group", "unknown_line", "min_value", "quantities_do_not_add_up"} <= codes
    with pytest.raises(ValidationFailed) as err:
        plan_split(lines_, [{1: 5, 2: 2}])
    assert err.value.details[0].code == "too_few_groups"
