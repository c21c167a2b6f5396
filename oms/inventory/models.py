from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from oms.catalog.models import code_validator
from oms.core.domain.regions import province_lookup


class Subsidiary(models.Model):
    """A legal entity (分公司). Each warehouse belongs to one, which decides cost accounting (O5)."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    tax_id = models.CharField(_("tax id"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("subsidiary")
        verbose_name_plural = _("subsidiaries")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


def validate_province_codes(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Coverage is a list of province codes or names."))
    unknown = [v for v in value if province_lookup(v) is None]
    if unknown:
        raise ValidationError(_("Unknown provinces: %(names)s") % {"names": ", ".join(unknown)})


def validate_city_list(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValidationError(_("Cities are a list of city names."))


class Warehouse(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    subsidiary = models.ForeignKey(
        Subsidiary, verbose_name=_("subsidiary"), on_delete=models.PROTECT, related_name="warehouses"
    )
    province = models.CharField(_("province (adcode)"), max_length=6, help_text=_("Where the warehouse stands."))
    city = models.CharField(_("city"), max_length=64, blank=True)
    # Empty coverage means the warehouse ships nationwide.
    coverage_provinces = models.JSONField(
        _("covered provinces"), default=list, blank=True, validators=[validate_province_codes]
    )
    coverage_cities = models.JSONField(_("covered cities"), default=list, blank=True, validators=[validate_city_list])
    priority = models.PositiveIntegerField(_("priority"), default=100, help_text=_("Lower is preferred."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        province = province_lookup(self.province)
        if province is None:
            raise ValidationError({"province": _("Unknown province %(value)s.") % {"value": self.province}})
        self.province = province.adcode
        if isinstance(self.coverage_provinces, list):
            self.coverage_provinces = [
                p.adcode for p in (province_lookup(v) for v in self.coverage_provinces) if p is not None
            ]

    def covers(self, province_text: str) -> bool:
        if not self.coverage_provinces:
            return True
        province = province_lookup(province_text)
        return province is not None and province.adcode in self.coverage_provinces
