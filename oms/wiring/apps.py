"""Cross-app reactions, wired in one visible place.

A lower app offers a typed hook list and calls every entry; the apps above it supply the answers here,
so a reader at a call site finds every answer in this file, and the lower app never imports the higher:

| hook (owner) | type | answered by |
|---|---|---|
| `orders.services.cancel.ORDER_CANCEL_HOOKS` | `OrderCancelHook` | fulfillment: stockouts, dispatch withdrawn |
| `orders.selectors.ORDER_REPLACEMENTS` | `Replacements` | splitmerge: retired orders and their living successors |
| `review.services.RULE_PARAM_CHECKS` | `RuleParamCheck` | fulfillment: warehouse and courier rule targets |
| `review.selectors.FACT_PROVIDERS` | `FactProvider` | splitmerge: the unmerged mergeable orders count |
| `review.services.REVIEW_PASSED_HOOKS` | `ReviewPassedHook` | fulfillment: orders let through move on at once |
| `orders.services.payments.REFUND_RECORDED_HOOKS` | `RefundRecordedHook` | aftersales: refunds settle cases |
| `connectors.services.changes.PLATFORM_REFUND_HOOKS` | `PlatformRefundHook` | aftersales: platform refund → case |
| `aftersales.services.exchange.LINKED_ORDER_HOOKS` | `LinkedOrderHook` | splitmerge: exchange/reissue lineage |
| `aftersales.services.settlement.CASE_REFUNDED_HOOKS` | `CaseRefundedHook` | invoicing: red-letter the difference |
| `orders.services.cancel.ORDER_CANCEL_HOOKS` | `OrderCancelHook` | invoicing: a cancelled order's invoices reversed |
| `fulfillment.services.delivery.PARCEL_REJECTED_HOOKS` | `ParcelRejectedHook` | aftersales: 拒收 opens a case |
| `fulfillment.services.wms.RETURN_CALLBACKS` | `ReturnCallback` | aftersales: WMS return receipt, inspection |
| `orders.services.intake.RETURN_INTAKE` | `ReturnIntake` | aftersales: a return order → a case on its original |

This app sits at the top of the graph (it imports the apps it wires; none imports it).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import AppConfig

from oms.core.actors import Actor


def _advance_reviewed(*, order_ids: Sequence[int], actor: Actor) -> None:
    """Orders an operator let through take the pipeline's next steps now (warehouse, courier, dispatch)."""
    from oms.fulfillment.conf import auto_dispatch
    from oms.fulfillment.services.pipeline import orders_advance
    from oms.orders.models import Order

    orders_advance(orders=[Order(pk=pk) for pk in order_ids], actor=actor, dispatch=auto_dispatch())


def wire() -> None:
    """Register every cross-app reaction once (safe to call again)."""
    from oms.aftersales.services.exchange import LINKED_ORDER_HOOKS
    from oms.aftersales.services.intake import return_order_intake
    from oms.aftersales.services.platform import platform_refund_case
    from oms.aftersales.services.returns import (
        rejected_parcel_case,
        wms_return_inspected,
        wms_return_inspected_finish,
        wms_return_received,
    )
    from oms.aftersales.services.settlement import CASE_REFUNDED_HOOKS, cases_refund_settle
    from oms.connectors.services.changes import PLATFORM_REFUND_HOOKS
    from oms.fulfillment.services.cancel import order_fulfilment_cancel
    from oms.fulfillment.services.delivery import PARCEL_REJECTED_HOOKS
    from oms.fulfillment.services.rules import rule_params_check
    from oms.fulfillment.services.wms import RETURN_CALLBACKS, ReturnCallback
    from oms.invoicing.services.reverse import case_refunded_reconcile, order_cancelled_reverse
    from oms.orders.selectors import ORDER_REPLACEMENTS, Replacements
    from oms.orders.services.cancel import ORDER_CANCEL_HOOKS
    from oms.orders.services.intake import RETURN_INTAKE
    from oms.orders.services.payments import REFUND_RECORDED_HOOKS
    from oms.review.selectors import FACT_PROVIDERS
    from oms.review.services import REVIEW_PASSED_HOOKS, RULE_PARAM_CHECKS
    from oms.splitmerge.facts import unmerged_mergeable_orders
    from oms.splitmerge.selectors import living_descendants, order_is_retired
    from oms.splitmerge.services.lineage import order_lineage_link

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
    if _advance_reviewed not in REVIEW_PASSED_HOOKS:
        REVIEW_PASSED_HOOKS.append(_advance_reviewed)
    # A refund recorded on an order (finance, a provider's callback, the platform) settles its refunding cases.
    if cases_refund_settle not in REFUND_RECORDED_HOOKS:
        REFUND_RECORDED_HOOKS.append(cases_refund_settle)
    # An exchange or reissue order made by a case is linked to its original in the lineage graph.
    if order_lineage_link not in LINKED_ORDER_HOOKS:
        LINKED_ORDER_HOOKS.append(order_lineage_link)
    # Goods coming back: a refused parcel opens its case; the WMS reports a return's receipt and inspection.
    if rejected_parcel_case not in PARCEL_REJECTED_HOOKS:
        PARCEL_REJECTED_HOOKS.append(rejected_parcel_case)
    RETURN_CALLBACKS["returned"] = ReturnCallback(wms_return_received)
    RETURN_CALLBACKS["inspected"] = ReturnCallback(wms_return_inspected, wms_return_inspected_finish)
    # An order of type return taken in is an after-sales return on its original order.
    if return_order_intake not in RETURN_INTAKE:
        RETURN_INTAKE.append(return_order_intake)
    if platform_refund_case not in PLATFORM_REFUND_HOOKS:
        PLATFORM_REFUND_HOOKS.append(platform_refund_case)
    # Invoices follow the money: a refunded case red-letters the difference per line (or re-issues, by the
    # shop's policy); a cancelled order's invoices are reversed whole.
    if case_refunded_reconcile not in CASE_REFUNDED_HOOKS:
        CASE_REFUNDED_HOOKS.append(case_refunded_reconcile)
    if order_cancelled_reverse not in ORDER_CANCEL_HOOKS:
        ORDER_CANCEL_HOOKS.append(order_cancelled_reverse)


class WiringConfig(AppConfig):
    name = "oms.wiring"
    label = "wiring"
    verbose_name = "Wiring"

    def ready(self) -> None:
        wire()
