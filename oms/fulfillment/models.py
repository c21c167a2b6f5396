from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from oms.catalog.models import code_validator
from oms.inventory.models import validate_province_codes


class Courier(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    # Empty coverage means nationwide.
    coverage_provinces = models.JSONField(
        _("covered provinces"), default=list, blank=True, validators=[validate_province_codes]
    )
    supports_cod = models.BooleanField(_("supports cash on delivery"), default=False)
    max_weight_g = models.PositiveIntegerField(_("max parcel weight (g)"), default=50_000)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("courier")
        verbose_name_plural = _("couriers")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
