"""Connected shops: status, pulls, failed items, and the push receivers platforms call (Shopify webhooks)."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from oms.api.auth import public, require_perm
from oms.api.types import Id
from oms.connectors.models import PullKind, PullRun, Shop
from oms.connectors.reasons import reason_text
from oms.connectors.selectors import shop_failed_items, shop_get, shop_list, shop_token_expiring
from oms.connectors.services.items import pull_items_retry
from oms.connectors.services.pull import shop_pull
from oms.connectors.services.push import shopify_webhook_receive
from oms.connectors.services.write_back import write_back_receive
from oms.core.errors import NotFound

router = Router(tags=["connectors"])


class ConnectorShopOut(Schema):
    id: int
    channel: str
    platform: str
    status: str
    enabled: bool
    last_pull_at: datetime | None
    last_success_at: datetime | None
    cursor_at: datetime | None
    token_expires_at: datetime | None
    token_expiring: bool
    last_error_code: str
    last_error: str

    @staticmethod
    def resolve_channel(obj: Shop) -> str:
        return obj.channel.code

    @staticmethod
    def resolve_token_expiring(obj: Shop) -> bool:
        return shop_token_expiring(obj)

    @staticmethod
    def resolve_last_error(obj: Shop) -> str:
        return reason_text(obj.last_error_code, obj.last_error_params) if obj.last_error_code else ""


class ConnectorPullIn(Schema):
    start: datetime | None = Field(None, description="Back-fill from (omit for a pull from the cursor).")
    end: datetime | None = None


class ConnectorPullOut(Schema):
    id: int
    kind: str
    window_from: datetime | None
    window_to: datetime | None
    calls: int
    retries: int
    fetched: int
    created: int
    updated: int
    unchanged: int
    failed: int
    error_code: str


class ConnectorFailedItemOut(Schema):
    id: int
    platform_order_id: str
    reason_code: str
    reason: str
    field: str
    attempts: int
    updated_at: datetime


class ConnectorRetryIn(Schema):
    item_ids: list[int] | None = None


class ConnectorTallyOut(Schema):
    created: int
    updated: int
    unchanged: int
    failed: int


def _shop(shop_id: Id) -> Shop:
    try:
        return shop_get(pk=shop_id)
    except Shop.DoesNotExist:
        raise NotFound(f"No connected shop {shop_id}.") from None


@router.get("/connectors/shops", response=list[ConnectorShopOut])
@require_perm("connectors.view_shop")
def shops(request: HttpRequest) -> list[Shop]:
    return list(shop_list())


@router.get("/connectors/shops/{shop_id}", response=ConnectorShopOut)
@require_perm("connectors.view_shop")
def shop_detail(request: HttpRequest, shop_id: Id) -> Shop:
    return _shop(shop_id)


@router.post("/connectors/shops/{shop_id}/pull", response=ConnectorPullOut)
@require_perm("connectors.pull_shop")
def pull(request: HttpRequest, shop_id: Id, body: ConnectorPullIn) -> PullRun:
    """Pull now from the cursor, or back-fill [start, end). 409 while a pull of the shop is running."""
    kind = PullKind.BACKFILL if body.start else PullKind.NOW
    return shop_pull(shop=_shop(shop_id), kind=kind, start=body.start, end=body.end)


@router.get("/connectors/shops/{shop_id}/failed-items", response=list[ConnectorFailedItemOut])
@require_perm("connectors.view_shop")
def failed_items(request: HttpRequest, shop_id: Id) -> list[dict[str, object]]:
    return [
        {"id": i.pk, "platform_order_id": i.platform_order_id, "reason_code": i.reason_code,
         "reason": reason_text(i.reason_code, i.reason_params), "field": i.reason_field, "attempts": i.attempts,
         "updated_at": i.updated_at}
        for i in shop_failed_items(shop=_shop(shop_id))
    ]  # fmt: skip


@router.post("/connectors/shops/{shop_id}/failed-items/retry", response=ConnectorTallyOut)
@require_perm("connectors.retry_pullitem")
def retry(request: HttpRequest, shop_id: Id, body: ConnectorRetryIn) -> object:
    return pull_items_retry(shop=_shop(shop_id), item_ids=body.item_ids)


@router.post("/connectors/shopify/{shop_id}/webhooks", response=ConnectorTallyOut, auth=None)
@public  # Shopify cannot send an API token: the HMAC over the body with the shop's secret is the check
def shopify_webhook(request: HttpRequest, shop_id: Id) -> object:
    """Shopify order webhooks (orders/create, orders/updated, …), verified by X-Shopify-Hmac-Sha256 with the
    shop's app secret; no API token (Shopify cannot send one). 401 on a bad signature."""
    shop = Shop.objects.select_related("channel").filter(pk=shop_id, platform="shopify").first()
    if shop is None:
        raise NotFound(f"No Shopify shop {shop_id}.")
    return shopify_webhook_receive(
        shop=shop,
        body=request.body,
        signature=request.headers.get("X-Shopify-Hmac-Sha256", ""),
        topic=request.headers.get("X-Shopify-Topic", ""),
    )


class ConnectorWriteBackOut(Schema):
    outcome: str


@router.post("/connectors/shops/{shop_id}/write-back", response=ConnectorWriteBackOut, auth=None)
@public  # the outbox's own signed delivery (X-OMS-Signature with the endpoint's secret) is the check
def write_back(request: HttpRequest, shop_id: int) -> dict[str, str]:
    """Receiver of this shop's tracking and stock events from the outbox: writes them back to the platform
    (502 when the platform does not take it, so the outbox retries; 401 on a bad signature)."""
    shop = _shop(shop_id)
    headers = {k: str(v) for k, v in request.headers.items()}
    return {"outcome": write_back_receive(shop=shop, headers=headers, body=request.body)}
