"""Promotions as data (L1): the rules an order's discounts came from, and what each is worth on given units.

Pure: no database. An order's promotions are kept as rules, not only as amounts, so that a return can
re-price what the buyer keeps (L4, 重摊重算). Every amount is an int of minor units; percentages are basis
points (1/100 of a percent), so 9折 (pay 90%) is ``off_bp=1000`` and 第二件半价 is ``nth=2, pay_bp=5000``.

Kinds, and how they are worth what they are worth on a set of units:

- ``threshold_off`` 满减: the highest tier whose threshold the basis meets takes that tier's amount off
  (满300减50; tiers such as 满200减20 / 满300减50).
- ``per_every_off`` 每满减: every full threshold takes the amount off (每满100减10), up to an optional cap.
- ``threshold_percent`` 满折: the highest tier met takes its percentage off the basis (满2件9折).
- ``coupon`` 优惠券: a fixed amount off once the threshold (0 when none) is met.
- ``multi_buy`` 第N件M折: on each line, every nth unit is sold at ``pay_bp`` of its price (第二件半价).
- ``price_cut`` 直降: a fixed amount off each unit.
- ``gift`` 满赠/买赠: when the threshold is met, the gift lines are free; a gift line is listed at 0 with the
  gift's stated value on the rule, or at its value and the rule takes that value off.

Item kinds (multi_buy, price_cut, gift) are discounts of their own lines, worked out line by line. Order kinds
(threshold_off, per_every_off, threshold_percent, coupon) are measured on their lines' value after the item
kinds (or on their unit count, for a quantity threshold), each independently, and their amount is divided over
those lines with `apportion`. A threshold's basis is ``amount`` (minor units) or ``quantity`` (units).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oms.core.domain.money import apportion

THRESHOLD_OFF = "threshold_off"
PER_EVERY_OFF = "per_every_off"
THRESHOLD_PERCENT = "threshold_percent"
COUPON = "coupon"
MULTI_BUY = "multi_buy"
PRICE_CUT = "price_cut"
GIFT = "gift"

ORDER_KINDS = (THRESHOLD_OFF, PER_EVERY_OFF, THRESHOLD_PERCENT, COUPON)
ITEM_KINDS = (MULTI_BUY, PRICE_CUT, GIFT)
RULE_KINDS = ORDER_KINDS + ITEM_KINDS
FUNDERS = ("merchant", "platform")
BASES = ("amount", "quantity")
BP = 10_000


@dataclass(frozen=True)
class Tier:
    """A threshold (minor units, or units for a quantity basis) and what meeting it gives: an amount off
    (threshold_off, per_every_off, coupon) or a percentage off in basis points (threshold_percent)."""

    threshold: int
    value: int


@dataclass(frozen=True)
class Rule:
    kind: str
    name: str
    lines: tuple[int, ...]  # 0-based positions of the lines it applies to (the qualifying lines, for a gift)
    code: str = ""
    funder: str = "merchant"
    basis: str = "amount"
    tiers: tuple[Tier, ...] = ()
    cap_minor: int | None = None  # per_every_off: at most this much off
    nth: int = 0  # multi_buy
    pay_bp: int = BP  # multi_buy: share of the price paid for every nth unit
    unit_cut_minor: int = 0  # price_cut
    gift_lines: tuple[int, ...] = ()  # gift
    gift_value_minor: int = 0  # gift: the stated value of one gift unit listed at 0

    @property
    def is_item_kind(self) -> bool:
        return self.kind in ITEM_KINDS


@dataclass(frozen=True)
class Units:
    """One line as a promotion sees it: its price, how many units count, and its own (unnamed) discount on them."""

    unit_price_minor: int
    quantity: int
    own_discount_minor: int = 0


@dataclass(frozen=True)
class Worth:
    """What a rule gives on some units: per line for item kinds, in total for order kinds; the tier met
    (index into tiers, -1 when none) and the basis it was measured on."""

    total_minor: int
    per_line: dict[int, int] = field(default_factory=dict)
    tier: int = -1
    basis_value: int = 0


def round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def multi_buy_unit_off(unit_price_minor: int, pay_bp: int) -> int:
    """What one discounted unit of a multi-buy takes off: the unpaid share of its price, rounded half up."""
    return round_half_up(unit_price_minor * (BP - pay_bp), BP)


def _item_worth(rule: Rule, lines: Sequence[Units]) -> Worth:
    per_line: dict[int, int] = {}
    if rule.kind == PRICE_CUT:
        for i in rule.lines:
            ln = lines[i]
            net = ln.unit_price_minor * ln.quantity - ln.own_discount_minor
            per_line[i] = max(0, min(rule.unit_cut_minor * ln.quantity, net))
    elif rule.kind == MULTI_BUY:
        for i in rule.lines:
            ln = lines[i]
            net = ln.unit_price_minor * ln.quantity - ln.own_discount_minor
            discounted_units = ln.quantity // rule.nth if rule.nth > 0 else 0
            per_line[i] = max(0, min(discounted_units * multi_buy_unit_off(ln.unit_price_minor, rule.pay_bp), net))
    return Worth(total_minor=sum(per_line.values()), per_line=per_line)


def item_nets(rules: Sequence[Rule], lines: Sequence[Units]) -> tuple[list[int], dict[int, dict[int, int]]]:
    """Each line's value after its own discount and the item kinds (gifts as met or not), and each item rule's
    per-line discount (keyed by the rule's position)."""
    nets = [ln.unit_price_minor * ln.quantity - ln.own_discount_minor for ln in lines]
    item_discounts: dict[int, dict[int, int]] = {}
    for k, rule in enumerate(rules):
        if rule.kind in (PRICE_CUT, MULTI_BUY):
            worth = _item_worth(
                rule,
                [
                    Units(ln.unit_price_minor, ln.quantity, ln.unit_price_minor * ln.quantity - n)
                    for ln, n in zip(lines, nets, strict=True)
                ],
            )
            item_discounts[k] = worth.per_line
            for i, off in worth.per_line.items():
                nets[i] -= off
    for k, rule in enumerate(rules):
        if rule.kind == GIFT:
            worth = gift_worth(rule, lines, nets)
            item_discounts[k] = worth.per_line
            for i, off in worth.per_line.items():
                nets[i] -= off
    return nets, item_discounts


def _basis(rule: Rule, lines: Sequence[Units], nets: Sequence[int]) -> int:
    if rule.basis == "quantity":
        return sum(lines[i].quantity for i in rule.lines)
    return sum(nets[i] for i in rule.lines)


def tier_met(rule: Rule, basis_value: int) -> int:
    """The highest tier whose threshold the basis meets, or -1."""
    met = -1
    for t, tier in enumerate(rule.tiers):
        if basis_value >= tier.threshold and (met < 0 or tier.threshold >= rule.tiers[met].threshold):
            met = t
    return met


def gift_worth(rule: Rule, lines: Sequence[Units], nets: Sequence[int]) -> Worth:
    """A gift's discount: the gift lines' value after their own discount while the threshold is met, else 0."""
    qualifying = [i for i in rule.lines if i not in rule.gift_lines]
    basis_value = _basis(Rule(kind=rule.kind, name=rule.name, lines=tuple(qualifying), basis=rule.basis), lines, nets)
    tier = tier_met(rule, basis_value) if rule.tiers else 0
    per_line = {i: (max(nets[i], 0) if tier >= 0 else 0) for i in rule.gift_lines}
    return Worth(total_minor=sum(per_line.values()), per_line=per_line, tier=tier, basis_value=basis_value)


def order_rule_worth(rule: Rule, lines: Sequence[Units], nets: Sequence[int]) -> Worth:
    """An order kind's amount off on these units (nets: each line's value after the item kinds)."""
    basis_value = _basis(rule, lines, nets)
    value_base = sum(max(nets[i], 0) for i in rule.lines)
    if rule.kind == PER_EVERY_OFF:
        step = rule.tiers[0] if rule.tiers else Tier(0, 0)
        times = basis_value // step.threshold if step.threshold > 0 else 0
        off = times * step.value
        if rule.cap_minor is not None:
            off = min(off, rule.cap_minor)
        return Worth(total_minor=min(off, value_base), tier=0 if times else -1, basis_value=basis_value)
    tier = tier_met(rule, basis_value)
    if tier < 0:
        return Worth(total_minor=0, tier=-1, basis_value=basis_value)
    value = rule.tiers[tier].value
    off = round_half_up(value_base * value, BP) if rule.kind == THRESHOLD_PERCENT else value
    return Worth(total_minor=min(off, value_base), tier=tier, basis_value=basis_value)


@dataclass(frozen=True)
class RuleShare:
    """One rule's amount off and how it falls on the lines (line position → minor units)."""

    amount_minor: int
    per_line: dict[int, int]
    tier: int
    basis_value: int


@dataclass(frozen=True)
class PromotionPlan:
    item_discounts: tuple[int, ...]  # per line: the item kinds' discount, part of the line discount
    order_shares: tuple[int, ...]  # per line: the order kinds' shares, part of the order discount
    rules: tuple[RuleShare, ...]  # one per rule, in the rules' order

    @property
    def order_total_minor(self) -> int:
        return sum(self.order_shares)


def plan_promotions(rules: Sequence[Rule], lines: Sequence[Units]) -> PromotionPlan:
    """What every rule is worth on these units and where it falls.

    Order kinds are divided over their lines in proportion to each line's value after the item kinds, with
    `apportion`, each line capped at what the rules before left of it, so no line pays less than nothing;
    a rule worth more than its lines have left gives only what is left.
    """
    nets, item_discounts = item_nets(rules, lines)
    left = [max(n, 0) for n in nets]
    shares: list[RuleShare | None] = [None] * len(rules)
    for k, rule in enumerate(rules):
        if rule.is_item_kind:
            per_line = item_discounts.get(k, {})
            worth = gift_worth(rule, lines, nets) if rule.kind == GIFT else Worth(sum(per_line.values()))
            shares[k] = RuleShare(sum(per_line.values()), dict(per_line), worth.tier, worth.basis_value)
            continue
        worth = order_rule_worth(rule, lines, nets)
        positions = list(rule.lines)
        amount = min(worth.total_minor, sum(left[i] for i in positions))
        split = apportion(amount, [left[i] for i in positions], caps=[left[i] for i in positions])
        per_line = dict(zip(positions, split, strict=True))
        for i, part in per_line.items():
            left[i] -= part
        shares[k] = RuleShare(amount, per_line, worth.tier, worth.basis_value)
    item_total = [0] * len(lines)
    order_total = [0] * len(lines)
    for rule, share in zip(rules, shares, strict=True):
        assert share is not None
        target = item_total if rule.is_item_kind else order_total
        for i, amount in share.per_line.items():
            target[i] += amount
    return PromotionPlan(tuple(item_total), tuple(order_total), tuple(s for s in shares if s is not None))


def rule_as_dict(rule: Rule) -> dict[str, Any]:
    """JSON-safe, as stored on the order (line positions are 0-based: line_no − 1)."""
    return {
        "kind": rule.kind,
        "name": rule.name,
        "code": rule.code,
        "funder": rule.funder,
        "basis": rule.basis,
        "lines": list(rule.lines),
        "tiers": [[t.threshold, t.value] for t in rule.tiers],
        "cap_minor": rule.cap_minor,
        "nth": rule.nth,
        "pay_bp": rule.pay_bp,
        "unit_cut_minor": rule.unit_cut_minor,
        "gift_lines": list(rule.gift_lines),
        "gift_value_minor": rule.gift_value_minor,
    }


def rule_from_dict(data: Mapping[str, Any]) -> Rule:
    return Rule(
        kind=str(data["kind"]),
        name=str(data["name"]),
        code=str(data.get("code", "")),
        funder=str(data.get("funder", "merchant")),
        basis=str(data.get("basis", "amount")),
        lines=tuple(int(i) for i in data.get("lines", [])),
        tiers=tuple(Tier(int(t[0]), int(t[1])) for t in data.get("tiers", [])),
        cap_minor=None if data.get("cap_minor") is None else int(data["cap_minor"]),
        nth=int(data.get("nth", 0)),
        pay_bp=int(data.get("pay_bp", BP)),
        unit_cut_minor=int(data.get("unit_cut_minor", 0)),
        gift_lines=tuple(int(i) for i in data.get("gift_lines", [])),
        gift_value_minor=int(data.get("gift_value_minor", 0)),
    )
