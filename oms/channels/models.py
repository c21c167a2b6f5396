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
