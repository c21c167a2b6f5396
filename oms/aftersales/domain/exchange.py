"""An exchange (换货, O1): returned units swapped for replacement units, and the price difference settled.

Pure: no database. The replacement takes the returned units' place on the order and the whole is priced again:

- ``recalculate``: what the buyer now has (the units kept, plus the replacements in the returned lines' place
  under the order kinds' promotions — 满减, 满折, coupons — and a gift's threshold) is re-priced under the recorded
  promotions; item kinds (直降, 第N件M折) stay with the lines they were given on.
- ``proportional``: the kept lines keep what they were paid less the returned units' share, and the replacements
  keep the discount the returned units had (their list price less it, never below 0): at the same price nothing
  changes hands, otherwise the buyer pays, or gets back, the difference of list prices (补差价).

What the buyer has paid is then divided: first to the kept lines (their cost, as a new version), then to the
replacements (``carried``: paid on the exchange order from the original's money), and the rest is refunded;
when the replacements cost more than what is left, the buyer pays the difference (``owed``). So
``kept + carried + refund = paid`` and ``carried + owed = what the replacements cost``, to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from oms.aftersales.domain.recalculate import (
    LineFacts,
    LineVersion,
    OrderFacts,
    Policy,
    Step,
    facts_check,
    reprice,
)
from oms.core.domain.money import apportion
from oms.core.errors import FieldError, ValidationFailed
from oms.orders.domain.promotions import GIFT, ORDER_KINDS, Rule


@dataclass(frozen=True)
class Replacement:
    """Units sent in exchange, in the place of a returned line (0-based position), at a unit price."""

    replaces: int
    unit_price_minor: int
    quantity: int


@dataclass(frozen=True)
class Exchange:
    refund_minor: int  # paid back to the buyer: the replacements cost less than what the return frees
    owed_minor: int  # the buyer still pays: the replacements cost more
    carried_minor: int  # the original's money that pays for the replacements on the exchange order
    kept_charge_minor: int  # what the kept units of the original now cost
    lines_after: tuple[LineVersion, ...]  # the original's lines
    replacement_paid: tuple[int, ...]  # what each replacement costs, in the end (its line on the exchange order)
    steps: tuple[Step, ...]
    blocking: tuple[Step, ...] = ()


def _check(facts: OrderFacts, returning: Sequence[int], replacements: Sequence[Replacement]) -> None:
    facts_check(facts, returning)
    errors: list[FieldError] = []
    if not replacements:
        errors.append(FieldError("replacements", "An exchange sends at least one replacement.", "required"))
    for i, r in enumerate(replacements):
        if not 0 <= r.replaces < len(facts.lines) or returning[r.replaces] <= 0:
            errors.append(FieldError(f"replacements[{i}].replaces", "Name a line that is returned.", "not_returned"))
        if r.quantity <= 0:
            errors.append(FieldError(f"replacements[{i}].quantity", "Units must be at least 1.", "not_positive"))
        if r.unit_price_minor < 0:
            errors.append(FieldError(f"replacements[{i}].unit_price", "A price cannot be negative.", "negative"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)


def _kept_discounts(facts: OrderFacts, returning: Sequence[int], replacements: Sequence[Replacement]) -> list[int]:
    """Proportional: the discount each replacement keeps — the returned units' list price less their share of what
    their line was paid, divided over the replacements of that line by their value (none past its value)."""
    out = [0] * len(replacements)
    for line, r in enumerate(returning):
        mine = [k for k, rep in enumerate(replacements) if rep.replaces == line]
        if not r or not mine:
            continue
        cur = facts.current[line]
        goods = cur.paid_minor - cur.shipping_minor
        share = apportion(goods, [r, cur.quantity - r])[0] if cur.quantity else 0
        discount = max(facts.lines[line].unit_price_minor * r - share, 0)
        values = [replacements[k].unit_price_minor * replacements[k].quantity for k in mine]
        for k, part in zip(mine, apportion(min(discount, sum(values)), values, caps=values), strict=True):
            out[k] = part
    return out


def _with_replacements(facts: OrderFacts, replacements: Sequence[Replacement], discounts: Sequence[int]) -> OrderFacts:
    """The order as the buyer now has it: each replacement a line after the bought ones, in the place of the line
    it replaces under the order kinds and a gift's qualifying lines."""
    n = len(facts.lines)
    takes_place_of = {n + k: r.replaces for k, r in enumerate(replacements)}

    def extended(rule: Rule) -> Rule:
        if rule.kind not in ORDER_KINDS and rule.kind != GIFT:
            return rule
        added = tuple(p for p, of in takes_place_of.items() if of in rule.lines and of not in rule.gift_lines)
        return replace(rule, lines=rule.lines + added) if added else rule

    return replace(
        facts,
        lines=facts.lines + tuple(LineFacts(r.unit_price_minor, r.quantity) for r in replacements),
        rules=tuple(extended(rule) for rule in facts.rules),
        # Proportional prices a replacement at its list price less the discount it keeps; re-pricing reads only its
        # units.
        current=facts.current
        + tuple(
            LineVersion(r.quantity, r.unit_price_minor * r.quantity - d)
            for r, d in zip(replacements, discounts, strict=True)
        ),
    )


def price_exchange(
    facts: OrderFacts, returning: Sequence[int], replacements: Sequence[Replacement], policy: Policy
) -> Exchange:
    """The exchange of ``returning`` units per line for ``replacements``: who pays whom, explained."""
    _check(facts, returning, replacements)
    n = len(facts.lines)
    discounts = _kept_discounts(facts, returning, replacements) if policy.method == "proportional" else []
    ext = _with_replacements(facts, replacements, discounts or [0] * len(replacements))
    result = reprice(ext, [*returning, *([0] * len(replacements))], policy, bought_lines=n, exact=True)
    net_paid = max(facts.received_minor - facts.refunded_minor, 0)
    kept = list(result.lines_after[:n])
    kept_charge = sum(v.paid_minor for v in kept)
    costs = [v.paid_minor for v in result.lines_after[n:]]
    surcharge = max(kept_charge - net_paid, 0)
    if surcharge:
        # The kept units alone now cost more than was paid (a promotion lost by the exchange): they keep what was
        # paid, and the rest is charged with the replacements.
        paid = apportion(net_paid, [v.paid_minor for v in kept])
        kept = [LineVersion(v.quantity, p, min(v.shipping_minor, p)) for v, p in zip(kept, paid, strict=True)]
        costs = [c + extra for c, extra in zip(costs, apportion(surcharge, costs), strict=True)]
    freed = net_paid - sum(v.paid_minor for v in kept)
    carried = min(freed, sum(costs))
    refund = freed - carried
    owed = sum(costs) - carried
    steps = list(result.steps)
    steps += [
        Step("exchange_replacement", {"line": r.replaces + 1, "units": r.quantity, "amount": cost})
        for r, cost in zip(replacements, costs, strict=True)
    ]
    steps.append(
        Step(
            "exchange_difference",
            {
                "net_paid": net_paid,
                "kept_cost": kept_charge - surcharge,
                "replacement": sum(costs),
                "refund": refund,
                "owed": owed,
            },
        )
    )
    return Exchange(
        refund_minor=refund,
        owed_minor=owed,
        carried_minor=carried,
        kept_charge_minor=kept_charge - surcharge,
        lines_after=tuple(kept),
        replacement_paid=tuple(costs),
        steps=tuple(steps),
        blocking=result.blocking,
    )
