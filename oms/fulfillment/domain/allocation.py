"""Warehouse allocation (分仓, S4) as a pure planner: which warehouse ships an order, or how to split it.

1. Eligible warehouses: the channel's warehouses (every active warehouse when the channel has none
   assigned) that cover the receiver's province or city; warehouse rules may exclude some, or designate
   the only ones allowed (SKU- or platform-designated warehouses).
2. Rule priority: the first matching rule (lowest priority number first) naming a preferred warehouse that
   can serve the whole order decides.
3. Otherwise tie-break strategies, in the configured order: ``stock`` (most of the order's units in
   stock), ``packages`` (fewest packages: most lines served whole), ``distance`` (nearest by the distance
   between provincial capitals), ``cost`` (lowest shipping cost); then warehouse priority and code.

Whole order to one warehouse whenever one can serve it. Otherwise, if several warehouses together can,
a proposed split plan (the order waits in pending_split); if some line cannot be served anywhere, the
order goes whole to the warehouse with most of it and the rest is short (缺货).

Stock is read as free units per (warehouse id, sku id); an order's own reservations count as free for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from oms.core.domain.regions import distance_km, province_lookup

Key = tuple[int, int]  # (warehouse id, sku id)
TIE_BREAKS = ("stock", "packages", "distance", "cost")


class Outcome(StrEnum):
    SINGLE = "single"  # one warehouse serves the whole order
    SPLIT = "split"  # several warehouses together serve it: a proposed split plan
    SHORT = "short"  # some line cannot be served anywhere: whole order to one warehouse, the rest short
    NONE = "none"  # no eligible warehouse at all


@dataclass(frozen=True)
class LineNeed:
    """One order line: ``components`` are (stocked sku id, units per line unit) — ((sku, 1),) when plain."""

    line_id: int
    components: tuple[tuple[int, int], ...]
    quantity: int


@dataclass(frozen=True)
class WarehouseOption:
    id: int
    code: str
    province: str  # adcode of where it stands
    coverage_provinces: tuple[str, ...] = ()  # adcodes; empty with no cities: nationwide
    coverage_cities: tuple[str, ...] = ()
    priority: int = 100

    def covers(self, province: str, city: str) -> bool:
        if not self.coverage_provinces and not self.coverage_cities:
            return True
        if province in self.coverage_provinces:
            return True
        wanted = city.strip().removesuffix("市")
        return bool(wanted) and any(c.strip().removesuffix("市") == wanted for c in self.coverage_cities)


@dataclass(frozen=True)
class WarehouseDirective:
    """A matching warehouse rule: ``prefer`` codes in order; ``only``: no other warehouse may ship the order
    (designation); ``exclude``: codes that must not ship it."""

    rule_id: int | None
    rule_code: str
    prefer: tuple[str, ...] = ()
    only: bool = False
    exclude: tuple[str, ...] = ()
    tie_breaks: tuple[str, ...] = ()


@dataclass(frozen=True)
class AllocationRequest:
    order_id: int
    province: str  # receiver province adcode
    city: str
    lines: tuple[LineNeed, ...]
    channel_warehouses: frozenset[int] = frozenset()  # empty: the channel has no assignment, all may ship
    directives: tuple[WarehouseDirective, ...] = ()


@dataclass(frozen=True)
class Group:
    warehouse_id: int
    line_ids: tuple[int, ...]


@dataclass(frozen=True)
class Shortfall:
    line_id: int
    warehouse_id: int
    quantity: int  # line units that cannot be reserved


@dataclass(frozen=True)
class AllocationPlan:
    outcome: Outcome
    warehouse_id: int | None = None  # single / short: the order's warehouse
    groups: tuple[Group, ...] = ()  # every line's warehouse (one group unless split)
    shortfalls: tuple[Shortfall, ...] = ()
    rule_id: int | None = None
    rule_code: str = ""
    reason: str = ""
    eligible: tuple[int, ...] = field(default=())


def order_demand(lines: Sequence[LineNeed]) -> dict[int, int]:
    """Stocked units per sku the lines need together."""
    need: dict[int, int] = defaultdict(int)
    for line in lines:
        for sku_id, per_unit in line.components:
            need[sku_id] += per_unit * line.quantity
    return dict(need)


def can_serve(free: Mapping[Key, int], warehouse_id: int, lines: Sequence[LineNeed]) -> bool:
    return all(free.get((warehouse_id, s), 0) >= q for s, q in order_demand(lines).items())


def line_units_available(free: Mapping[Key, int], warehouse_id: int, line: LineNeed) -> int:
    """Whole line units the warehouse could give this line alone."""
    return max(
        min(
            (free.get((warehouse_id, s), 0) // per for s, per in line.components),
            default=0,
        ),
        0,
    )


def _eligible(
    request: AllocationRequest, warehouses: Sequence[WarehouseOption]
) -> tuple[list[WarehouseOption], WarehouseDirective | None]:
    pool = [
        w
        for w in warehouses
        if (not request.channel_warehouses or w.id in request.channel_warehouses)
        and w.covers(request.province, request.city)
    ]
    excluded = {code for d in request.directives for code in d.exclude}
    pool = [w for w in pool if w.code not in excluded]
    designation = next((d for d in request.directives if d.only and d.prefer), None)
    if designation is not None:
        allowed = set(designation.prefer)
        pool = [w for w in pool if w.code in allowed]
    return pool, designation


def _distance(w: WarehouseOption, province: str) -> float:
    a, b = province_lookup(w.province), province_lookup(province)
    if a is None or b is None:
        return float("inf")
    return distance_km(a, b)


def _rank(
    pool: Sequence[WarehouseOption],
    *,
    request: AllocationRequest,
    lines: Sequence[LineNeed],
    free: Mapping[Key, int],
    costs: Mapping[int, int],
    tie_breaks: Sequence[str],
) -> list[WarehouseOption]:
    """The pool, best first, by the tie-break strategies in order, then priority and code."""

    def key(w: WarehouseOption) -> tuple[float | str, ...]:
        parts: list[float | str] = []
        for strategy in tie_breaks:
            if strategy == "stock":
                parts.append(-sum(min(line_units_available(free, w.id, ln), ln.quantity) for ln in lines))
            elif strategy == "packages":
                parts.append(-sum(1 for ln in lines if line_units_available(free, w.id, ln) >= ln.quantity))
            elif strategy == "distance":
                parts.append(round(_distance(w, request.province), 1))
            elif strategy == "cost":
                parts.append(float(costs.get(w.id, float("inf"))))
        parts += [float(w.priority), w.code]
        return tuple(parts)

    return sorted(pool, key=key)


def _explain(strategies: Sequence[str], best: WarehouseOption, province: str) -> str:
    order = " → ".join(strategies) or "priority"
    return f"tie-break {order}: {best.code} ({_distance(best, province):.0f} km away)"


def plan_allocation(
    request: AllocationRequest,
    warehouses: Sequence[WarehouseOption],
    free: Mapping[Key, int],
    *,
    costs: Mapping[int, int] | None = None,
    tie_breaks: Sequence[str] = TIE_BREAKS,
) -> AllocationPlan:
    """Plan one order. Never picks a warehouse for a line that it lacks the stock for, except as the
    declared warehouse of a short line (``shortfalls``); picks one warehouse whenever one can serve all."""
    costs = costs or {}
    lines = request.lines
    pool, designation = _eligible(request, warehouses)
    eligible_ids = tuple(w.id for w in pool)
    if not pool:
        why = f"designated by rule {designation.rule_code}, none covers" if designation else "none covers"
        return AllocationPlan(
            Outcome.NONE,
            reason=f"No eligible warehouse ({why} the receiver's region).",
            rule_id=designation.rule_id if designation else None,
            rule_code=designation.rule_code if designation else "",
        )
    by_code = {w.code: w for w in pool}
    all_lines = tuple(ln.line_id for ln in lines)

    for directive in request.directives:
        for code in directive.prefer:
            w = by_code.get(code)
            if w is not None and can_serve(free, w.id, lines):
                return AllocationPlan(
                    Outcome.SINGLE,
                    warehouse_id=w.id,
                    groups=(Group(w.id, all_lines),),
                    rule_id=directive.rule_id,
                    rule_code=directive.rule_code,
                    reason=f"rule {directive.rule_code}: {code}",
                    eligible=eligible_ids,
                )

    strategies = next((d.tie_breaks for d in request.directives if d.tie_breaks), ()) or tuple(tie_breaks)
    serving = [w for w in pool if can_serve(free, w.id, lines)]
    if serving:
        best = _rank(serving, request=request, lines=lines, free=free, costs=costs, tie_breaks=strategies)[0]
        return AllocationPlan(
            Outcome.SINGLE,
            warehouse_id=best.id,
            groups=(Group(best.id, all_lines),),
            reason=_explain(strategies, best, request.province),
            eligible=eligible_ids,
        )

    # No single warehouse: greedily take the warehouse serving the most remaining lines whole.
    left = dict(free)
    remaining = list(lines)
    groups: list[Group] = []
    while remaining:
        ranked = _rank(
            pool, request=request, lines=remaining, free=left, costs=costs, tie_breaks=("packages", *strategies)
        )
        best = ranked[0]
        served: list[LineNeed] = []
        for ln in remaining:
            if line_units_available(left, best.id, ln) >= ln.quantity:
                served.append(ln)
                for sku_id, per in ln.components:
                    left[(best.id, sku_id)] = left.get((best.id, sku_id), 0) - per * ln.quantity
        if not served:
            break
        groups.append(Group(best.id, tuple(ln.line_id for ln in served)))
        remaining = [ln for ln in remaining if ln not in served]

    if not remaining:
        return AllocationPlan(
            Outcome.SPLIT,
            groups=tuple(groups),
            reason=f"no warehouse holds the whole order; split over {len(groups)} warehouses",
            eligible=eligible_ids,
        )

    best = _rank(pool, request=request, lines=lines, free=free, costs=costs, tie_breaks=("stock", *strategies))[0]
    shortfalls: list[Shortfall] = []
    work = dict(free)
    for ln in lines:
        got = min(line_units_available(work, best.id, ln), ln.quantity)
        for sku_id, per in ln.components:
            work[(best.id, sku_id)] = work.get((best.id, sku_id), 0) - per * got
        if got < ln.quantity:
            shortfalls.append(Shortfall(ln.line_id, best.id, ln.quantity - got))
    return AllocationPlan(
        Outcome.SHORT,
        warehouse_id=best.id,
        groups=(Group(best.id, all_lines),),
        shortfalls=tuple(shortfalls),
        reason=f"short of stock everywhere; {best.code} holds the most",
        eligible=eligible_ids,
    )


def plan_take(free: dict[Key, int], request: AllocationRequest, plan: AllocationPlan) -> None:
    """Deduct what the plan will reserve from ``free`` (in place), so the next order of a batch sees it."""
    by_line = {ln.line_id: ln for ln in request.lines}
    short = {s.line_id: s.quantity for s in plan.shortfalls}
    for group in plan.groups:
        for line_id in group.line_ids:
            ln = by_line[line_id]
            units = ln.quantity - short.get(line_id, 0)
            for sku_id, per in ln.components:
                key = (group.warehouse_id, sku_id)
                free[key] = free.get(key, 0) - per * units
