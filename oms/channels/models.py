from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from oms.catalog.models import code_validator
from oms.core.domain.money import CURRENCY_EXPONENTS


class Platform(models.TextChoices):
    TMALL = "tmall", _("Tmall 天猫")
    JD = "jd", _("JD 京东")
    VIP = "vip", _("VIP.com 唯品会")
    DOUYIN = "douyin", _("Douyin 抖音")
    STORE = "store", _("Offline store 线下门店")
    DISTRIBUTOR = "distributor", _("Distributor 经销商")
    MANUAL = "manual", _("Manual entry 手工")


class Classification(models.TextChoices):
    ONLINE = "online", _("Online 线上")
    OFFLINE = "offline", _("Offline 线下")


OFFLINE_PLATFORMS = {Platform.STORE}
ONLINE_PLATFORMS = {Platform.TMALL, Platform.JD, Platform.VIP, Platform.DOUYIN}


class Channel(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=100)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    classification = models.CharField(
        _("online/offline"), max_length=8, choices=Classification.choices, default=Classification.ONLINE
    )
    currency = models.CharField(
        _("currency"), max_length=3, default="CNY", choices=[(c, c) for c in sorted(CURRENCY_EXPONENTS)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.platform in ONLINE_PLATFORMS and self.classification != Classification.ONLINE:
            raise ValidationError({"classification": _("An e-commerce platform shop is an online channel.")})
        if self.platform in OFFLINE_PLATFORMS and self.classification != Classification.OFFLINE:
            raise ValidationError({"classification": _("An offline store is an offline channel.")})


class ChannelWarehouse(models.Model):
    """A warehouse whose stock feeds the channel's allocation pool."""

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="+")
    warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+"
    )
    include_in_transit = models.BooleanField(
        _("count in-transit stock"), default=False, help_text=_("Units on their way to this warehouse feed the pool.")
    )

    class Meta:
        verbose_name = _("channel warehouse")
        verbose_name_plural = _("channel warehouses")
        constraints = [models.UniqueConstraint(fields=["channel", "warehouse"], name="channelwarehouse_unique")]

    def __str__(self) -> str:
        return f"{self.channel_id}→{self.warehouse_id}"


class RuleScope(models.TextChoices):
    ALL = "all", _("All SKUs")
    CATEGORY = "category", _("Category")
    SKU = "sku", _("SKU")


class RuleMethod(models.TextChoices):
    RATIO = "ratio", _("Ratio of the pool 比例")
    FIXED = "fixed", _("Fixed quantity 固定数量")
    FORECAST = "forecast", _("Forecast-weighted 按销量预测")


class AllocationRule(models.Model):
    """How much of the pool a channel gets (C1). The most specific active rule of a channel applies to a SKU
    (SKU, then category, then all); channels are served in rule priority order when the pool is short."""

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(_("scope"), max_length=8, choices=RuleScope.choices, default=RuleScope.ALL)
    category = models.ForeignKey(
        "catalog.Category", verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE
    )
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), null=True, blank=True, on_delete=models.CASCADE)
    method = models.CharField(_("method"), max_length=8, choices=RuleMethod.choices, default=RuleMethod.RATIO)
    ratio_bp = models.PositiveIntegerField(
        _("ratio (basis points)"),
        default=10_000,
        help_text=_("5000 means half of the pool (basis points: 10000 is all of it)."),
    )
    fixed_quantity = models.PositiveIntegerField(_("fixed quantity"), default=0)
    forecast_days = models.PositiveIntegerField(_("forecast window (days)"), default=30)
    min_quantity = models.PositiveIntegerField(
        _("minimum"), default=0, help_text=_("Quota aimed at when the pool allows; below it the channel shows 0.")
    )
    max_quantity = models.PositiveIntegerField(_("maximum"), null=True, blank=True)
    safety_stock = models.PositiveIntegerField(
        _("safety stock"), default=0, help_text=_("Units kept back from the figure pushed to the platform.")
    )
    priority = models.PositiveIntegerField(_("priority"), default=100, help_text=_("Lower is served first."))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("allocation rule")
        verbose_name_plural = _("allocation rules")
        ordering = ["channel", "priority", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ratio_bp__lte=10_000), name="rule_ratio_at_most_100pct"),
            models.CheckConstraint(
                condition=models.Q(max_quantity__isnull=True) | models.Q(max_quantity__gte=models.F("min_quantity")),
                name="rule_max_ge_min",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(scope="all", category__isnull=True, sku__isnull=True)
                    | models.Q(scope="category", category__isnull=False, sku__isnull=True)
                    | models.Q(scope="sku", sku__isnull=False, category__isnull=True)
                ),
                name="rule_scope_target",
            ),
        ]
        permissions = [("allocate_stock", "Can edit allocation rules and reallocate channel stock")]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.scope} {self.method}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.scope == RuleScope.CATEGORY and not self.category_id:
            errors["category"] = str(_("Choose the category this rule applies to."))
        if self.scope == RuleScope.SKU and not self.sku_id:
            errors["sku"] = str(_("Choose the SKU this rule applies to."))
        if self.max_quantity is not None and self.max_quantity < self.min_quantity:
            errors["max_quantity"] = str(_("The maximum cannot be below the minimum."))
        if self.ratio_bp > 10_000:
            errors["ratio_bp"] = str(_("A ratio is at most 10000 basis points (100%)."))
        if errors:
            raise ValidationError(errors)


class ChannelStock(models.Model):
    """A channel's stock of one SKU (C2): ``available = quota − sales_reserved − return_reserved``.

    ``quota`` comes from the allocation rules and never drops below what is reserved (a check constraint);
    ``pushed`` is the figure for the platform (available less safety stock, 0 below the minimum, capped at the
    maximum) and ``pushed_at`` when it last changed, which the delta feed reads. ``safety_stock``,
    ``min_quantity`` and ``max_quantity`` are copied from the rule at allocation time so that reservations can
    recompute ``pushed`` without reading rules.
    """

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+")
    quota = models.BigIntegerField(_("quota"), default=0)
    sales_reserved = models.BigIntegerField(_("sales reserved 销售预占"), default=0)
    return_reserved = models.BigIntegerField(_("return reserved 退仓预占"), default=0)
    safety_stock = models.BigIntegerField(_("safety stock"), default=0)
    min_quantity = models.BigIntegerField(_("minimum"), default=0)
    max_quantity = models.BigIntegerField(_("maximum"), null=True, blank=True)
    pushed = models.BigIntegerField(_("pushed figure"), default=0)
    # Not indexed on purpose: reservations update this row more than any other in the system, and an indexed
    # column changing would make every one of those updates non-HOT (a new entry in every index). The feed's
    # "changed since" reads one channel's rows through (channel, SKU) and filters on this column.
    pushed_at = models.DateTimeField(_("pushed figure changed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("channel stock")
        verbose_name_plural = _("channel stock")
        constraints = [
            models.UniqueConstraint(fields=["channel", "sku"], name="channelstock_unique"),
            models.CheckConstraint(condition=models.Q(sales_reserved__gte=0), name="channelstock_sales_nonneg"),
            models.CheckConstraint(condition=models.Q(return_reserved__gte=0), name="channelstock_return_nonneg"),
            models.CheckConstraint(
                condition=models.Q(quota__gte=models.F("sales_reserved") + models.F("return_reserved")),
                name="channelstock_quota_covers_reserved",
            ),
            models.CheckConstraint(condition=models.Q(pushed__gte=0), name="channelstock_pushed_nonneg"),
        ]
        permissions = [("view_channel_stock", "Can view channel stock and the available-to-sell feed")]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.sku_id}"

    @property
    def available(self) -> int:
        return self.quota - self.sales_reserved - self.return_reserved


class AvailabilityChange(models.Model):
    """The available-to-sell change log: one row each time a channel's pushed figure for a SKU changes,
    so that only changed SKUs are pushed to the platform."""

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="+")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.CASCADE, related_name="+")
    available = models.BigIntegerField(_("available"))
    pushed = models.BigIntegerField(_("pushed figure"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("available-to-sell change")
        verbose_name_plural = _("available-to-sell changes")
        indexes = [models.Index(fields=["channel", "created_at"], name="availchange_channel_time")]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.sku_id}={self.pushed}"


class StockPushCursor(models.Model):
    """How far the platform stock push has read a channel's change log, and what its last run did.

    ``last_change_id`` only moves past changes older than the settle window, so a change written by a
    transaction that committed after a newer one is still read; re-reading is harmless because
    ``PlatformStockFigure`` remembers what each SKU's platform was last sent."""

    channel = models.OneToOneField(
        Channel, verbose_name=_("channel"), on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_change_id = models.BigIntegerField(_("change log cursor"), default=0)
    pushed_at = models.DateTimeField(_("last pushed at"), null=True, blank=True)
    last_skus = models.PositiveIntegerField(_("SKUs in the last push"), default=0)
    last_events = models.PositiveIntegerField(_("events in the last push"), default=0)

    class Meta:
        verbose_name = _("stock push cursor")
        verbose_name_plural = _("stock push cursors")
        permissions = [("push_channel_stock", "Can push available-to-sell figures to the platforms now")]

    def __str__(self) -> str:
        return f"{self.channel_id}@{self.last_change_id}"


class PlatformStockFigure(models.Model):
    """The figure last sent to a channel's platform for a SKU (bundles included): a SKU is pushed again only
    when its figure differs from this."""

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="+")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.CASCADE, related_name="+")
    quantity = models.BigIntegerField(_("quantity sent"))
    event_id = models.UUIDField(_("event id"))
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("platform stock figure")
        verbose_name_plural = _("platform stock figures")
        constraints = [models.UniqueConstraint(fields=["channel", "sku"], name="platformstockfigure_unique")]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.sku_id}={self.quantity}"
