"""Connecting a shop and keeping its credentials: sealed at rest, never shown back, never logged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from oms.audit.services import audit_record
from oms.channels.models import Channel
from oms.connectors import actions
from oms.connectors.adapters.base import Connection
from oms.connectors.crypto import secret_open, secret_reseal, secret_seal
from oms.connectors.models import ConnectorPlatform, Shop, ShopStatus
from oms.core.errors import ValidationFailed
from oms.outbox.models import WebhookEndpoint
from oms.outbox.services import webhook_endpoint_ensure

CREDENTIALS = ("app_key", "app_secret", "access_token")
SETTINGS_FIELDS = ("base_url", "shop_ref", "enabled", "pull_interval_s", "overlap_s", "pull_from", "token_expires_at")


def _check(platform: str, base_url: str) -> None:
    if platform not in ConnectorPlatform.values:
        raise ValidationFailed(f"Unknown platform {platform!r}.", code="unknown_platform", extra={"field": "platform"})
    if not base_url.startswith(("http://", "https://")):
        raise ValidationFailed("The API address must start with http:// or https://.", extra={"field": "base_url"})


@transaction.atomic(durable=True)
def shop_connect(
    *,
    channel: Channel,
    platform: str,
    base_url: str,
    actor: Any,
    credentials: dict[str, str] | None = None,
    **options: Any,
) -> Shop:
    """Connect one of our channels to its platform shop (or change the connection's settings). Credentials
    given are sealed; those not given stay as they are. The log names which credentials changed, never them."""
    _check(platform, base_url)
    shop = Shop.objects.select_for_update().filter(channel=channel).first() or Shop(channel=channel)
    created = shop.pk is None
    before = None if created else {f: _plain(getattr(shop, f)) for f in ("platform", *SETTINGS_FIELDS)}
    shop.platform, shop.base_url = platform, base_url
    for name, value in options.items():
        if name not in SETTINGS_FIELDS:
            raise ValidationFailed(f"Unknown shop setting {name!r}.", extra={"field": name})
        setattr(shop, name, value)
    changed_credentials = _seal_credentials(shop, credentials or {})
    if changed_credentials and shop.status == ShopStatus.AUTH_EXPIRED:
        shop.status = ShopStatus.NEW
    shop.save()
    shop_write_back_subscribe(shop=shop, actor=actor)
    after = {f: _plain(getattr(shop, f)) for f in ("platform", *SETTINGS_FIELDS)}
    after["credentials_changed"] = changed_credentials
    audit_record(actor=actor, action=actions.CONNECTORS_SHOP_CONNECT, obj=shop, before=before, after=after)
    return shop


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _seal_credentials(shop: Shop, credentials: dict[str, str]) -> list[str]:
    changed = []
    for name, value in credentials.items():
        if name not in CREDENTIALS:
            raise ValidationFailed(f"Unknown credential {name!r}.", extra={"field": name})
        if value:
            setattr(shop, f"{name}_sealed", secret_seal(value.strip()))
            changed.append(name)
    return changed


def shop_credentials_present(shop: Shop) -> dict[str, bool]:
    return {name: bool(getattr(shop, f"{name}_sealed")) for name in CREDENTIALS}


def shop_connection(shop: Shop) -> Connection:
    """The decrypted connection details, for one platform call; never stored or logged."""
    return Connection(
        base_url=shop.base_url,
        app_key=secret_open(shop.app_key_sealed),
        app_secret=secret_open(shop.app_secret_sealed),
        access_token=secret_open(shop.access_token_sealed),
        shop_ref=shop.shop_ref,
        timeout_s=float(settings.OMS_CONNECTORS["HTTP_TIMEOUT_S"]),
    )


@transaction.atomic(durable=True)
def shops_credentials_reseal(*, actor: Any) -> int:
    """Re-encrypt every shop's credentials under the newest key (after prepending it to the keys)."""
    shops = list(Shop.objects.select_for_update().order_by("pk"))
    for shop in shops:
        for name in CREDENTIALS:
            setattr(shop, f"{name}_sealed", secret_reseal(getattr(shop, f"{name}_sealed")))
        shop.save(update_fields=[f"{name}_sealed" for name in CREDENTIALS])
    audit_record(actor=actor, action=actions.CONNECTORS_CREDENTIALS_RESEAL, after={"shops": len(shops)})
    return len(shops)


def endpoint_name(shop: Shop) -> str:
    return f"connector-shop-{shop.pk}"


def shop_write_back_subscribe(*, shop: Shop, actor: Any) -> WebhookEndpoint:
    """Point an outbox endpoint at this shop's receiver for its platform's tracking and stock events."""
    base = settings.OMS_CONNECTORS_CALLBACK_URL.rstrip("/")
    platform = shop.channel.platform
    return webhook_endpoint_ensure(
        name=endpoint_name(shop),
        url=f"{base}/api/v1/connectors/shops/{shop.pk}/write-back",
        topics=[f"platform.tracking.{platform}", f"platform.stock.{platform}"],
        actor=actor,
    )
