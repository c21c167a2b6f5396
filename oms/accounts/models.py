from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OperatorManager(UserManager["Operator"]):
    def create_user(
        self, username: str, email: str | None = None, password: str | None = None, **extra_fields: Any
    ) -> Operator:
        extra_fields.setdefault("is_staff", True)
        return super().create_user(username, email, password, **extra_fields)


class Operator(AbstractUser):
    """A person who works in the OMS (客服, 审单员, 仓库协调, 财务, 管理员)."""

    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    # Every operator may open the configuration screens; what they see there is still per permission.
    is_staff = models.BooleanField(
        _("staff status"), default=True, help_text=_("Whether the operator can open the configuration screens.")
    )

    objects = OperatorManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        permissions = [("manage_tokens", _("Issue and revoke API tokens"))]

    def __str__(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A bearer token for an integration. Only a SHA-256 digest is stored; the secret is shown once."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        on_delete=models.PROTECT,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (oms_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
