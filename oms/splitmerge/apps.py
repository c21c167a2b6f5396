from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SplitMergeConfig(AppConfig):
    name = "oms.splitmerge"
    label = "splitmerge"
    verbose_name = _("Split and merge")

    def ready(self) -> None:
        from oms.review.selectors import FACT_PROVIDERS
        from oms.splitmerge.facts import unmerged_mergeable_orders

        if unmerged_mergeable_orders not in FACT_PROVIDERS:
            FACT_PROVIDERS.append(unmerged_mergeable_orders)
