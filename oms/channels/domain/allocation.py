"""Channel quota allocation (C1): how a SKU's sellable stock is shared among the channels selling it.

Every quota unit is backed by a unit of a warehouse the channel may sell from, so the quotas of channels
sharing warehouses never add up to more than those warehouses hold, and a reservation within quota can
always be shipped. Channels are served in rule priority order:

1. every channel first keeps what it has already reserved (a quota never drops below it, even when stock
   was lost and the channels are over-committed);
2. then each channel gets its target — ratio of its pool, fixed quantity, or its share of recent sales
   (forecast-weighted) — raised to the rule's minimum and capped at its maximum, as far as stock lasts.

Units no rule claims stay unallocated, a buffer rather than a surprise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

RATIO, FIXED, FORECAST = "ratio", "fixed", "forecast"


@dataclass(frozen=True)
class Rule:
    method: str
    ratio_bp: int = 10_000
    fixed_quantity: int = 0
    min_quantity: int = 0
    max_quantity: int | None = None
    safety_stock: int = 0
    priority: int = 100
    forecast_days: int = 30


@dataclass(frozen=True)
class Claim:
    """One channel's position for one SKU. ``sources`` are the stock sources it may draw from (a warehouse's
    shelf, or its in-transit units when the channel counts them), in drawing order."""

    channel_id: int
    rule: Rule
    sources: tuple[str, ...]
    reserved: int
    recent_sales: int = 0


def targets(claims: Sequence[Claim], stock: Mapping[str, int]) -> dict[int, int]:
    """Each channel's wanted quota before stock runs out: rule target clamped to [min, max]."""
    forecast_sales = sum(c.recent_sales for c in claims if c.rule.method == FORECAST)
    forecast_count = sum(1 for c in claims if c.rule.method == FORECAST)
    out: dict[int, int] = {}
    for c in claims:
        pool = sum(max(stock.get(s, 0), 0) for s in c.sources)
        if c.rule.method == FIXED:
            want = c.rule.fixed_quantity
        elif c.rule.method == FORECAST:
            share_num, share_den = (c.recent_sales, forecast_sales) if forecast_sales else (1, forecast_count)
            want = pool * c.rule.ratio_bp * share_num // (10_000 * share_den)
        else:
            want = pool * c.rule.ratio_bp // 10_000
        want = max(want, c.rule.min_quantity)
        if c.rule.max_quantity is not None:
            want = min(want, c.rule.max_quantity)
        out[c.channel_id] = want
    return out


def allocate(claims: Sequence[Claim], stock: Mapping[str, int]) -> dict[int, int]:
    """Quota per channel id for one SKU, given sellable units per source."""
    left = {s: max(q, 0) for s, q in stock.items()}
    order = sorted(claims, key=lambda c: (c.rule.priority, c.channel_id))
    want = targets(claims, stock)
    for c in sorted(claims, key=_floor_order):
        _draw(left, c.sources, c.reserved)
    quotas: dict[int, int] = {}
    for c in order:
        extra_wanted = max(want[c.channel_id] - c.reserved, 0)
        got = _draw(left, c.sources, extra_wanted)
        quotas[c.channel_id] = c.reserved + got
    return quotas


def _floor_order(c: Claim) -> tuple[int, int, int]:
    # Reserved units are backed most-constrained channel first (fewest sources), so a channel that can only
    # draw from one warehouse is not starved by one that could have drawn elsewhere.
    return (len(c.sources), c.rule.priority, c.channel_id)


def unbacked(claims: Sequence[Claim], stock: Mapping[str, int]) -> dict[int, int]:
    """Reserved units per channel that its warehouses can no longer back (stock lost or moved away):
    the channel is over-committed by that much; empty when every reservation is covered."""
    left = {s: max(q, 0) for s, q in stock.items()}
    out: dict[int, int] = {}
    for c in sorted(claims, key=_floor_order):
        got = _draw(left, c.sources, c.reserved)
        if got < c.reserved:
            out[c.channel_id] = c.reserved - got
    return out


def _draw(left: dict[str, int], sources: Sequence[str], units: int) -> int:
    taken = 0
    for s in sources:
        if taken >= units:
            break
        take = min(left.get(s, 0), units - taken)
        if take > 0:
            left[s] -= take
            taken += take
    return taken


def rule_for(
    rules: Sequence[tuple[str, int | None, Rule]], *, sku_id: int, category_path: Sequence[int]
) -> Rule | None:
    """The rule of one channel that applies to a SKU: SKU scope beats category (the SKU's own category beats
    its ancestors, ``category_path`` nearest first) beats all; within a scope the first rule wins (rules come
    sorted by priority). ``rules`` are (scope, target id, rule)."""
    best: tuple[int, Rule] | None = None
    depth = {c: i for i, c in enumerate(category_path)}
    for scope, target, rule in rules:
        if scope == "sku" and target == sku_id:
            rank = 0
        elif scope == "category" and target in depth:
            rank = 1 + depth[target]
        elif scope == "all":
            rank = 1_000_000
        else:
            continue
        if best is None or rank < best[0]:
            best = (rank, rule)
    return best[1] if best else None


# (scope, target id, rule): a channel's rule for one SKU ("sku"), a category ("category") or all ("all").
FullRule = tuple[str, int | None, Rule]


@dataclass(frozen=True)
class AllocationContext:
    """Everything that does not depend on the SKU: loaded once per run."""

    sources: dict[int, tuple[str, ...]]  # channel id -> drawing order of stock sources
    warehouses: frozenset[int]
    rules: dict[int, list[FullRule]]
    category_parent: dict[int, int | None]
    forecast_windows: frozenset[int]
