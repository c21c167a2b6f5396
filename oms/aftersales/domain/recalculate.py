"""The refund for returned units (L4, 重摊重算), under the channel's policy, explained step by step.

Pure: no database. Two policies:

- ``recalculate`` (the merchant's own channels): re-price what the buyer keeps under the promotions recorded on
  the order — a threshold no longer met is lost or drops to the tier still met, a gift given under a lost
  threshold is charged at its value (or must come back) — and refund what was paid beyond that:
  ``refund = (received − refunded) − what the kept units now cost``, never negative, never more than
  ``received − refunded``.
- ``proportional`` (as the big platforms do): refund the returned units' share of what their lines were paid,
  from the order's latest figures.

Shipping follows its own rule: ``all_returned`` (refunded only when nothing is kept), ``never``, or
``proportional`` (each line's shipping share follows its units).

Either way the result carries the kept lines' figures re-apportioned (重摊): a new version of each line's
quantity, paid amount and shipping share that adds up exactly to what the buyer has paid for what they keep, so
later returns, invoices and reports use exact per-line amounts. Every step of the explanation is a code and its
parameters (amounts in minor units), rendered in the operator's language at display time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from oms.core.domain.money import apportion
from oms.core.errors import FieldError, ValidationFailed
from oms.orders.domain.promotions import GIFT, PromotionPlan, Rule, RuleShare, Units, plan_promotions

POLICIES = ("recalculate", "proportional")
SHIPPING_RULES = ("all_returned", "never", "proportional")
GIFT_RULES = ("charge", "must_return")


@dataclass(frozen=True)
class LineFacts:
    """A line as bought: price, units, its own (unnamed) item discount and its shipping share."""

    unit_price_minor: int
    quantity: int
    own_discount_minor: int = 0
    shipping_minor: int = 0


@dataclass(frozen=True)
class LineVersion:
    """A line's latest figures: the units the buyer still has, what they paid for them, and its shipping part."""

    quantity: int
    paid_minor: int
    shipping_minor: int = 0


@dataclass(frozen=True)
class OrderFacts:
    lines: tuple[LineFacts, ...]
    rules: tuple[Rule, ...]
    unnamed_discount_minor: int  # the order discount beyond the promotions
    received_minor: int
    refunded_minor: int
    current: tuple[LineVersion, ...]  # the lines' latest version (the purchase figures until a return)


@dataclass(frozen=True)
class Policy:
    method: str = "recalculate"
    shipping: str = "all_returned"
    gift: str = "charge"


@dataclass(frozen=True)
class Step:
    code: str
    params: dict[str, int | str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recalculation:
    refund_minor: int
    kept_charge_minor: int  # what the buyer has paid, in the end, for what they keep
    lines_after: tuple[LineVersion, ...]
    steps: tuple[Step, ...]
    blocking: tuple[Step, ...] = ()  # what must change before the case may go on (a gift that must come back)


def facts_check(facts: OrderFacts, returning: Sequence[int]) -> None:
    """Refuses returning more units than the buyer still has, or negative units, naming the line."""
    errors: list[FieldError] = []
    if len(returning) != len(facts.lines):
        errors.append(FieldError("lines", "Give the units returned for every line of the order.", "bad_lines"))
    for i, (units, current) in enumerate(zip(returning, facts.current, strict=False)):
        if units < 0:
            errors.append(FieldError(f"lines[{i}].quantity", "Units returned cannot be negative.", "negative"))
        elif units > current.quantity:
            errors.append(
                FieldError(
                    f"lines[{i}].quantity",
                    f"Line {i + 1} has {current.quantity} unit(s) left to return, not {units}.",
                    "more_than_delivered",
                )
            )
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)


def recalculate(facts: OrderFacts, returning: Sequence[int], policy: Policy) -> Recalculation:
    """The refund for ``returning`` units per line (on top of earlier returns, as ``facts.current`` shows)."""
    facts_check(facts, returning)
    return reprice(facts, returning, policy)


def reprice(
    facts: OrderFacts, returning: Sequence[int], policy: Policy, *, bought_lines: int | None = None, exact: bool = False
) -> Recalculation:
    """``recalculate`` without its checks, for an exchange: lines from ``bought_lines`` on were not bought (they
    are the replacements the buyer now has: they count under the promotions but not in what was bought), and
    ``exact`` keeps each line's cost as it is even when what is kept costs more than was paid (the buyer pays the
    difference) instead of dividing what was paid over the kept lines."""
    if policy.method == "proportional":
        return _proportional(facts, returning, policy, exact=exact)
    return _recalculated(
        facts, returning, policy, bought_lines=len(facts.lines) if bought_lines is None else bought_lines, exact=exact
    )


def _net_paid(facts: OrderFacts) -> int:
    return max(facts.received_minor - facts.refunded_minor, 0)


def _settle(
    facts: OrderFacts,
    kept_cost: int,
    costs: list[int],
    ships: list[int],
    kept: list[int],
    steps: list[Step],
    *,
    exact: bool = False,
) -> Recalculation:
    """Refund what was paid beyond the kept units' cost and re-apportion what they keep over the kept lines
    (``exact``: each line keeps its cost, and what is kept may cost more than was paid)."""
    net_paid = _net_paid(facts)
    kept_charge = kept_cost if exact else min(kept_cost, net_paid)
    refund = max(net_paid - kept_charge, 0)
    if exact:
        return Recalculation(
            refund,
            kept_charge,
            tuple(LineVersion(q, c, min(s, c)) for q, c, s in zip(kept, costs, ships, strict=True)),
            tuple(steps),
        )
    if kept_cost > net_paid:
        steps.append(Step("refund_capped", {"kept_cost": kept_cost, "net_paid": net_paid}))
    steps.append(Step("refund", {"net_paid": net_paid, "kept_cost": kept_charge, "refund": refund}))
    paid = costs if kept_charge == sum(costs) else apportion(kept_charge, costs)
    versions = tuple(
        LineVersion(quantity=q, paid_minor=p, shipping_minor=min(s, p))
        for q, p, s in zip(kept, paid, ships, strict=True)
    )
    return Recalculation(refund, kept_charge, versions, tuple(steps))


# ---- recalculate: re-price what the buyer keeps


def _kept_units(facts: OrderFacts, returning: Sequence[int]) -> tuple[list[int], list[Units]]:
    kept = [cur.quantity - r for cur, r in zip(facts.current, returning, strict=True)]
    units = []
    for ln, k in zip(facts.lines, kept, strict=True):
        own_kept = apportion(ln.own_discount_minor, [k, ln.quantity - k])[0] if ln.own_discount_minor else 0
        units.append(Units(ln.unit_price_minor, k, own_kept))
    return kept, units


def _promotion_steps(rules: Sequence[Rule], bought: PromotionPlan, kept: PromotionPlan) -> list[Step]:
    """Per promotion: still met, dropped to a lower tier, or lost, with what it took off before and now."""
    steps: list[Step] = []
    for rule, before, after in zip(rules, bought.rules, kept.rules, strict=True):
        params: dict[str, int | str] = {
            "name": rule.name,
            "kind": rule.kind,
            "funder": rule.funder,
            "basis": rule.basis,
            "kept_basis": after.basis_value,
            "before": before.amount_minor,
            "after": after.amount_minor,
        }
        if rule.tiers and before.tier >= 0:
            params["threshold"] = rule.tiers[before.tier].threshold
        if rule.tiers and before.tier >= 0 and after.tier < 0:
            code = "promotion_lost"
        elif rule.tiers and before.tier >= 0 and after.tier != before.tier:
            params["threshold_now"] = rule.tiers[after.tier].threshold
            code = "promotion_tier_dropped"
        else:
            code = "promotion_kept"
        steps.append(Step(code, params))
    return steps


def _gift_charges(
    facts: OrderFacts, kept: list[int], plan_rules: Sequence[RuleShare], policy: Policy
) -> tuple[list[int], list[Step], list[Step]]:
    """Per line, what a gift kept under a lost threshold now costs (a gift listed at 0 costs its stated value;
    one listed at its value costs that, as its discount is gone); and the steps saying so."""
    charges = [0] * len(facts.lines)
    steps: list[Step] = []
    blocking: list[Step] = []
    for rule, share in zip(facts.rules, plan_rules, strict=True):
        if rule.kind != GIFT or share.tier >= 0:
            continue
        for i in rule.gift_lines:
            units = kept[i]
            if units <= 0:
                continue
            value = facts.lines[i].unit_price_minor or rule.gift_value_minor
            params: dict[str, int | str] = {"name": rule.name, "line": i + 1, "units": units, "value": value * units}
            if policy.gift == "must_return":
                blocking.append(Step("gift_must_return", params))
            else:
                if facts.lines[i].unit_price_minor == 0:
                    charges[i] += rule.gift_value_minor * units
                steps.append(Step("gift_charged", params))
    return charges, steps, blocking


def _unnamed_kept(facts: OrderFacts, kept_nets: list[int], rooms: list[int], bought_nets: list[int]) -> list[int]:
    """The unnamed order discount follows the value kept (its share of what was bought), spread over the kept
    lines as at intake, never past what the promotions left of a line."""
    bought_total = sum(max(n, 0) for n in bought_nets)
    kept_total = min(sum(max(n, 0) for n in kept_nets), bought_total)
    amount = apportion(facts.unnamed_discount_minor, [kept_total, bought_total - kept_total])[0]
    amount = min(amount, sum(rooms))
    return apportion(amount, [max(n, 0) for n in kept_nets], caps=rooms)


def _over_kept_lines(total: int, shares: Sequence[int], kept: Sequence[int]) -> list[int]:
    """Shipping the buyer still pays, on the lines they keep: a fully returned line's share moves to the kept
    lines (in proportion to their own shares, equally when they have none)."""
    positions = [i for i, k in enumerate(kept) if k > 0]
    out = [0] * len(kept)
    for i, share in zip(positions, apportion(total, [shares[i] for i in positions]), strict=True):
        out[i] = share
    return out


def _shipping_kept(facts: OrderFacts, kept: list[int], policy: Policy) -> list[int]:
    if policy.shipping == "never" or (policy.shipping == "all_returned" and any(kept)):
        shares = [ln.shipping_minor for ln in facts.lines]
        return _over_kept_lines(sum(shares), shares, kept) if any(kept) else shares
    if policy.shipping == "proportional":
        return [
            apportion(ln.shipping_minor, [k, ln.quantity - k])[0] if ln.quantity else 0
            for ln, k in zip(facts.lines, kept, strict=True)
        ]
    return [0] * len(facts.lines)


def _recalculated(
    facts: OrderFacts, returning: Sequence[int], policy: Policy, *, bought_lines: int, exact: bool
) -> Recalculation:
    kept, units = _kept_units(facts, returning)
    plan = plan_promotions(facts.rules, units)
    bought_units = [
        Units(ln.unit_price_minor, ln.quantity if i < bought_lines else 0, ln.own_discount_minor)
        for i, ln in enumerate(facts.lines)
    ]
    bought = plan_promotions(facts.rules, bought_units)
    kept_nets = [
        u.unit_price_minor * u.quantity - u.own_discount_minor - item
        for u, item in zip(units, plan.item_discounts, strict=True)
    ]
    bought_nets = [
        u.unit_price_minor * u.quantity - u.own_discount_minor - item
        for u, item in zip(bought_units, bought.item_discounts, strict=True)
    ]
    rooms = [max(n - s, 0) for n, s in zip(kept_nets, plan.order_shares, strict=True)]
    unnamed = _unnamed_kept(facts, kept_nets, rooms, bought_nets)
    ships = _shipping_kept(facts, kept, policy)
    charges, gift_steps, blocking = _gift_charges(facts, kept, plan.rules, policy)
    steps = [
        Step("line_kept", {"line": i + 1, "kept": k, "returning": r})
        for i, (k, r) in enumerate(zip(kept, returning, strict=True))
        if r
    ]
    steps += _promotion_steps(facts.rules, bought, plan)
    steps += gift_steps
    if facts.unnamed_discount_minor:
        steps.append(Step("unnamed_discount", {"before": facts.unnamed_discount_minor, "after": sum(unnamed)}))
    costs = [
        net - share - un + ship + charge
        for net, share, un, ship, charge in zip(kept_nets, plan.order_shares, unnamed, ships, charges, strict=True)
    ]
    shipping_total = sum(ln.shipping_minor for ln in facts.lines)
    steps.append(
        Step("shipping", {"kept": sum(ships), "refunded": shipping_total - sum(ships), "rule": policy.shipping})
    )
    kept_cost = sum(costs)
    steps.append(Step("kept_cost", {"amount": kept_cost}))
    result = _settle(facts, kept_cost, costs, ships, kept, steps, exact=exact)
    return Recalculation(
        result.refund_minor, result.kept_charge_minor, result.lines_after, result.steps, tuple(blocking)
    )


# ---- proportional: the returned units' share of what their lines were paid


def _proportional(facts: OrderFacts, returning: Sequence[int], policy: Policy, *, exact: bool = False) -> Recalculation:
    steps: list[Step] = []
    kept = [cur.quantity - r for cur, r in zip(facts.current, returning, strict=True)]
    nothing_left = not any(kept)
    costs: list[int] = []
    ships: list[int] = []
    shipping_refund = 0
    for i, (cur, r) in enumerate(zip(facts.current, returning, strict=True)):
        goods = cur.paid_minor - cur.shipping_minor
        goods_back = apportion(goods, [r, cur.quantity - r])[0] if cur.quantity else 0
        if policy.shipping == "proportional":
            ship_back = apportion(cur.shipping_minor, [r, cur.quantity - r])[0] if cur.quantity else 0
        elif policy.shipping == "all_returned" and nothing_left:
            ship_back = cur.shipping_minor
        else:
            ship_back = 0
        shipping_refund += ship_back
        if r:
            steps.append(Step("line_returned", {"line": i + 1, "units": r, "amount": goods_back}))
        costs.append(cur.paid_minor - goods_back - cur.shipping_minor)
        ships.append(cur.shipping_minor - ship_back)
    if any(kept):
        ships = _over_kept_lines(sum(ships), ships, kept)
    costs = [c + s for c, s in zip(costs, ships, strict=True)]
    steps.append(Step("shipping", {"kept": sum(ships), "refunded": shipping_refund, "rule": policy.shipping}))
    kept_cost = sum(costs)
    steps.append(Step("kept_cost", {"amount": kept_cost}))
    return _settle(facts, kept_cost, costs, ships, kept, steps, exact=exact)


def steps_as_data(steps: Sequence[Step]) -> list[dict[str, object]]:
    """JSON-safe, as stored on a case: codes and parameters, rendered in the operator's language when shown."""
    return [{"code": s.code, "params": dict(s.params)} for s in steps]
