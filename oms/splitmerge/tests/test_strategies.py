from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from oms.splitmerge.domain.strategies import (
    LineFacts,
    split_by_category,
    split_by_lines,
    split_by_presale,
    split_by_weight,
)


@st.composite
def order_lines(draw: Any) -> list[LineFacts]:
    n = draw(st.integers(min_value=1, max_value=8))
    return [
        LineFacts(
            line_no=i + 1,
            quantity=draw(st.integers(min_value=1, max_value=6)),
            unit_weight_g=draw(st.integers(min_value=0, max_value=8000)),
            category=draw(st.sampled_from(["FOOD", "HOME", "BEAUTY"])),
            is_gift=draw(st.booleans()) if i else False,
            paid_minor=draw(st.integers(min_value=0, max_value=10**6)),
            is_presale=draw(st.booleans()),
        )
        for i in range(n)
    ]


def _covers_exactly(groups: list[dict[int, int]], lines: list[LineFacts]) -> None:
    for ln in lines:
        assert sum(g.get(ln.line_no, 0) for g in groups) == ln.quantity
    assert all(groups)


def _no_gift_only(groups: list[dict[int, int]], lines: list[LineFacts]) -> None:
    gift = {ln.line_no for ln in lines if ln.is_gift}
    assert all(set(g) - gift for g in groups)


@given(lines=order_lines(), limit=st.integers(min_value=500, max_value=20_000))
def test_weight_split_covers_every_unit_and_respects_the_limit(lines: list[LineFacts], limit: int) -> None:
    groups = split_by_weight(lines, limit)
    _covers_exactly(groups, lines)
    _no_gift_only(groups, lines)
    weights = {ln.line_no: ln.unit_weight_g for ln in lines if not ln.is_gift}
    for g in groups:
        goods = {no: q for no, q in g.items() if no in weights}
        load = sum(weights[no] * q for no, q in goods.items())
        assert load <= limit or sum(goods.values()) == 1


@given(lines=order_lines())
def test_category_split_separates_categories_and_keeps_gifts_with_goods(lines: list[LineFacts]) -> None:
    groups = split_by_category(lines)
    _covers_exactly(groups, lines)
    _no_gift_only(groups, lines)
    cats = {ln.line_no: ln.category for ln in lines if not ln.is_gift}
    for g in groups:
        assert len({cats[no] for no in g if no in cats}) == 1


def test_warehouse_plan_by_lines_puts_gifts_with_the_biggest_group() -> None:
    lines = [
        LineFacts(1, 2, 100, "A", False, 5000),
        LineFacts(2, 1, 100, "A", False, 100),
        LineFacts(3, 1, 50, "G", True, 0),
    ]
    assert split_by_lines(lines, [[1], [2, 3]]) == [{1: 2, 3: 1}, {2: 1}]


@given(lines=order_lines())
def test_presale_split_keeps_presale_apart_from_in_stock_and_gifts_with_goods(lines: list[LineFacts]) -> None:
    groups = split_by_presale(lines)
    _covers_exactly(groups, lines)
    _no_gift_only(groups, lines)
    kind = {ln.line_no: ln.is_presale for ln in lines if not ln.is_gift}
    for g in groups:
        assert len({kind[no] for no in g if no in kind}) == 1
        # Whole lines only: a line (a bundle's line too) is never divided.
        assert all(q == next(ln.quantity for ln in lines if ln.line_no == no) for no, q in g.items())
    assert len(groups) == len(set(kind.values()))


def test_presale_split_puts_gifts_with_the_larger_group() -> None:
    lines = [
        LineFacts(1, 1, 100, "A", False, 900, is_presale=True),
        LineFacts(2, 2, 100, "A", False, 300),
        LineFacts(3, 1, 50, "G", True, 0, is_presale=True),
    ]
    assert split_by_presale(lines) == [{2: 2}, {1: 1, 3: 1}]
