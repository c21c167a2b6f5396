"""Cross-app reactions, wired in one visible place.

A lower app offers a typed hook list and calls every entry; the apps above it supply the answers here,
so a reader at a call site finds every answer in this file, and the lower app never imports the higher:

| hook (owner) | type | answered by |
|---|---|---|
| `orders.services.cancel.ORDER_CANCEL_HOOKS` | `OrderCancelHook` | fulfillment: stockouts, dispatch withdrawn |
| `orders.selectors.ORDER_REPLACEMENTS` | `Replacements` | splitmerge: retired orders and their living successors |
| `review.services.RULE_PARAM_CHECKS` | `RuleParamCheck` | fulfillment: warehouse and courier rule targets |
| `review.selectors.FACT_PROVIDERS` | `FactProvider` | splitmerge: the unmerged mergeable orders count |

This app sits at the top of the graph (it imports the apps it wires; none imports it).
"""

from __future__ import annotations

from django.apps import AppConfig


def wire() -> None:
    """Register every cross-app reaction once (safe to call again)."""
    from oms.fulfillment.services.cancel import order_fulfilment_cancel
    from oms.fulfillment.services.rules import rule_params_check
    from oms.orders.selectors import ORDER_REPLACEMENTS, Replacements
    from oms.orders.services.cancel import ORDER_CANCEL_HOOKS
    from oms.review.selectors import FACT_PROVIDERS
    from oms.review.services import RULE_PARAM_CHECKS
    from oms.splitmerge.facts import unmerged_mergeable_orders
    from oms.splitmerge.selectors import living_descendants, order_is_retired

    if order_fulfilment_cancel not in ORDER_CANCEL_HOOKS:
        ORDER_CANCEL_HOOKS.append(order_fulfilment_cancel)
    # Lookups by platform order id, intake replays and late payments find what replaced an order.
    replacements = Replacements(retired=order_is_retired, living=living_descendants)
    if replacements not in ORDER_REPLACEMENTS:
        ORDER_REPLACEMENTS.append(replacements)
    for kind in ("warehouse", "courier"):
        RULE_PARAM_CHECKS[kind] = rule_params_check
    if unmerged_mergeable_orders not in FACT_PROVIDERS:
        FACT_PROVIDERS.append(unmerged_mergeable_orders)


class WiringConfig(AppConfig):
    name = "oms.wiring"
    label = "wiring"
    verbose_name = "Wiring"

    def ready(self) -> None:
        wire()
