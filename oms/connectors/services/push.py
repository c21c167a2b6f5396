"""Push receivers: platforms that send order changes to us (Shopify webhooks) instead of waiting for a pull.

A push is verified first (HMAC over the raw body with the shop's app secret, compared in constant time),
then taken in exactly like a pulled page, so a push and a pull of the same version are one order, once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from oms.connectors.adapters import adapter_for
from oms.connectors.crypto import secret_open
from oms.connectors.models import Shop
from oms.connectors.services.pull import connector_actor
from oms.connectors.services.take import Tally, pulled_orders_take
from oms.core.errors import ApplicationError, ValidationFailed

ORDER_TOPICS = {"orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled"}


@dataclass
class SignatureInvalid(ApplicationError):
    code: str = "bad_signature"
    status: ClassVar[int] = 401


def shopify_signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_webhook_receive(*, shop: Shop, body: bytes, signature: str, topic: str) -> Tally:
    """Verify and take in one Shopify order webhook. 401 on a bad signature (nothing is read from the body),
    422 on a body that is not an order; other topics are acknowledged and ignored."""
    secret = secret_open(shop.app_secret_sealed)
    if shop.platform != "shopify" or not secret or not hmac.compare_digest(shopify_signature(body, secret), signature):
        raise SignatureInvalid("The webhook signature does not match this shop's secret.")
    if topic not in ORDER_TOPICS:
        return Tally()
    try:
        native: Any = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationFailed("The webhook body is not JSON.", extra={"field": "body"}) from None
    if not isinstance(native, dict):
        raise ValidationFailed("The webhook body is not an order.", extra={"field": "body"})
    return pulled_orders_take(shop=shop, adapter=adapter_for("shopify"), natives=[native], actor=connector_actor(shop))
