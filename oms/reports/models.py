"""Pre-aggregated daily figures (日报汇总) the reports read, and who may see which report.

Rollup rows are derived data: ``oms.reports.services.rollups`` is their one writer and can rebuild any day
from the orders and payments. Sales rows are keyed on the local day the order was placed and count living
orders only (an order replaced by a split or merge is left out, its successors carry the same goods and
money to the cent), so split and merged orders never count twice. Cash rows are keyed on the local day a
payment was made and keep the method, so ``carried`` bookkeeping rows can be left out of money that moved.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.catalog.models import Sku
from oms.channels.models import Channel


class ReportAccess(models.Model):
    """No table: the per-report and export permissions the roles in ``oms.accounts.roles`` grant."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_sales_report", _("View sales reports")),
            ("view_cash_report", _("View cash reports")),
            ("view_operations_report", _("View operations reports")),
            ("view_stock_report", _("View stock and reservation reports")),
            ("view_customer_report", _("View customer reports")),
        ]

    def __str__(self) -> str:
        return "report access"


class SalesDay(models.Model):
    day = models.DateField(_("day"))
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+")
    province = models.CharField(_("province (adcode)"), max_length=6)
    currency = models.CharField(_("currency"), max_length=3)
    cancelled = models.BooleanField(_("cancelled"))
    orders = models.IntegerField(_("orders"))
    units = models.BigIntegerField(_("units"))
    goods_minor = models.BigIntegerField(_("GMV"))
    line_discount_minor = models.BigIntegerField(_("item discounts"))
    order_discount_minor = models.BigIntegerField(_("order discounts"))
    shipping_minor = models.BigIntegerField(_("shipping"))
    payable_minor = models.BigIntegerField(_("payable"))
    received_minor = models.BigIntegerField(_("paid"))
    refunded_minor = models.BigIntegerField(_("refunded"))

    class Meta:
        verbose_name = _("daily sales")
        verbose_name_plural = _("daily sales")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "province", "currency", "cancelled"], name="sales_day_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel_id} {self.province}"


class SkuSalesDay(models.Model):
    day = models.DateField(_("day"))
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+")
    # Null: lines whose platform SKU is not mapped to ours yet.
    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), null=True, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(_("currency"), max_length=3)
    cancelled = models.BooleanField(_("cancelled"))
    orders = models.IntegerField(_("orders"))
    units = models.BigIntegerField(_("units"))
    gross_minor = models.BigIntegerField(_("GMV"))
    line_discount_minor = models.BigIntegerField(_("item discounts"))
    order_discount_minor = models.BigIntegerField(_("order discounts"))
    paid_minor = models.BigIntegerField(_("paid"))

    class Meta:
        verbose_name = _("daily SKU sales")
        verbose_name_plural = _("daily SKU sales")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "sku", "currency", "cancelled"],
                name="sku_sales_day_unique",
            )
        ]
        indexes = [models.Index(fields=["sku", "day"], name="sku_sales_day_sku")]

    def __str__(self) -> str:
        return f"{self.day} {self.channel_id} {self.sku_id}"


class CashDay(models.Model):
    day = models.DateField(_("day"))
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("method"), max_length=32)
    kind = models.CharField(_("kind"), max_length=8)
    currency = models.CharField(_("currency"), max_length=3)
    count = models.IntegerField(_("count"))
    amount_minor = models.BigIntegerField(_("amount"))
    refund_due_minor = models.BigIntegerField(_("refund due"))

    class Meta:
        verbose_name = _("daily cash")
        verbose_name_plural = _("daily cash")
        constraints = [
            models.UniqueConstraint(fields=["day", "channel", "method", "kind", "currency"], name="cash_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel_id} {self.method} {self.kind}"


class RollupCursor(models.Model):
    """How far the rollups have read the orders' changes (their ``updated_at``)."""

    name = models.CharField(max_length=32, primary_key=True)
    watermark = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("rollup cursor")
        verbose_name_plural = _("rollup cursors")

    def __str__(self) -> str:
        return f"{self.name} @ {self.watermark}"
