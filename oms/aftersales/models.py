"""After-sales cases (售后单): the case, the units it covers, its timeline, and each channel's refund policy.

Aftersales writes only these tables; money moves through orders' payment services, goods through inventory's
stock-document services, holds through review's services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.aftersales.domain import states
from oms.aftersales.domain.recalculate import GIFT_RULES, POLICIES, SHIPPING_RULES
from oms.channels.models import Channel
from oms.orders.models import Order, OrderLine

KIND_CHOICES = [
    (states.REFUND_ONLY, _("Refund only 仅退款")),
    (states.RETURN_REFUND, _("Return and refund 退货退款")),
    (states.EXCHANGE, _("Exchange 换货")),
    (states.REISSUE, _("Reissue 补发")),
    (states.REJECTED, _("Refused delivery 拒收")),
]
STATUS_CHOICES = [
    (states.REQUESTED, _("Requested 待审核")),
    (states.APPROVED, _("Approved 已同意")),
    (states.REFUSED, _("Refused 已拒绝")),
    (states.AWAITING_RETURN, _("Awaiting return 待退回")),
    (states.RECEIVED, _("Received 已收货")),
    (states.INSPECTED, _("Inspected 已质检")),
    (states.REFUNDING, _("Refunding 退款中")),
    (states.REFUNDED, _("Refunded 已退款")),
    (states.CLOSED, _("Closed 已关闭")),
]
REASON_CHOICES = [
    ("quality", _("Quality problem 质量问题")),
    ("no_reason_7_days", _("7-day no-reason return 七天无理由")),
    ("wrong_item", _("Wrong item 发错货")),
    ("missing_item", _("Missing item 漏发")),
    ("damaged_in_transit", _("Damaged in transit 运输损坏")),
    ("rejected", _("Refused delivery 拒收")),
    ("other", _("Other 其他")),
]
POLICY_CHOICES = [("recalculate", _("Recalculate 重算")), ("proportional", _("Proportional 按比例"))]
SHIPPING_CHOICES = [
    ("all_returned", _("Only when everything comes back")),
    ("never", _("Never")),
    ("proportional", _("With the units")),
]
GIFT_CHOICES = [("charge", _("Charge the gift's value")), ("must_return", _("The gift must come back"))]
assert [c for c, _l in POLICY_CHOICES] == list(POLICIES)
assert [c for c, _l in SHIPPING_CHOICES] == list(SHIPPING_RULES)
assert [c for c, _l in GIFT_CHOICES] == list(GIFT_RULES)


class ChannelPolicy(models.Model):
    """How a channel's returns are refunded: recalculate (the merchant's own channels) or proportional (as the
    big platforms do), shipping's rule, and a gift kept under a lost threshold. No row: recalculate."""

    channel = models.OneToOneField(Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="+")
    method = models.CharField(_("refund policy"), max_length=16, choices=POLICY_CHOICES, default="recalculate")
    shipping = models.CharField(_("shipping refund"), max_length=16, choices=SHIPPING_CHOICES, default="all_returned")
    gift = models.CharField(_("gift under a lost threshold"), max_length=16, choices=GIFT_CHOICES, default="charge")

    class Meta:
        verbose_name = _("after-sales policy")
        verbose_name_plural = _("after-sales policies")

    def __str__(self) -> str:
        return f"{self.channel_id}: {self.method}"


class Case(models.Model):
    number = models.CharField(_("case number"), max_length=32, unique=True)
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=KIND_CHOICES)
    status = models.CharField(_("status"), max_length=16, choices=STATUS_CHOICES, default=states.REQUESTED)
    reason_code = models.CharField(_("reason"), max_length=24, choices=REASON_CHOICES)
    note = models.CharField(_("note"), max_length=500, blank=True)
    evidence = models.JSONField(_("evidence"), default=list, blank=True)  # references (photo ids, URLs)
    # The client's key for this request: a replay of the same key on the same order returns the same case.
    request_key = models.CharField(_("request key"), max_length=64, blank=True)
    method = models.CharField(_("refund policy"), max_length=16, choices=POLICY_CHOICES)
    shipping_rule = models.CharField(_("shipping refund"), max_length=16, choices=SHIPPING_CHOICES)
    gift_rule = models.CharField(_("gift rule"), max_length=16, choices=GIFT_CHOICES)
    override_reason = models.CharField(_("policy override reason"), max_length=300, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    refund_minor = models.BigIntegerField(_("refund"), default=0)
    # An exchange whose replacements cost more than the return frees: what the buyer still pays (on the exchange
    # order, which waits for it).
    owed_minor = models.BigIntegerField(_("buyer pays"), default=0)
    # What refunds recorded on the order have settled of refund_minor so far (partial refunds add up).
    settled_minor = models.BigIntegerField(_("refund settled"), default=0)
    kept_charge_minor = models.BigIntegerField(_("kept units cost"), default=0)
    explanation = models.JSONField(_("explanation"), default=list, blank=True)  # codes + parameters
    blocking = models.JSONField(_("blocking"), default=list, blank=True)
    refund_request = models.ForeignKey(
        "review.RefundRequest",
        verbose_name=_("platform refund request"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    refund_transaction = models.CharField(_("refund transaction"), max_length=100, blank=True)
    # The outbound order this case made: a reissue (补发) sent at no charge, or an exchange's (换货订单).
    linked_order = models.ForeignKey(
        Order, verbose_name=_("linked order"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Where the goods are expected back (the order's warehouse by default), and the stock receipt that took them
    # in on inspection (good units on hand, defective ones as defective stock), through inventory's services.
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        verbose_name=_("return warehouse"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    receipt_document = models.ForeignKey(
        "inventory.StockDocument",
        verbose_name=_("return receipt"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Taken by the inspection that posts the stock receipt, so two inspections never post it twice; a claim older
    # than the lease (a crash between claim and receipt) may be taken over by a retry.
    receipt_claimed_at = models.DateTimeField(_("receipt claimed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("after-sales case")
        verbose_name_plural = _("after-sales cases")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("approve_case", _("Approve or refuse after-sales cases")),
            ("receive_return", _("Receive returned goods")),
            ("inspect_return", _("Inspect returned goods")),
            ("refund_case", _("Refund after-sales cases")),
            ("override_policy", _("Override the refund policy of a case")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "request_key"], condition=~Q(request_key=""), name="case_request_once"
            ),
            models.CheckConstraint(condition=Q(refund_minor__gte=0), name="case_refund_not_negative"),
            models.CheckConstraint(condition=Q(owed_minor__gte=0), name="case_owed_not_negative"),
            models.CheckConstraint(
                condition=Q(settled_minor__gte=0, settled_minor__lte=F("refund_minor")), name="case_settled_in_refund"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="case_status_created"),
            models.Index(fields=["order"], name="case_order"),
        ]

    def __str__(self) -> str:
        return self.number


class CaseLine(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("units"))
    received_quantity = models.PositiveIntegerField(_("received"), default=0)
    good_quantity = models.PositiveIntegerField(_("good"), default=0)
    defective_quantity = models.PositiveIntegerField(_("defective"), default=0)

    class Meta:
        verbose_name = _("case line")
        verbose_name_plural = _("case lines")
        ordering = ["case_id", "line_id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "line"], name="case_line_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="case_line_units_positive"),
            models.CheckConstraint(condition=Q(received_quantity__lte=F("quantity")), name="case_line_received"),
            models.CheckConstraint(
                condition=Q(good_quantity__lte=F("received_quantity") - F("defective_quantity")),
                name="case_line_inspected",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.line_id}×{self.quantity}"


class CaseReplacement(models.Model):
    """What an exchange sends instead of returned units: a SKU, units, its list price, and what the exchange
    priced them at (the line of the exchange order), in the place of a returned order line."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="replacements")
    replaces = models.ForeignKey(OrderLine, verbose_name=_("in place of"), on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("units"))
    unit_price_minor = models.BigIntegerField(_("unit price"))
    paid_minor = models.BigIntegerField(_("priced at"), default=0)

    class Meta:
        verbose_name = _("exchange replacement")
        verbose_name_plural = _("exchange replacements")
        ordering = ["case_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="case_replacement_units_positive"),
            models.CheckConstraint(
                condition=Q(unit_price_minor__gte=0, paid_minor__gte=0), name="case_replacement_money"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.sku_id}×{self.quantity}"


class CaseEvent(models.Model):
    """The case's timeline: every step, who took it and its data (codes + parameters)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("event"), max_length=32)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    data = models.JSONField(_("data"), null=True, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"
