from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._\-]*$",
    _("Use letters, digits, dot, dash or underscore, starting with a letter or digit."),
)
tax_code_validator = RegexValidator(r"^[0-9]{19}$", _("A tax classification code (税收分类编码) is 19 digits."))
barcode_validator = RegexValidator(r"^\d{8,14}$", _("A barcode is 8 to 14 digits (EAN-8, UPC, EAN-13, GTIN-14)."))


class Category(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=64)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        seen: set[int | None] = {self.pk}
        node = self.parent
        while node is not None:
            if node.pk in seen:
                raise ValidationError({"parent": _("A category cannot be its own ancestor.")})
            seen.add(node.pk)
            node = node.parent


class Sku(models.Model):
    """A stock-keeping unit. ``code`` is the merchant code (商家编码) platforms' SKUs map to."""

    code = models.CharField(_("SKU code"), max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    barcode = models.CharField(_("barcode"), max_length=14, blank=True, validators=[barcode_validator])
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="skus",
    )
    weight_g = models.PositiveIntegerField(_("weight (g)"), default=0, validators=[MaxValueValidator(1_000_000)])
    volume_cm3 = models.PositiveIntegerField(_("volume (cm³)"), default=0, validators=[MaxValueValidator(10_000_000)])
    # Tax rate in basis points (1300 = 13%), so invoices never see a float.
    tax_rate_bp = models.PositiveIntegerField(
        _("tax rate (basis points)"),
        default=1300,
        validators=[MinValueValidator(0), MaxValueValidator(10_000)],
        help_text=_("1300 means 13%."),
    )
    # What invoices print for it (L5): 税收分类编码, the name as *类别简称*名称, the unit; exempt (免税) beside a rate.
    tax_code = models.CharField(
        _("tax classification code"), max_length=19, blank=True, validators=[tax_code_validator]
    )
    invoice_name = models.CharField(
        _("invoice name"), max_length=100, blank=True, help_text=_("As *类别简称*名称; empty: *category*SKU name.")
    )
    invoice_unit = models.CharField(_("invoice unit"), max_length=16, blank=True)
    tax_exempt = models.BooleanField(_("tax exempt (免税)"), default=False)
    is_gift = models.BooleanField(_("gift"), default=False)
    is_bundle = models.BooleanField(_("bundle"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # A best seller (爆款) whose channel reservations made one at a time are queued and granted in batches, one
    # lock of the channel-stock row per batch instead of one per line (`oms.inventory.services.hot_reserve`).
    is_hot = models.BooleanField(
        _("hot SKU (batched reservations)"),
        default=False,
        help_text=_("Reservations made one at a time are queued and granted in batches (for flash sales)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(tax_rate_bp__lte=10_000), name="sku_tax_rate_at_most_100pct"),
        ]
        indexes = [models.Index(fields=["barcode"], name="sku_barcode")]
        permissions = [("designate_hot_sku", _("Can designate and undesignate hot SKUs (爆款)"))]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class BundleComponent(models.Model):
    """One component of a bundle SKU (组合装): the bundle is sold, the components are stocked."""

    bundle = models.ForeignKey(Sku, verbose_name=_("bundle"), on_delete=models.CASCADE, related_name="components")
    component = models.ForeignKey(Sku, verbose_name=_("component"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("bundle component")
        verbose_name_plural = _("bundle components")
        constraints = [
            models.UniqueConstraint(fields=["bundle", "component"], name="bundle_component_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="bundle_component_qty_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.bundle_id} ∋ {self.component_id} × {self.quantity}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.bundle_id and self.component_id and self.bundle_id == self.component_id:
            errors["component"] = _("A bundle cannot contain itself.")
        elif self.component_id and self.component.is_bundle:
            errors["component"] = _("A bundle's components must be plain SKUs, not other bundles.")
        if self.bundle_id and not self.bundle.is_bundle:
            errors["bundle"] = _("Only a SKU marked as a bundle can have components.")
        if errors:
            raise ValidationError(errors)
