"""A recalculation's explanation, rendered in the operator's language at display time.

Steps are stored as codes with parameters (amounts in minor units); this turns them into sentences such as
"满300减50 no longer met: kept 240.00 < 300.00 → discount 0.00 (was 50.00)" in the active language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from oms.core.domain.money import format_minor

_TEXTS = {
    "line_kept": _("Line %(line)s: %(returning)s unit(s) returned, %(kept)s kept"),
    "line_returned": _("Line %(line)s: %(units)s unit(s) returned, their share of what the line was paid %(amount)s"),
    "promotion_kept": _("%(name)s still applies on what is kept (%(kept_basis)s): discount %(after)s (was %(before)s)"),
    "promotion_tier_dropped": _(
        "%(name)s drops to the tier still met: kept %(kept_basis)s < %(threshold)s, ≥ %(threshold_now)s "
        "→ discount %(after)s (was %(before)s)"
    ),
    "promotion_lost": _(
        "%(name)s no longer met: kept %(kept_basis)s < %(threshold)s → discount %(after)s (was %(before)s)"
    ),
    "gift_charged": _("Gift %(name)s kept without its threshold: line %(line)s, %(units)s unit(s) charged %(value)s"),
    "gift_must_return": _("Gift %(name)s must come back with the return: line %(line)s, %(units)s unit(s)"),
    "unnamed_discount": _("Order discount on what is kept: %(after)s (was %(before)s)"),
    "shipping": _("Shipping kept %(kept)s, refunded %(refunded)s (rule: %(rule)s)"),
    "kept_cost": _("What is kept now costs %(amount)s"),
    "refund_capped": _("What is kept costs %(kept_cost)s, more than the %(net_paid)s paid: nothing more is charged"),
    "refund": _("Refund %(net_paid)s − %(kept_cost)s = %(refund)s"),
    "reissue": _("A reissue sends the units again at no charge: nothing is refunded"),
    "exchange_replacement": _("In place of line %(line)s: %(units)s replacement unit(s), now costing %(amount)s"),
    "exchange_difference": _(
        "Paid %(net_paid)s: the kept units %(kept_cost)s, the replacements %(replacement)s → refund %(refund)s, "
        "the buyer pays %(owed)s"
    ),
}
_SHIPPING_RULES = {
    "all_returned": _("only when everything comes back"),
    "never": _("never"),
    "proportional": _("with the units"),
}
_MONEY = {
    "before",
    "after",
    "value",
    "amount",
    "kept",
    "refunded",
    "net_paid",
    "kept_cost",
    "refund",
    "replacement",
    "owed",
}
_BASIS_VALUES = {"kept_basis", "threshold", "threshold_now"}


def _value(key: str, value: Any, params: Mapping[str, Any], currency: str) -> str:
    if key == "rule":
        return str(_SHIPPING_RULES.get(str(value), str(value)))
    if key in _BASIS_VALUES:
        if params.get("basis") == "quantity":
            return _("%(count)s unit(s)") % {"count": value}
        return format_minor(int(value), currency)
    if key in _MONEY and not (key == "kept" and "returning" in params):
        return format_minor(int(value), currency)
    return str(value)


def explain_render(steps: Iterable[Mapping[str, Any]], currency: str) -> list[str]:
    """One sentence per step ({"code": ..., "params": {...}}); an unknown code shows as itself with its parameters."""
    out: list[str] = []
    for step in steps:
        code = str(step.get("code", ""))
        params = dict(step.get("params") or {})
        text = _TEXTS.get(code)
        if text is None:
            out.append(f"{code} {params}")
            continue
        out.append(str(text) % {k: _value(k, v, params, currency) for k, v in params.items()})
    return out
