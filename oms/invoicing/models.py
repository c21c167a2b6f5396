"""Invoices (发票): blue and red, their rows, the order-line money each row carries, the PDF, and each shop's
issuing policy.

"Never two blue invoices for the same money" is a database rule: every piece of an order line's money (line,
component, part) is held by at most one live blue share (`invoice_money_once`). A red invoice takes its money
back from the blue it names; a blue reversed to nothing lets go of its shares, so a new blue may take them.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.channels.models import Channel
from oms.inventory.models import Subsidiary
from oms.orders.models import Order, OrderLine


class IssueOn(models.TextChoices):
    SHIPMENT = "shipment", _("On shipment")
    SIGNING = "signing", _("On signing")
    REQUEST = "request", _("On the buyer's request")
    MANUAL = "manual", _("By hand")


class SplitPolicy(models.TextChoices):
    PER_CHILD = "per_child", _("One invoice per order that came out of a split")
    ORIGINAL = "original", _("One invoice for the original order")


class AfterRefund(models.TextChoices):
    ADJUST = "adjust", _("Red-letter the refunded difference per line")
    REISSUE = "reissue", _("Reverse whole and issue a new blue invoice for what was kept")


class ShippingMode(models.TextChoices):
    SEPARATE = "separate", _("Shipping as its own line")
    FOLDED = "folded", _("Shipping folded into the lines")


class DiscountMode(models.TextChoices):
    NET = "net", _("Net amounts")
    LINES = "lines", _("Discount lines (折扣行)")


class RateCode(models.TextChoices):
    R13 = "13", "13%"
    R9 = "9", "9%"
    R6 = "6", "6%"
    R0 = "0", "0%"
    EXEMPT = "exempt", _("Exempt 免税")


class ChannelInvoicePolicy(models.Model):
    """How a shop invoices. No row: by hand, shipping as its own line, net amounts, 200 lines an invoice."""

    channel = models.OneToOneField(Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="+")
    issue_on = models.CharField(_("issue"), max_length=10, choices=IssueOn.choices, default=IssueOn.MANUAL)
    split = models.CharField(
        _("split orders"), max_length=10, choices=SplitPolicy.choices, default=SplitPolicy.PER_CHILD
    )
    after_refund = models.CharField(
        _("after a refund"), max_length=10, choices=AfterRefund.choices, default=AfterRefund.ADJUST
    )
    shipping = models.CharField(
        _("shipping"), max_length=10, choices=ShippingMode.choices, default=ShippingMode.SEPARATE
    )
    discounts = models.CharField(_("discounts"), max_length=10, choices=DiscountMode.choices, default=DiscountMode.NET)
    shipping_name = models.CharField(_("shipping item name"), max_length=100, default="*物流辅助服务*收派服务费")
    shipping_tax_code = models.CharField(_("shipping tax code"), max_length=19, default="3040407040000000000")
    shipping_rate = models.CharField(_("shipping tax rate"), max_length=8, choices=RateCode.choices, default="6")
    max_lines = models.PositiveIntegerField(_("lines per invoice"), default=200)
    max_amount_minor = models.BigIntegerField(_("amount limit per invoice"), null=True, blank=True)
    seller = models.ForeignKey(
        Subsidiary,
        verbose_name=_("seller"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the subsidiary owning the order's final shipping warehouse."),
    )
    provider = models.CharField(_("provider"), max_length=32, default="local")

    class Meta:
        verbose_name = _("invoice policy")
        verbose_name_plural = _("invoice policies")

    def __str__(self) -> str:
        return f"{self.channel_id}: {self.issue_on}"


class InvoiceKind(models.TextChoices):
    BLUE = "blue", _("Blue 蓝字")
    RED = "red", _("Red 红字")


class InvoiceState(models.TextChoices):
    PENDING = "pending", _("Pending 待开")
    ISSUING = "issuing", _("Issuing 开具中")
    ISSUED = "issued", _("Issued 已开")
    FAILED = "failed", _("Failed 失败")
    REVERSED = "reversed", _("Reversed 已红冲")


class InvoiceReason(models.TextChoices):
    MANUAL = "manual", _("By hand")
    REQUEST = "request", _("Buyer's request")
    SHIPMENT = "shipment", _("Shipped")
    SIGNING = "signing", _("Signed")
    REFUND = "refund", _("Refund")
    CANCEL = "cancel", _("Cancelled")
    CORRECTION = "correction", _("Buyer details corrected")
    SUPPLEMENT = "supplement", _("Paid more after a return")
    REISSUE = "reissue", _("Re-issued for what was kept")


class Invoice(models.Model):
    number = models.CharField(_("invoice request number"), max_length=48, unique=True)
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=4, choices=InvoiceKind.choices)
    state = models.CharField(_("state"), max_length=10, choices=InvoiceState.choices, default=InvoiceState.PENDING)
    reason = models.CharField(_("reason"), max_length=12, choices=InvoiceReason.choices)
    against = models.ForeignKey(
        "self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT, related_name="reds"
    )
    replaces = models.ForeignKey(
        "self", verbose_name=_("replaces"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seller = models.ForeignKey(Subsidiary, verbose_name=_("seller"), on_delete=models.PROTECT, related_name="+")
    seller_name = models.CharField(_("seller name"), max_length=100)
    seller_tax_id = models.CharField(_("seller taxpayer id"), max_length=32, blank=True)
    invoice_type = models.CharField(_("invoice type"), max_length=8)
    buyer_kind = models.CharField(_("title type"), max_length=8)
    buyer_title = models.CharField(_("invoice title"), max_length=100)
    buyer_tax_id = models.CharField(_("buyer taxpayer id"), max_length=20, blank=True)
    buyer_email = models.CharField(_("email"), max_length=254, blank=True)
    buyer_mobile = models.CharField(_("delivery phone"), max_length=32, blank=True)
    buyer_address = models.CharField(_("registered address"), max_length=200, blank=True)
    buyer_phone = models.CharField(_("registered phone"), max_length=32, blank=True)
    buyer_bank = models.CharField(_("bank"), max_length=100, blank=True)
    buyer_account = models.CharField(_("bank account"), max_length=40, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    amount_minor = models.BigIntegerField(_("amount incl. tax"))
    excl_minor = models.BigIntegerField(_("amount excl. tax"))
    tax_minor = models.BigIntegerField(_("tax"))
    provider = models.CharField(_("provider"), max_length=32)
    request_id = models.UUIDField(_("provider request id"), default=uuid.uuid4, unique=True)
    provider_number = models.CharField(_("invoice number 发票号码"), max_length=32, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    download_url = models.CharField(_("download link"), max_length=500, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("issue_invoice", _("Issue invoices")),
            ("reverse_invoice", _("Reverse invoices (红冲)")),
            ("export_invoice", _("Export invoices")),
            ("edit_invoice_details", _("Edit buyers' invoice details")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor=F("excl_minor") + F("tax_minor")), name="invoice_adds_up"),
            models.CheckConstraint(
                condition=(Q(kind="blue", amount_minor__gte=0, against__isnull=True))
                | (Q(kind="red", amount_minor__lte=0, against__isnull=False)),
                name="invoice_blue_or_red",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_number"], condition=~Q(provider_number=""), name="invoice_number_once"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "-created_at"], name="invoice_state_created"),
            models.Index(fields=["order", "created_at"], name="invoice_order"),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines")
    row_no = models.PositiveIntegerField(_("row"))
    kind = models.CharField(_("kind"), max_length=10)  # goods, discount, shipping
    name = models.CharField(_("name"), max_length=100)
    tax_code = models.CharField(_("tax classification code"), max_length=19)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    rate = models.CharField(_("tax rate"), max_length=8, choices=RateCode.choices)
    quantity = models.IntegerField(_("quantity"))
    amount_minor = models.BigIntegerField(_("amount incl. tax"))
    excl_minor = models.BigIntegerField(_("amount excl. tax"))
    tax_minor = models.BigIntegerField(_("tax"))

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice_id", "row_no"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "row_no"], name="invoice_line_once"),
            models.CheckConstraint(
                condition=Q(amount_minor=F("excl_minor") + F("tax_minor")), name="invoice_line_adds_up"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}#{self.row_no}"


class InvoiceShare(models.Model):
    """How much of one order line's money (component, part) an invoice row carries; ``blue`` is the blue invoice
    the money belongs to (itself, or the one a red row reverses)."""

    line = models.ForeignKey(InvoiceLine, on_delete=models.CASCADE, related_name="shares")
    blue = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    component = models.CharField(max_length=10)
    part = models.PositiveIntegerField()
    amount_minor = models.BigIntegerField()
    quantity = models.IntegerField(default=0)
    live = models.BooleanField(default=False)

    class Meta:
        constraints = [
            # Never two blue invoices for the same money.
            models.UniqueConstraint(
                fields=["order_line", "component", "part"], condition=Q(live=True), name="invoice_money_once"
            ),
        ]
        indexes = [models.Index(fields=["order_line"], name="invoice_share_line")]

    def __str__(self) -> str:
        return f"{self.order_line_id}/{self.component}/{self.part}: {self.amount_minor}"


class InvoicePdf(models.Model):
    invoice = models.OneToOneField(Invoice, on_delete=models.CASCADE, related_name="pdf")
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.invoice_id}.pdf"
