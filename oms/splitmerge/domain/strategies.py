"""Automatic split strategies (pure): how an order's lines fall into new orders.

Each strategy returns groups of {line number: quantity} for `plan_split`. Shared rules: a line is
divided only in whole units (a bundle line's unit is the whole bundle, so bundles are never broken),
and gifts never make an order of their own — they go with the largest paid group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from oms.core.errors import ValidationFailed


@dataclass(frozen=True)
class LineFacts:
    line_no: int
    quantity: int
    unit_weight_g: int
    category: str
    is_gift: bool
    paid_minor: int
    is_presale: bool = False


Groups = list[dict[int, int]]


def _attach_gifts(groups: Groups, lines: Sequence[LineFacts]) -> Groups:
    paid = {ln.line_no: ln for ln in lines}
    gifts = [ln for ln in lines if ln.is_gift]
    kept = [g for g in groups if any(not paid[no].is_gift for no in g)]
    if not kept:
        return [{ln.line_no: ln.quantity for ln in lines}]
    target = max(
        range(len(kept)),
        key=lambda i: (sum(paid[no].paid_minor * q // max(paid[no].quantity, 1) for no, q in kept[i].items()), -i),
    )
    for gift in gifts:
        for g in kept:
            g.pop(gift.line_no, None)
        kept[target][gift.line_no] = gift.quantity
    return kept


def split_by_lines(lines: Sequence[LineFacts], line_groups: Sequence[Sequence[int]]) -> Groups:
    """Whole lines into the given groups (the warehouse plan allocation proposed)."""
    by_no = {ln.line_no: ln for ln in lines}
    groups = [{no: by_no[no].quantity for no in group if no in by_no} for group in line_groups]
    return _attach_gifts([g for g in groups if g], lines)


def split_by_category(lines: Sequence[LineFacts]) -> Groups:
    by_cat: dict[str, dict[int, int]] = defaultdict(dict)
    for ln in lines:
        if not ln.is_gift:
            by_cat[ln.category or "-"][ln.line_no] = ln.quantity
    return _attach_gifts([by_cat[c] for c in sorted(by_cat)], lines)


def split_by_presale(lines: Sequence[LineFacts]) -> Groups:
    """Presale lines (预售) apart from in-stock lines (现货), so what is in stock ships now: whole lines,
    in-stock group first. Gifts go with the larger group, as always."""
    in_stock = {ln.line_no: ln.quantity for ln in lines if not ln.is_gift and not ln.is_presale}
    presale = {ln.line_no: ln.quantity for ln in lines if not ln.is_gift and ln.is_presale}
    return _attach_gifts([g for g in (in_stock, presale) if g], lines)


def split_by_weight(lines: Sequence[LineFacts], max_weight_g: int) -> Groups:
    """Packages no heavier than ``max_weight_g``: first fit, heaviest units first. A single unit heavier
    than the limit travels alone (it cannot be divided)."""
    if max_weight_g <= 0:
        raise ValidationFailed("max_weight_g must be positive.", code="min_value", extra={"field": "max_weight_g"})
    units = sorted(
        ((ln.unit_weight_g, ln.line_no) for ln in lines if not ln.is_gift for _ in range(ln.quantity)),
        key=lambda u: (-u[0], u[1]),
    )
    packages: list[tuple[int, dict[int, int]]] = []
    for weight, no in units:
        for index, (load, content) in enumerate(packages):
            if load + weight <= max_weight_g:
                content[no] = content.get(no, 0) + 1
                packages[index] = (load + weight, content)
                break
        else:
            packages.append((weight, {no: 1}))
    return _attach_gifts([content for _load, content in packages], lines)
