"""Planning reservations against counters, first come first served, whole bundle units only.

Kept pure so that the rule "never grant more than is free" can be tested (and fuzzed) without a database;
the services lock the counters, call `plan_grants`, and persist exactly what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Key = tuple[int, int]  # (target id: channel or warehouse, sku id)


@dataclass(frozen=True)
class ReserveRequest:
    """One order line (or document line) asking for channel stock. ``sku_id`` may be a bundle (组合装): its
    components are reserved (quantity × component quantity) under the same reference."""

    ref_type: str
    ref_id: int
    channel_id: int
    sku_id: int
    quantity: int


@dataclass(frozen=True)
class LineDemand:
    """One line asking for ``units`` more units of its SKU at ``target_id``.

    ``components`` are (stocked sku id, units per line unit): ``((sku, 1),)`` for a plain SKU, the bundle's
    recipe for a bundle (组合装), which is granted in whole bundle units only.
    """

    target_id: int
    components: tuple[tuple[int, int], ...]
    units: int


def plan_grants(free: Mapping[Key, int], demands: Sequence[LineDemand]) -> list[int]:
    """Line units granted to each demand, in order: each gets as much as is still free, never more."""
    left = dict(free)
    grants: list[int] = []
    for demand in demands:
        can = demand.units
        for sku_id, per_unit in demand.components:
            can = min(can, max(left.get((demand.target_id, sku_id), 0), 0) // per_unit)
        can = max(can, 0)
        for sku_id, per_unit in demand.components:
            key = (demand.target_id, sku_id)
            left[key] = left.get(key, 0) - can * per_unit
        grants.append(can)
    return grants


def bundle_units(held: Mapping[int, int], components: Sequence[tuple[int, int]]) -> int:
    """Whole line units covered by ``held`` (sku id → units): the minimum over components of held // per unit."""
    if not components:
        return 0
    return max(min(held.get(sku_id, 0) // per_unit for sku_id, per_unit in components), 0)


def pushed_figure(*, available: int, safety_stock: int, min_quantity: int, max_quantity: int | None) -> int:
    """The figure pushed to the platform: available less safety stock, capped at the maximum, and 0 (delisted)
    when it falls below the minimum, so a platform never shows stock the channel cannot promise."""
    figure = max(available - safety_stock, 0)
    if max_quantity is not None:
        figure = min(figure, max_quantity)
    if figure < min_quantity:
        return 0
    return figure
