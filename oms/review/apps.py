from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    name = "oms.review"
    label = "review"
    verbose_name = _("Review")

    def ready(self) -> None:
        from oms.orders.services.payments import REFUND_RECORDED_HOOKS
        from oms.review.services import order_refund_intercept

        if order_refund_intercept not in REFUND_RECORDED_HOOKS:
            REFUND_RECORDED_HOOKS.append(order_refund_intercept)
