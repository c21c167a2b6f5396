from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oms.catalog.models import code_validator
from oms.core.rules import RuleParseError, compile_condition
from oms.orders.models import Order
from oms.review.domain.facts import ORDER_FACTS


class RuleKind(models.TextChoices):
    REVIEW = "review", _("Review 审单")
    WAREHOUSE = "warehouse", _("Warehouse 分仓")
    COURIER = "courier", _("Courier 快递")


class Rule(models.Model):
    """One rule of an ordered list: a condition over ORDER_FACTS and what to do when it holds.

    Review rules intercept; warehouse and courier rules carry their target in ``params``.
    """

    kind = models.CharField(_("kind"), max_length=12, choices=RuleKind.choices, default=RuleKind.REVIEW)
    code = models.CharField(_("code"), max_length=32, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    condition = models.TextField(_("condition"))
    reason = models.CharField(_("reason shown to operators"), max_length=200, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    priority = models.PositiveIntegerField(_("priority"), default=100, help_text=_("Lower runs first."))
    enabled = models.BooleanField(_("enabled"), default=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        ordering = ["kind", "priority", "id"]
        permissions = [("edit_rules", _("Edit review, warehouse and courier rules"))]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="rule_code_unique_per_kind")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            compile_condition(self.condition, ORDER_FACTS)
        except RuleParseError as exc:
            raise ValidationError({"condition": exc.message}) from exc


class InterceptionState(models.TextChoices):
    OPEN = "open", _("Open 拦截中")
    RELEASED = "released", _("Released 已放行")
    VOID = "void", _("Void 已作废")


class Interception(models.Model):
    """A hold on an order (拦截记录). An order with an open interception cannot pass review or go out."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="interceptions")
    rule = models.ForeignKey(
        Rule, verbose_name=_("rule"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason_code = models.CharField(_("reason code"), max_length=32)
    reason = models.CharField(_("reason"), max_length=300)
    state = models.CharField(_("state"), max_length=10, choices=InterceptionState.choices, default="open")
    after_review = models.BooleanField(_("raised after review"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_note = models.CharField(_("resolution note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("interception")
        verbose_name_plural = _("interceptions")
        ordering = ["-created_at", "-id"]
        permissions = [("release_interception", _("Release interceptions"))]
        indexes = [
            models.Index(fields=["state", "reason_code", "-created_at"], name="interception_queue"),
            models.Index(fields=["order", "state"], name="interception_order_state"),
        ]
        constraints = [
            # One open hold per (order, reason): re-running review does not pile up duplicates.
            models.UniqueConstraint(
                fields=["order", "reason_code"], condition=Q(state="open"), name="interception_open_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.reason_code}"


class BlacklistKind(models.TextChoices):
    BUYER = "buyer", _("Platform buyer id")
    PHONE = "phone", _("Phone")
    ADDRESS = "address", _("Address keyword")


class BlacklistEntry(models.Model):
    kind = models.CharField(_("kind"), max_length=8, choices=BlacklistKind.choices)
    value = models.CharField(_("value"), max_length=200)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("blacklist entry")
        verbose_name_plural = _("blacklist")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="blacklist_unique")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class RefundRequest(models.Model):
    """A refund the buyer asked for on the platform. While open, the order is held up to dispatch."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="+")
    platform_refund_id = models.CharField(_("platform refund id"), max_length=64)
    amount_minor = models.BigIntegerField(_("amount"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    is_open = models.BooleanField(_("open"), default=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("platform refund request")
        verbose_name_plural = _("platform refund requests")
        constraints = [
            models.UniqueConstraint(fields=["order", "platform_refund_id"], name="refund_request_once"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="refund_request_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.platform_refund_id
