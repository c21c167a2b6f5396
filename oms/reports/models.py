"""Pre-aggregated daily figures (日报汇总) the reports read, and who may see which report.

Rollup rows are derived data: ``oms.reports.services.rollups`` is their one writer and can rebuild any day
from the orders and payments. Sales rows are keyed on the local day the order was placed and count living
orders only (an order replaced by a split or merge is left out, its successors carry the same goods and
money to the cent), so split and merged orders never count twice. Cash rows are keyed on the local day a
payment was made and keep the method, so ``carried`` bookkeeping rows can be left out of money that moved.
"""

from __future__ import annotations

from django.conf import settings
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


class ExportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ExportJob(models.Model):
    """One export of a console list with its filters, written in the background to a file under
    ``VAR_DIR/exports``. ``fingerprint`` (operator, list, format, filters) tells a second identical export
    while the first is still queued or running."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("operator"), on_delete=models.PROTECT, related_name="+"
    )
    list_name = models.CharField(_("list"), max_length=32)
    fmt = models.CharField(_("format"), max_length=4)
    params = models.JSONField(_("filters"), default=dict)
    language = models.CharField(_("language"), max_length=16, default="zh-hans")
    fingerprint = models.CharField(max_length=64, db_index=True)
    state = models.CharField(_("state"), max_length=8, choices=ExportState.choices, default=ExportState.QUEUED)
    total_rows = models.BigIntegerField(_("rows"), default=0)
    rows_written = models.BigIntegerField(_("rows written"), default=0)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    file_bytes = models.BigIntegerField(_("size"), default=0)
    error_code = models.CharField(_("error"), max_length=64, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["operator", "-created_at"], name="export_operator_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=models.Q(state__in=["queued", "running"]),
                name="export_one_at_a_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.list_name}.{self.fmt} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.state == ExportState.DONE:
            return 100
        return min(99, self.rows_written * 100 // self.total_rows) if self.total_rows else 0


class ShipByPolicy(models.Model):
    """A channel's ship-by rule (发货时效): hours after payment, presale days after payment, and how long before
    the deadline an order counts as at risk. The row without a channel is the default for the others."""

    channel = models.OneToOneField(
        Channel,
        verbose_name=_("channel"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    hours = models.PositiveIntegerField(_("ship within (hours after payment)"), default=48)
    warn_hours = models.PositiveIntegerField(_("warn (hours before the deadline)"), default=6)
    presale_days = models.PositiveIntegerField(_("presale: ship within (days after payment)"), default=15)

    class Meta:
        verbose_name = _("ship-by rule")
        verbose_name_plural = _("ship-by rules")

    def __str__(self) -> str:
        return f"{self.channel or '*'}: {self.hours} h"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.channel_id is None and ShipByPolicy.objects.filter(channel__isnull=True).exclude(pk=self.pk).exists():
            raise ValidationError({"channel": _("There is already a default rule (without a channel).")})
        if self.warn_hours >= self.hours:
            raise ValidationError({"warn_hours": _("Warn fewer hours before the deadline than the deadline allows.")})


class ShipByAlert(models.Model):
    """An order announced as at risk or overdue (once per kind): written with the outbox event."""

    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=8)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("ship-by alert")
        verbose_name_plural = _("ship-by alerts")
        constraints = [models.UniqueConstraint(fields=["order", "kind"], name="ship_by_alert_once")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"
