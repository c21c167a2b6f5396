from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SplitMergeConfig(AppConfig):
    name = "oms.splitmerge"
    label = "splitmerge"
    verbose_name = _("Split and merge")

    def ready(self) -> None:
        from oms.orders.selectors import ORDER_REPLACEMENTS, Replacements
        from oms.review.selectors import FACT_PROVIDERS
        from oms.splitmerge.facts import unmerged_mergeable_orders
        from oms.splitmerge.selectors import living_descendants, order_is_retired

        if unmerged_mergeable_orders not in FACT_PROVIDERS:
            FACT_PROVIDERS.append(unmerged_mergeable_orders)
        # Lookups by platform order id, intake replays and late payments find what replaced an order.
        replacements = Replacements(retired=order_is_retired, living=living_descendants)
        if replacements not in ORDER_REPLACEMENTS:
            ORDER_REPLACEMENTS.append(replacements)
