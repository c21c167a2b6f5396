"""Reading an order's promotions (L1) out of untrusted JSON, one error per bad field, and checking them.

Pure. The order-level ``promotions`` list of an intake payload; each item is a rule (see
`oms.orders.domain.promotions`)::

    {"kind": "threshold_off", "name": "满300减50", "code": "MJ300", "funder": "platform",
     "lines": [0, 1],                      # positions, or the lines' platform_line_id; default: every non-gift line
     "threshold": "300.00", "off": "50.00",  # one tier, or "tiers": [{"threshold": ..., "off": ...}, ...]
     "amount": "50.00"}                    # optional: what it took off; refused when the rule gives otherwise

``threshold_percent`` tiers give ``percent_off`` ("10" for 9折); ``basis: "quantity"`` makes thresholds unit
counts (满2件); ``per_every_off`` takes ``threshold``, ``off`` and an optional ``cap``; ``coupon`` an ``off`` and
an optional ``threshold``; ``multi_buy`` ``nth`` and ``pay_percent`` ("50" for 第二件半价); ``price_cut`` a
``unit_cut``; ``gift`` its ``gift_lines`` (default: the lines marked is_gift), an optional ``threshold`` on the
other lines and the ``gift_value`` of one gift unit listed at 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oms.core.domain.money import format_minor
from oms.core.errors import FieldError
from oms.orders.domain.fields import FieldReader
from oms.orders.domain.promotions import (
    BASES,
    BP,
    FUNDERS,
    GIFT,
    MULTI_BUY,
    PER_EVERY_OFF,
    PRICE_CUT,
    RULE_KINDS,
    THRESHOLD_PERCENT,
    PromotionPlan,
    Rule,
    Tier,
)

MAX_PROMOTIONS = 50
_PERCENT_RE = re.compile(r"^\d{1,3}(?:\.\d{1,2})?$")


@dataclass(frozen=True)
class PromotionIn:
    rule: Rule
    amount_minor: int | None  # what the platform says it took off, when it says


@dataclass(frozen=True)
class LineRef:
    platform_line_id: str
    is_gift: bool


def _percent_bp(r: FieldReader, data: Mapping[str, Any], key: str, path: str) -> int:
    value = data.get(key)
    field = f"{path}.{key}"
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else None
    if text is None or not _PERCENT_RE.match(text):
        r.err(field, 'A percentage such as "10" or "12.5" is required.', "required" if value is None else "type")
        return 0
    whole, _, frac = text.partition(".")
    bp = int(whole) * 100 + int(frac.ljust(2, "0") or 0)
    if not 0 < bp <= BP:
        r.err(field, "A percentage above 0 and at most 100.", "out_of_range")
        return 0
    return bp


def _count(r: FieldReader, data: Mapping[str, Any], key: str, path: str, *, minimum: int) -> int:
    value = data.get(key)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value > 100_000:
        r.err(
            f"{path}.{key}", f"A whole number from {minimum} is required.", "type" if value is not None else "required"
        )
        return minimum
    return value


def _line_positions(
    r: FieldReader, data: Mapping[str, Any], key: str, path: str, lines: Sequence[LineRef], default: list[int]
) -> tuple[int, ...]:
    raw = data.get(key)
    if raw in (None, []):
        return tuple(default)
    if not isinstance(raw, list):
        r.err(f"{path}.{key}", "Expected a list of line positions or platform line ids.", "type")
        return ()
    by_id = {ln.platform_line_id: i for i, ln in enumerate(lines) if ln.platform_line_id}
    out: list[int] = []
    for j, ref in enumerate(raw):
        if isinstance(ref, int) and not isinstance(ref, bool) and 0 <= ref < len(lines):
            position: int | None = ref
        else:
            position = by_id.get(ref) if isinstance(ref, str) else None
        if position is None:
            r.err(f"{path}.{key}[{j}]", f"{ref!r} names no line of this order.", "unknown_line")
        elif position not in out:
            out.append(position)
    return tuple(out)


def _tiers(
    r: FieldReader, data: Mapping[str, Any], path: str, kind: str, basis: str, currency: str
) -> tuple[Tier, ...]:
    raw = data.get("tiers")
    items: list[tuple[str, Mapping[str, Any]]]
    if isinstance(raw, list) and raw:
        items = [(f"{path}.tiers[{t}]", x if isinstance(x, Mapping) else {}) for t, x in enumerate(raw)]
    elif raw not in (None, []):
        r.err(f"{path}.tiers", "Expected a list of tiers.", "type")
        return ()
    else:
        items = [(path, data)]
    tiers: list[Tier] = []
    for tpath, t in items:
        if basis == "quantity":
            threshold = _count(r, t, "threshold", tpath, minimum=1) if t.get("threshold") not in (None, "") else 0
        else:
            threshold = r.money(t, "threshold", tpath, currency)
        if kind == THRESHOLD_PERCENT:
            value = _percent_bp(r, t, "percent_off", tpath)
        else:
            value = r.money(t, "off", tpath, currency, required=kind != GIFT)
        tiers.append(Tier(threshold, value))
    return tuple(tiers)


def _rule(r: FieldReader, p: Mapping[str, Any], path: str, lines: Sequence[LineRef], currency: str) -> Rule | None:
    kind = r.text(p, "kind", path, max_len=32, required=True)
    if kind not in RULE_KINDS:
        r.err(f"{path}.kind", f"Unknown promotion kind {kind!r}; one of {', '.join(RULE_KINDS)}.", "choice")
        return None
    funder = r.text(p, "funder", path, max_len=16, default="merchant")
    if funder not in FUNDERS:
        r.err(f"{path}.funder", f"One of {', '.join(FUNDERS)}.", "choice")
    basis = r.text(p, "basis", path, max_len=16, default="amount")
    if basis not in BASES:
        r.err(f"{path}.basis", f"One of {', '.join(BASES)}.", "choice")
        basis = "amount"
    gifts = [i for i, ln in enumerate(lines) if ln.is_gift]
    non_gifts = [i for i, ln in enumerate(lines) if not ln.is_gift]
    gift_lines = _line_positions(r, p, "gift_lines", path, lines, gifts) if kind == GIFT else ()
    if kind == GIFT and not gift_lines:
        r.err(f"{path}.gift_lines", "A gift promotion names its gift lines (or marks them is_gift).", "required")
    default_lines = [i for i in non_gifts if i not in gift_lines]
    return Rule(
        kind=kind,
        name=r.text(p, "name", path, max_len=100, required=True),
        code=r.text(p, "code", path, max_len=64),
        funder=funder,
        basis=basis,
        lines=_line_positions(r, p, "lines", path, lines, default_lines),
        tiers=() if kind in (MULTI_BUY, PRICE_CUT) else _tiers(r, p, path, kind, basis, currency),
        cap_minor=r.optional_money(p, "cap", path, currency) if kind == PER_EVERY_OFF else None,
        nth=_count(r, p, "nth", path, minimum=2) if kind == MULTI_BUY else 0,
        pay_bp=_percent_bp(r, p, "pay_percent", path) if kind == MULTI_BUY else BP,
        unit_cut_minor=r.money(p, "unit_cut", path, currency, required=True) if kind == PRICE_CUT else 0,
        gift_lines=gift_lines,
        gift_value_minor=r.money(p, "gift_value", path, currency) if kind == GIFT else 0,
    )


def promotions_read(
    r: FieldReader, payload: Mapping[str, Any], lines: Sequence[LineRef], currency: str
) -> tuple[PromotionIn, ...]:
    raw = payload.get("promotions")
    if raw in (None, []):
        return ()
    if not isinstance(raw, list):
        r.err("promotions", "Expected a list of promotions.", "type")
        return ()
    if len(raw) > MAX_PROMOTIONS:
        r.err("promotions", f"At most {MAX_PROMOTIONS} promotions per order.", "too_many")
        return ()
    out: list[PromotionIn] = []
    for k, p in enumerate(raw):
        path = f"promotions[{k}]"
        if not isinstance(p, Mapping):
            r.err(path, "Expected an object.", "type")
            continue
        rule = _rule(r, p, path, lines, currency)
        if rule is not None:
            out.append(PromotionIn(rule, r.optional_money(p, "amount", path, currency)))
    return tuple(out)


def promotions_check(promotions: Sequence[PromotionIn], plan: PromotionPlan, currency: str) -> list[FieldError]:
    """One error per promotion whose stated amount is not what its rule gives on the order's lines."""
    errors: list[FieldError] = []
    for k, (pr, share) in enumerate(zip(promotions, plan.rules, strict=True)):
        if pr.amount_minor is not None and pr.amount_minor != share.amount_minor:
            errors.append(
                FieldError(
                    f"promotions[{k}].amount",
                    f"The platform states {format_minor(pr.amount_minor, currency)} but the rule gives "
                    f"{format_minor(share.amount_minor, currency)} on these lines.",
                    "promotion_amount_mismatch",
                )
            )
    return errors
