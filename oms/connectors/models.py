"""Shops connected to a platform, their encrypted credentials, pull cursor and the record of every pull.

A shop is one of our sales channels connected through a platform's open API. What was pulled is kept per
platform order (`PulledOrder`: the version seen last, the platform's own money division), what could not be
taken in is kept as a failed pull item with its reason (`PullItem`), and each pull leaves a `PullRun`.
Operator-facing reasons are stored as codes + parameters and rendered in the reader's language.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ConnectorPlatform(models.TextChoices):
    TAOBAO = "taobao", _("Taobao/Tmall 淘宝/天猫")
    JD = "jd", _("JD 京东")
    DOUYIN = "douyin", _("Douyin shop 抖店")
    PINDUODUO = "pinduoduo", _("Pinduoduo 拼多多")
    SHOPIFY = "shopify", _("Shopify")


class ShopStatus(models.TextChoices):
    NEW = "new", _("Not pulled yet")
    OK = "ok", _("Connected")
    ERROR = "error", _("Last pull failed")
    AUTH_EXPIRED = "auth_expired", _("Token expired or refused")
    DISABLED = "disabled", _("Disabled")


class Shop(models.Model):
    channel = models.OneToOneField(
        "channels.Channel", verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+"
    )
    platform = models.CharField(_("platform"), max_length=16, choices=ConnectorPlatform.choices)
    base_url = models.URLField(_("API address"), help_text=_("The platform's API gateway, or the simulator's."))
    shop_ref = models.CharField(_("shop id on the platform"), max_length=128, blank=True)
    # Fernet tokens (oms.connectors.crypto): never shown back, never written to the operation log.
    app_key_sealed = models.TextField(_("app key (encrypted)"), blank=True, editable=False)
    app_secret_sealed = models.TextField(_("app secret (encrypted)"), blank=True, editable=False)
    access_token_sealed = models.TextField(_("access token (encrypted)"), blank=True, editable=False)
    token_expires_at = models.DateTimeField(_("token expires at"), null=True, blank=True)
    enabled = models.BooleanField(_("pull on schedule"), default=True)
    pull_interval_s = models.PositiveIntegerField(_("pull every (seconds)"), default=300)
    overlap_s = models.PositiveIntegerField(_("window overlap (seconds)"), default=600)
    pull_from = models.DateTimeField(_("first pull from"), null=True, blank=True)
    # End of the last window pulled completely; the next pull starts an overlap before it.
    cursor_at = models.DateTimeField(_("pulled up to"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=ShopStatus.choices, default=ShopStatus.NEW)
    last_pull_at = models.DateTimeField(_("last pull"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last successful pull"), null=True, blank=True)
    last_error_code = models.CharField(_("last error"), max_length=64, blank=True)
    last_error_params = models.JSONField(_("last error details"), default=dict, blank=True)
    # Lease of the pull running now (one pull per shop at a time); None when idle.
    pulling_until = models.DateTimeField(_("pull running until"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("connected shop")
        verbose_name_plural = _("connected shops")
        ordering = ["id"]
        permissions = [
            ("pull_shop", _("Pull a shop's orders now or back-fill a date range")),
            ("manage_credentials", _("Connect shops and set their credentials")),
            ("retry_pullitem", _("Retry failed pull items")),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} · {self.channel_id}"


class PulledOrder(models.Model):
    """The latest version of one platform order we have taken in, and the platform's own money division."""

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+")
    platform_order_id = models.CharField(_("platform order id"), max_length=64)
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.CharField(_("native version"), max_length=64)
    modified_at = models.DateTimeField(_("modified on the platform"))
    phase = models.CharField(_("platform phase"), max_length=16)
    native_status = models.CharField(_("platform status"), max_length=64)
    buyer_token = models.CharField(_("buyer token"), max_length=128, blank=True)
    receiver_token = models.CharField(_("receiver token"), max_length=128, blank=True)
    receiver_masked = models.BooleanField(_("receiver masked"), default=False)
    # {platform line id: paid minor} as the platform divided it, and lines where ours differs.
    platform_shares = models.JSONField(_("platform per-line payment"), default=dict)
    share_mismatches = models.JSONField(_("per-line payment mismatches"), default=list, blank=True)
    has_share_mismatch = models.BooleanField(_("payment division differs"), default=False)
    first_pulled_at = models.DateTimeField(_("first pulled"))
    last_pulled_at = models.DateTimeField(_("last pulled"))
    last_outcome = models.CharField(_("last outcome"), max_length=32)

    class Meta:
        verbose_name = _("pulled order")
        verbose_name_plural = _("pulled orders")
        constraints = [
            models.UniqueConstraint(fields=["shop", "platform_order_id"], name="pulledorder_unique_per_shop")
        ]
        indexes = [models.Index(fields=["shop", "-last_pulled_at"], name="pulledorder_recent")]

    def __str__(self) -> str:
        return self.platform_order_id


class PullItemState(models.TextChoices):
    FAILED = "failed", _("Failed")
    RESOLVED = "resolved", _("Taken in")


class PullItem(models.Model):
    """A native order that could not be taken in: its payload and reason, retryable from the console."""

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+")
    platform_order_id = models.CharField(_("platform order id"), max_length=64)
    native = models.JSONField(_("native payload"))
    modified_at = models.DateTimeField(_("modified on the platform"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=PullItemState.choices, default=PullItemState.FAILED)
    reason_code = models.CharField(_("reason"), max_length=64)
    reason_field = models.CharField(_("field"), max_length=200, blank=True)
    reason_params = models.JSONField(_("reason details"), default=dict, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    created_at = models.DateTimeField(_("first failed"))
    updated_at = models.DateTimeField(_("last tried"))

    class Meta:
        verbose_name = _("failed pull item")
        verbose_name_plural = _("failed pull items")
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "platform_order_id"], name="pullitem_unique_per_shop")]
        indexes = [
            models.Index(fields=["shop", "state"], name="pullitem_open", condition=Q(state="failed")),
        ]

    def __str__(self) -> str:
        return f"{self.platform_order_id}: {self.reason_code}"


class PullKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    NOW = "now", _("Pull now")
    BACKFILL = "backfill", _("Back-fill")
    RETRY = "retry", _("Retry of failed items")


class PullRun(models.Model):
    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=PullKind.choices)
    window_from = models.DateTimeField(_("from"), null=True, blank=True)
    window_to = models.DateTimeField(_("to"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    calls = models.PositiveIntegerField(_("platform calls"), default=0)
    retries = models.PositiveIntegerField(_("retries"), default=0)
    fetched = models.PositiveIntegerField(_("fetched"), default=0)
    created = models.PositiveIntegerField(_("new orders"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    error_code = models.CharField(_("error"), max_length=64, blank=True)
    error_params = models.JSONField(_("error details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("pull run")
        verbose_name_plural = _("pull runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["shop", "-started_at"], name="pullrun_recent")]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.kind} {self.started_at:%Y-%m-%d %H:%M}"


class WriteBackState(models.TextChoices):
    DONE = "done", _("Written back")
    FAILED = "failed", _("Failed (the outbox retries)")


class WriteBack(models.Model):
    """One tracking or stock event written back to the platform through the shop's adapter (consumers
    dedupe on the outbox event id: a repeated delivery of a done event is answered without a call)."""

    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="+")
    event_id = models.UUIDField(_("event id"))
    kind = models.CharField(_("kind"), max_length=16)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=8, choices=WriteBackState.choices)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    error_code = models.CharField(_("error"), max_length=64, blank=True)
    error_params = models.JSONField(_("error details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("first tried"))
    updated_at = models.DateTimeField(_("last tried"))

    class Meta:
        verbose_name = _("write-back")
        verbose_name_plural = _("write-backs")
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "event_id"], name="writeback_once_per_event")]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}"
