from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SplitMergeConfig(AppConfig):
    name = "oms.splitmerge"
    label = "splitmerge"
    verbose_name = _("Split and merge")
