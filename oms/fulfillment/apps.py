from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    name = "oms.fulfillment"
    label = "fulfillment"
    verbose_name = _("Fulfilment")

    def ready(self) -> None:
        from oms.fulfillment.services.cancel import order_fulfilment_cancel
        from oms.fulfillment.services.rules import rule_params_check
        from oms.orders.services.cancel import ORDER_CANCEL_HOOKS
        from oms.review.services import RULE_PARAM_CHECKS

        for kind in ("warehouse", "courier"):
            RULE_PARAM_CHECKS[kind] = rule_params_check
        if order_fulfilment_cancel not in ORDER_CANCEL_HOOKS:
            ORDER_CANCEL_HOOKS.append(order_fulfilment_cancel)
