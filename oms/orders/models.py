"""Orders, their lines, payments, customers, timeline and intake bookkeeping.

Money columns are integers of minor units (``*_minor``); the line money identity is a database
check constraint, so no code path can store a line whose amounts do not add up.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.catalog.models import Sku
from oms.channels.models import Channel, Classification
from oms.inventory.models import Warehouse
from oms.orders.domain.payments import PAYMENT_STATUS_LABELS, PaymentStatus
from oms.orders.domain.status import STATUS_LABELS, Status

STATUS_CHOICES = [(s.value, label) for s, (label, _en) in STATUS_LABELS.items()]
PAYMENT_STATUS_CHOICES = [(s.value, label) for s, (label, _en) in PAYMENT_STATUS_LABELS.items()]


# Where an order goes (the columns that make two orders "the same address" for merging and rules)…
RECEIVER_ADDRESS_FIELDS = (
    "receiver_name",
    "receiver_phone",
    "receiver_province",
    "receiver_city",
    "receiver_district",
    "receiver_address",
)
# …and every receiver column an order carries (copied whole when an order replaces another).
RECEIVER_FIELDS = (*RECEIVER_ADDRESS_FIELDS, "receiver_postcode")
# The buyer's invoice request (开票需求, L5): carried whole by a split or merge (S5).
INVOICE_FIELDS = (
    "invoice_kind",
    "invoice_type",
    "invoice_title",
    "invoice_tax_id",
    "invoice_email",
    "invoice_mobile",
    "invoice_address",
    "invoice_phone",
    "invoice_bank",
    "invoice_account",
)


class OrderType(models.TextChoices):
    SALE = "sale", _("销售订单 Sale")
    RETURN = "return", _("退货订单 Return")
    RESHIP = "reissue", _("补发订单 Reissue")
    EXCHANGE = "exchange", _("换货订单 Exchange")


class InvoiceKind(models.TextChoices):
    NONE = "none", _("No invoice")
    PERSONAL = "personal", _("Personal 个人")
    COMPANY = "company", _("Company 企业")


class InvoiceType(models.TextChoices):
    NORMAL = "normal", _("Electronic normal invoice 普通发票")
    SPECIAL = "special", _("VAT special invoice 增值税专用发票")
    PAPER = "paper", _("Paper invoice 纸质发票")


class Customer(models.Model):
    """A buyer, de-duplicated per (channel, platform buyer id): the same person on two platforms is two
    records, because platforms do not share buyer identities."""

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+")
    platform_buyer_id = models.CharField(_("platform buyer id"), max_length=64)
    nickname = models.CharField(_("nickname"), max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    remark = models.CharField(_("remark"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("first seen"), default=timezone.now)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(fields=["channel", "platform_buyer_id"], name="customer_unique_per_channel")
        ]

    def __str__(self) -> str:
        return self.nickname or self.name or self.platform_buyer_id


class CustomerInvoiceProfile(models.Model):
    """A buyer's invoice details kept for their next orders (reusable 发票抬头): the same columns as an order's
    request, one row per customer."""

    customer = models.OneToOneField(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="invoice_profile"
    )
    kind = models.CharField(_("title type"), max_length=8, choices=InvoiceKind.choices, default=InvoiceKind.PERSONAL)
    invoice_type = models.CharField(
        _("invoice type"), max_length=8, choices=InvoiceType.choices, default=InvoiceType.NORMAL
    )
    title = models.CharField(_("invoice title"), max_length=100)
    tax_id = models.CharField(_("taxpayer id"), max_length=20, blank=True)
    email = models.CharField(_("invoice email"), max_length=254, blank=True)
    mobile = models.CharField(_("invoice delivery phone"), max_length=32, blank=True)
    address = models.CharField(_("registered address"), max_length=200, blank=True)
    phone = models.CharField(_("registered phone"), max_length=32, blank=True)
    bank = models.CharField(_("bank"), max_length=100, blank=True)
    account = models.CharField(_("bank account"), max_length=40, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer invoice profile")
        verbose_name_plural = _("customer invoice profiles")

    def __str__(self) -> str:
        return self.title


class Order(models.Model):
    number = models.CharField(_("order number"), max_length=32, unique=True)
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+")
    # The intake key: (channel, platform order id) is taken once. Orders made by split/merge have none.
    platform_order_id = models.CharField(_("platform order id"), max_length=64, null=True, blank=True)
    # Every platform order this order answers for (a merged order carries several, S5).
    platform_order_ids = models.JSONField(_("platform order ids"), default=list)
    order_type = models.CharField(_("type"), max_length=8, choices=OrderType.choices, default=OrderType.SALE)
    classification = models.CharField(_("online/offline"), max_length=8, choices=Classification.choices)
    status = models.CharField(_("status"), max_length=20, choices=STATUS_CHOICES, default=Status.NEW.value)
    payment_status = models.CharField(
        _("payment status"), max_length=20, choices=PAYMENT_STATUS_CHOICES, default=PaymentStatus.UNPAID.value
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    receiver_name = models.CharField(_("receiver"), max_length=64)
    receiver_phone = models.CharField(_("receiver phone"), max_length=32)
    receiver_province = models.CharField(_("province (adcode)"), max_length=6)
    receiver_city = models.CharField(_("city"), max_length=32)
    receiver_district = models.CharField(_("district"), max_length=32, blank=True)
    receiver_address = models.CharField(_("address"), max_length=200)
    receiver_postcode = models.CharField(_("postcode"), max_length=6, blank=True)
    buyer_remark = models.CharField(_("buyer remark"), max_length=500, blank=True)
    seller_remark = models.CharField(_("seller remark"), max_length=500, blank=True)
    invoice_kind = models.CharField(_("invoice"), max_length=8, choices=InvoiceKind.choices, default=InvoiceKind.NONE)
    invoice_title = models.CharField(_("invoice title"), max_length=100, blank=True)
    invoice_tax_id = models.CharField(_("taxpayer id"), max_length=20, blank=True)
    invoice_email = models.CharField(_("invoice email"), max_length=254, blank=True)
    # What kind of invoice (普通 / 专用 / 纸质), where it is delivered besides the email, and what a VAT special
    # invoice (专票) also needs: the buyer's registered address and phone, bank and account.
    invoice_type = models.CharField(
        _("invoice type"), max_length=8, choices=InvoiceType.choices, default=InvoiceType.NORMAL
    )
    invoice_mobile = models.CharField(_("invoice delivery phone"), max_length=32, blank=True)
    invoice_address = models.CharField(_("registered address"), max_length=200, blank=True)
    invoice_phone = models.CharField(_("registered phone"), max_length=32, blank=True)
    invoice_bank = models.CharField(_("bank"), max_length=100, blank=True)
    invoice_account = models.CharField(_("bank account"), max_length=40, blank=True)
    is_presale = models.BooleanField(_("presale"), default=False)
    is_cod = models.BooleanField(_("cash on delivery"), default=False)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    goods_minor = models.BigIntegerField(_("goods"), default=0)
    line_discount_minor = models.BigIntegerField(_("item discounts"), default=0)
    order_discount_minor = models.BigIntegerField(_("order discount"), default=0)
    shipping_minor = models.BigIntegerField(_("shipping"), default=0)
    payable_minor = models.BigIntegerField(_("payable"), default=0)
    received_minor = models.BigIntegerField(_("received"), default=0)
    refunded_minor = models.BigIntegerField(_("refunded"), default=0)
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    has_unmapped_lines = models.BooleanField(_("has unmapped lines"), default=False)
    has_short_lines = models.BooleanField(_("short of stock"), default=False)
    # Filled by allocation and shipping work.
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    final_warehouse = models.ForeignKey(
        Warehouse,
        verbose_name=_("final shipping warehouse"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # By name: fulfillment sits above orders (it imports orders; orders never imports it).
    courier = models.ForeignKey(
        "fulfillment.Courier",
        verbose_name=_("courier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    # What the order said when it came in, canonical, and its hash: replays compare against these.
    intake_fingerprint = models.CharField(_("intake fingerprint"), max_length=64, blank=True)
    intake_snapshot = models.JSONField(_("as received"), null=True, blank=True)
    # The promotions the order received, as rules with what each took off and its share per line (L1): what a
    # return re-prices the kept units by (oms.orders.domain.promotions; line positions are line_no − 1).
    promotions = models.JSONField(_("promotions"), default=list, blank=True)
    # A line's paid amount as the platform divided it differs from ours (both are kept on the line).
    has_platform_mismatch = models.BooleanField(_("platform figures differ"), default=False)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("import_orders", _("Import orders from files")),
            ("cancel_order", _("Cancel orders")),
            ("review", _("Review orders")),
            ("split", _("Split orders")),
            ("merge", _("Merge orders")),
            ("edit_remarks", _("Edit seller remarks and invoice requests")),
        ]
        constraints = [
            # platform_order_id leads: it is the selective column, so a batch's replay lookup
            # (platform_order_id IN (...)) walks this index directly.
            models.UniqueConstraint(
                fields=["platform_order_id", "channel"],
                condition=Q(platform_order_id__isnull=False),
                name="order_intake_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(
                    payable_minor=F("goods_minor")
                    - F("line_discount_minor")
                    - F("order_discount_minor")
                    + F("shipping_minor")
                ),
                name="order_money_adds_up",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="order_created_keyset"),
            models.Index(fields=["status", "-created_at", "-id"], name="order_status_created"),
            models.Index(fields=["channel", "-created_at", "-id"], name="order_channel_created"),
            # A paid-time filter lists by payment time: the keyset seeks (paid_at, id) as it does (created_at, id).
            models.Index(fields=["-paid_at", "-id"], name="order_paid_keyset"),
            # Phone and name look-ups list newest first: the index yields page order and seeks to the cursor.
            models.Index(fields=["receiver_phone", "-created_at", "-id"], name="order_phone_created"),
            models.Index(fields=["receiver_name", "-created_at", "-id"], name="order_name_created"),
            models.Index(fields=["status", "placed_at"], name="order_status_placed"),
            # The report rollups read which orders changed since their cursor, and recompute a placing day.
            models.Index(fields=["updated_at"], name="order_updated_at"),
            models.Index(fields=["placed_at"], name="order_placed_at"),
        ]

    def __str__(self) -> str:
        return self.number

    def receiver_address_key(self) -> tuple[str, ...]:
        """The receiver and address (no postcode): equal keys mean one delivery address."""
        return tuple(getattr(self, name) for name in RECEIVER_ADDRESS_FIELDS)


class OrderPlatformRef(models.Model):
    """Which order answers for a platform order id: the lookup behind the platform-order-id filter."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="platform_refs")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    platform_order_id = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["platform_order_id"], name="order_ref_platform_id")]

    def __str__(self) -> str:
        return f"{self.platform_order_id} → {self.order_id}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField(_("line"))
    # Null when the platform SKU maps to nothing yet: kept and flagged, never dropped.
    sku = models.ForeignKey(
        Sku, verbose_name=_("SKU"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    platform_sku_code = models.CharField(_("platform SKU"), max_length=64, blank=True)
    platform_line_id = models.CharField(_("platform line id"), max_length=64, blank=True)
    name = models.CharField(_("name at trade time"), max_length=200, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price_minor = models.BigIntegerField(_("unit price"))
    gross_minor = models.BigIntegerField(_("gross"))
    line_discount_minor = models.BigIntegerField(_("item discount"), default=0)
    order_discount_minor = models.BigIntegerField(_("order discount share"), default=0)
    shipping_minor = models.BigIntegerField(_("shipping share"), default=0)
    paid_minor = models.BigIntegerField(_("paid"))
    promotions = models.JSONField(_("promotions"), default=list, blank=True)
    is_gift = models.BooleanField(_("gift"), default=False)
    # Presale goods (预售) ship later than in-stock goods; an order with any presale line is a presale order.
    is_presale = models.BooleanField(_("presale"), default=False)
    tax_rate_bp = models.PositiveIntegerField(_("tax rate (bp)"), default=0)
    short_quantity = models.PositiveIntegerField(_("short"), default=0)
    # What the platform says the line was paid (its own apportionment), beside ours; null when it sends none.
    platform_paid_minor = models.BigIntegerField(_("paid (platform's figure)"), null=True, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="order_line_no_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_qty_positive"),
            models.CheckConstraint(condition=Q(unit_price_minor__gte=0), name="order_line_price_not_negative"),
            models.CheckConstraint(
                condition=Q(gross_minor=F("unit_price_minor") * F("quantity")), name="order_line_gross"
            ),
            models.CheckConstraint(
                condition=Q(
                    paid_minor=F("gross_minor")
                    - F("line_discount_minor")
                    - F("order_discount_minor")
                    + F("shipping_minor")
                ),
                name="order_line_money_adds_up",
            ),
        ]
        indexes = [models.Index(fields=["sku", "order"], name="order_line_sku")]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.line_no}"

    @property
    def is_unmapped(self) -> bool:
        return self.sku_id is None


class OrderLineVersion(models.Model):
    """A line's figures after a return (重摊): the units the buyer keeps, what they have paid for them and the
    shipping part, re-apportioned exactly, beside the original purchase figures on the line. The latest version
    is what later returns, invoices and reports use; ``source`` names what made it (an after-sales case)."""

    line = models.ForeignKey(OrderLine, verbose_name=_("order line"), on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    quantity = models.PositiveIntegerField(_("quantity kept"))
    paid_minor = models.BigIntegerField(_("paid"))
    shipping_minor = models.BigIntegerField(_("shipping share"), default=0)
    source = models.CharField(_("source"), max_length=32)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("order line version")
        verbose_name_plural = _("order line versions")
        ordering = ["line_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["line", "version"], name="order_line_version_once"),
            models.CheckConstraint(
                condition=Q(paid_minor__gte=0, shipping_minor__gte=0, shipping_minor__lte=F("paid_minor")),
                name="order_line_version_money",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} v{self.version}"


class PlatformSkuMapping(models.Model):
    """A platform's SKU code → our SKU, where the platform code is not our merchant code (manual override)."""

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+")
    platform_sku_code = models.CharField(_("platform SKU code"), max_length=64)
    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("platform SKU mapping")
        verbose_name_plural = _("platform SKU mappings")
        constraints = [
            models.UniqueConstraint(fields=["channel", "platform_sku_code"], name="platform_sku_mapping_unique")
        ]

    def __str__(self) -> str:
        return f"{self.platform_sku_code} → {self.sku_id}"


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")


class Payment(models.Model):
    """One money movement reported by a payment method. (method, transaction id, kind) is taken once,
    so a repeated callback finds the row it already made."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("method"), max_length=32)
    transaction_id = models.CharField(_("transaction id"), max_length=64)
    kind = models.CharField(_("kind"), max_length=8, choices=PaymentKind.choices, default=PaymentKind.PAYMENT)
    amount_minor = models.BigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    paid_at = models.DateTimeField(_("paid at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    # A payment that arrives after the order was cancelled/closed: money to give back, not a reopened order.
    needs_refund = models.BooleanField(_("needs refund"), default=False)
    # How much of it is still owed back. Set when it was flagged (all of a payment on a cancelled order, what
    # no living successor owed of one naming a replaced order, a cancelled order's money over its payments);
    # each refund recorded since took its share off (RefundSettlement), and at 0 the flag clears.
    refund_due_minor = models.BigIntegerField(_("refund due"), default=0)
    # Of a refund: how much of it is beyond what the order had received and not yet refunded. That money was
    # never taken, so it is an anomaly for finance to look into: shown apart, never settling anything owed
    # back and never counted as cash refunded.
    excess_minor = models.BigIntegerField(_("refunded beyond received"), default=0)
    raw = models.JSONField(_("as received"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["paid_at", "id"]
        permissions = [("record_payment", _("Record payments"))]
        constraints = [
            models.UniqueConstraint(fields=["method", "transaction_id", "kind"], name="payment_once_per_txn"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refund_due_minor__gte=0, refund_due_minor__lte=F("amount_minor")),
                name="payment_refund_due_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(excess_minor__gte=0, excess_minor__lte=F("amount_minor")),
                name="payment_excess_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method}:{self.transaction_id}"


class RefundSettlement(models.Model):
    """How much of a refund paid back what one payment owed: that payment's ``refund_due_minor`` went down by
    exactly this much when the refund was recorded. A refund's amount beyond its settlements owed nothing."""

    refund = models.ForeignKey(Payment, verbose_name=_("refund"), on_delete=models.PROTECT, related_name="settlements")
    payment = models.ForeignKey(Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="settled_by")
    amount_minor = models.BigIntegerField(_("amount"))
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("refund settlement")
        verbose_name_plural = _("refund settlements")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["refund", "payment"], name="refund_settles_payment_once"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="refund_settlement_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.refund_id}→{self.payment_id} {self.amount_minor}"


class OrderEvent(models.Model):
    """The order's timeline (O3, O6): every status change and every notable thing that happened to it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("event"), max_length=32)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    data = models.JSONField(_("data"), null=True, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["order", "at"], name="order_event_order_at")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key (like Stripe's): the first response is stored and replayed."""

    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True)
    # The claim of the request running it holds until then; after it, a retry may take the claim over (the
    # claimant died between claiming and storing its answer). ``attempt`` counts claims: only the latest
    # claimant stores its answer.
    lease_until = models.DateTimeField(null=True)
    attempt = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["operator", "key"], name="idempotency_key_unique")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return self.key


class ImportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """An order file imported in the background: the upload kept until the worker has read it, progress
    as orders done of orders found, the counts and the row-level report when it ends."""

    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(_("file"), max_length=255)
    content = models.BinaryField(_("content"), default=b"")  # emptied once read
    state = models.CharField(_("state"), max_length=16, choices=ImportState.choices, default=ImportState.QUEUED)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    done = models.PositiveIntegerField(_("orders done"), default=0)
    created = models.PositiveIntegerField(_("imported"), default=0)
    existing = models.PositiveIntegerField(_("already imported"), default=0)
    failed = models.PositiveIntegerField(_("refused"), default=0)
    report = models.JSONField(_("report"), default=list, blank=True)  # [[row, platform order id, column, message]]
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["operator", "-created_at"], name="import_job_operator")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.state})"

    @property
    def percent(self) -> int:
        return 100 if self.state == ImportState.DONE else (100 * self.done // self.orders if self.orders else 0)
