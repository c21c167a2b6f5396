"""Courier assignment (分配快递, S4) as a pure function, and the shipping cost table.

Order of decision for one order shipping from one warehouse:

1. A matching rule marked ``designated`` (buyer- or platform-designated courier) decides outright; if that
   courier cannot carry the parcel the order is held rather than sent with another.
2. A courier named by a keyword in the buyer's or seller's remark ("发顺丰").
3. Courier rules by priority (conditions over order facts: shop, region, weight band …, optionally limited
   to some warehouses): the first rule with a capable courier decides, the cheapest of its couriers.
4. Otherwise the cheapest capable courier by the cost table (couriers without a rate come last).

Capable: active, covers the receiver's province, carries the weight, and takes cash on delivery when the
order is COD. Exclusions of every matching rule apply throughout. Nothing capable: no courier (the
service holds the order with an interception).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CourierOption:
    id: int
    code: str
    coverage_provinces: tuple[str, ...] = ()  # adcodes; empty: nationwide
    supports_cod: bool = False
    max_weight_g: int = 50_000
    remark_keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rate:
    courier_id: int
    warehouse_id: int | None
    province: str  # "" for any
    first_weight_g: int
    first_minor: int
    extra_per_kg_minor: int


@dataclass(frozen=True)
class CourierDirective:
    """A matching courier rule: pick from ``couriers`` (cheapest first), never ``exclude``; ``designated``
    makes its first courier mandatory; ``warehouses`` limits the rule to orders shipping from them."""

    rule_id: int | None
    rule_code: str
    couriers: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    designated: bool = False
    warehouses: tuple[str, ...] = ()


@dataclass(frozen=True)
class CourierRequest:
    order_id: int
    warehouse_id: int
    warehouse_code: str
    province: str  # receiver province adcode
    weight_g: int
    cod: bool
    remarks: str
    directives: tuple[CourierDirective, ...] = ()


@dataclass(frozen=True)
class CourierChoice:
    courier_id: int | None
    reason: str
    rule_id: int | None = None
    rule_code: str = ""
    cost_minor: int | None = None


def rate_for(rates: Sequence[Rate], courier_id: int, warehouse_id: int, province: str) -> Rate | None:
    """The most specific rate: (warehouse, province), (warehouse, any), (any, province), (any, any)."""
    best: tuple[int, Rate] | None = None
    for r in rates:
        if r.courier_id != courier_id:
            continue
        if r.warehouse_id not in (None, warehouse_id) or r.province not in ("", province):
            continue
        score = (2 if r.warehouse_id is not None else 0) + (1 if r.province else 0)
        if best is None or score > best[0]:
            best = (score, r)
    return best[1] if best else None


def shipping_cost(rate: Rate, weight_g: int) -> int:
    """First weight at the first price, then every started kilogram above it at the extra price."""
    extra_g = max(weight_g - rate.first_weight_g, 0)
    return rate.first_minor + -(-extra_g // 1000) * rate.extra_per_kg_minor


def courier_cost(rates: Sequence[Rate], courier_id: int, warehouse_id: int, province: str, weight_g: int) -> int | None:
    rate = rate_for(rates, courier_id, warehouse_id, province)
    return None if rate is None else shipping_cost(rate, weight_g)


def capable(c: CourierOption, request: CourierRequest) -> bool:
    return (
        (not c.coverage_provinces or request.province in c.coverage_provinces)
        and request.weight_g <= c.max_weight_g
        and (c.supports_cod or not request.cod)
    )


def _cheapest(
    options: Sequence[CourierOption], request: CourierRequest, rates: Sequence[Rate]
) -> tuple[CourierOption, int | None] | None:
    priced = [(c, courier_cost(rates, c.id, request.warehouse_id, request.province, request.weight_g)) for c in options]
    if not priced:
        return None
    order = {c.code: i for i, c in enumerate(options)}
    return min(priced, key=lambda cp: (cp[1] is None, cp[1] or 0, order[cp[0].code]))


def choose_courier(request: CourierRequest, couriers: Sequence[CourierOption], rates: Sequence[Rate]) -> CourierChoice:
    by_code = {c.code: c for c in couriers}
    applicable = [d for d in request.directives if not d.warehouses or request.warehouse_code in d.warehouses]
    excluded = {code for d in applicable for code in d.exclude}

    def cost(c: CourierOption) -> int | None:
        return courier_cost(rates, c.id, request.warehouse_id, request.province, request.weight_g)

    designated = next((d for d in applicable if d.designated and d.couriers), None)
    if designated is not None:
        c = by_code.get(designated.couriers[0])
        if c is not None and capable(c, request):
            return CourierChoice(
                c.id, f"designated by rule {designated.rule_code}", designated.rule_id, designated.rule_code, cost(c)
            )
        return CourierChoice(
            None,
            f"designated courier {designated.couriers[0]} cannot carry this parcel",
            designated.rule_id,
            designated.rule_code,
        )

    fit = [c for c in couriers if capable(c, request) and c.code not in excluded]
    remarks = request.remarks.lower()
    if remarks.strip():
        for c in fit:
            keyword = next((k for k in c.remark_keywords if k and k.lower() in remarks), None)
            if keyword is not None:
                return CourierChoice(c.id, f"remark asks for it ({keyword})", cost_minor=cost(c))

    for d in applicable:
        listed = [by_code[code] for code in d.couriers if code in by_code]
        options = [c for c in listed if c in fit]
        picked = _cheapest(options, request, rates)
        if picked is not None:
            return CourierChoice(picked[0].id, f"rule {d.rule_code}", d.rule_id, d.rule_code, picked[1])

    picked = _cheapest(fit, request, rates)
    if picked is not None:
        return CourierChoice(picked[0].id, "cheapest capable courier", cost_minor=picked[1])
    return CourierChoice(None, "no courier covers the region, weight and payment of this parcel")
