"""Write-back: tracking numbers (回传单号) and stock figures go to the platform through the shop's adapter.

Today's outbox events carry them: ``platform.tracking.<platform>`` per parcel and platform order, and
``platform.stock.<platform>`` per batch of changed figures. Each connected shop has an outbox endpoint
pointing at its receiver here, so delivery, retries with backoff, dead letters and the outbox console are
the outbox's own. The receiver checks the outbox signature, writes back through the adapter, answers 2xx
when the platform took it and 502 when not (the outbox tries again), and keeps a `WriteBack` row per event
so failures are visible on the shop and a repeated delivery of a done event makes no second call.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db import transaction
from django.utils import timezone

from oms.connectors.adapters import adapter_for
from oms.connectors.adapters.base import ParcelOut, PlatformError, ShipmentOut, StockFigure
from oms.connectors.models import Shop, WriteBack, WriteBackState
from oms.connectors.services.push import SignatureInvalid
from oms.connectors.services.shops import endpoint_name, shop_connection
from oms.core.errors import ApplicationError, ValidationFailed
from oms.orders.models import OrderLine, PlatformSkuMapping
from oms.outbox.domain.signing import SignatureInvalid as OutboxSignatureInvalid
from oms.outbox.domain.signing import verify_signature
from oms.outbox.models import WebhookEndpoint

# Our courier codes → each platform's own code (the platforms' published courier lists; extend per shop need).
COURIER_CODES: dict[str, dict[str, str]] = {
    "taobao": {"SF": "SF", "ZTO": "ZTO", "YTO": "YTO", "YUNDA": "YUNDA", "EMS": "EMS", "JDL": "JD"},
    "jd": {"SF": "467", "ZTO": "1499", "YTO": "463", "YUNDA": "1327", "EMS": "465", "JDL": "2087"},
    "douyin": {"SF": "shunfeng", "ZTO": "zhongtong", "YTO": "yuantong", "YUNDA": "yunda", "EMS": "ems", "JDL": "jd"},
    "pinduoduo": {"SF": "44", "ZTO": "115", "YTO": "85", "YUNDA": "121", "EMS": "118", "JDL": "120"},
    "shopify": {"SF": "SF Express", "ZTO": "ZTO Express", "YTO": "YTO Express", "YUNDA": "Yunda Express",
                "EMS": "China Post", "JDL": "JD Logistics"},
}  # fmt: skip


@dataclass
class WriteBackFailed(ApplicationError):
    """The platform did not take it: 502, so the outbox delivers the event again later."""

    code: str = "write_back_failed"
    status: ClassVar[int] = 502


def _envelope(shop: Shop, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    endpoint = WebhookEndpoint.objects.filter(name=endpoint_name(shop)).first()
    if endpoint is None:
        raise SignatureInvalid("This shop has no write-back endpoint.")
    try:
        verify_signature(endpoint.secret, headers, body, now=time.time())
    except OutboxSignatureInvalid as exc:
        raise SignatureInvalid(exc.message) from None
    try:
        envelope = json.loads(body)
        uuid.UUID(str(envelope["id"]))
    except (ValueError, KeyError, TypeError):
        raise ValidationFailed("The body is not an outbox event.", extra={"field": "body"}) from None
    return dict(envelope)


def _shipment(shop: Shop, envelope: dict[str, Any]) -> ShipmentOut:
    data = envelope["data"]
    line_ids: tuple[str, ...] = ()
    if data.get("partial"):
        numbers = [int(ln["line"]) for ln in data.get("lines") or []]
        rows = OrderLine.objects.filter(order_id=envelope["aggregate"]["id"], line_no__in=numbers)
        line_ids = tuple(sorted({pid for pid in rows.values_list("platform_line_id", flat=True) if pid}))
    courier = COURIER_CODES.get(shop.platform, {}).get(str(data["courier"]), str(data["courier"]))
    parcel = ParcelOut(tracking_number=str(data["tracking_number"]), courier_code=courier, platform_line_ids=line_ids)
    return ShipmentOut(platform_order_id=str(data["platform_order_id"]), parcels=(parcel,))


def _figures(shop: Shop, data: dict[str, Any]) -> list[StockFigure]:
    items = data.get("items") or []
    codes = {str(i["sku"]) for i in items}
    mapped = dict(
        PlatformSkuMapping.objects.filter(channel=shop.channel, sku__code__in=codes).values_list(
            "sku__code", "platform_sku_code"
        )
    )
    return [StockFigure(mapped.get(str(i["sku"]), str(i["sku"])), int(i["quantity"])) for i in items]


@transaction.atomic
def _record(shop: Shop, event_id: str, kind: str, reference: str, error: PlatformError | None) -> None:
    now = timezone.now()
    row, created = WriteBack.objects.select_for_update().get_or_create(
        shop=shop, event_id=event_id,
        defaults={"kind": kind, "reference": reference[:100], "state": WriteBackState.DONE, "created_at": now,
                  "updated_at": now},
    )  # fmt: skip
    if not created:
        row.attempts += 1
    row.state = WriteBackState.FAILED if error else WriteBackState.DONE
    row.error_code = error.code if error else ""
    row.error_params = {"message": error.message} if error else {}
    row.updated_at = now
    row.save()


def write_back_receive(*, shop: Shop, headers: dict[str, str], body: bytes) -> str:
    """Handle one delivered outbox event for the shop: "done", "ignored" (another channel's event, or done
    before), or raise WriteBackFailed (502) / SignatureInvalid (401)."""
    envelope = _envelope(shop, headers, body)
    data, topic, event_id = envelope.get("data") or {}, str(envelope.get("topic", "")), str(envelope["id"])
    if data.get("channel") != shop.channel.code:
        return "ignored"
    if WriteBack.objects.filter(shop=shop, event_id=event_id, state=WriteBackState.DONE).exists():
        return "ignored"
    adapter, conn = adapter_for(shop.platform), shop_connection(shop)
    if topic.startswith("platform.tracking."):
        kind, reference = "shipment", f"{data.get('platform_order_id')} {data.get('tracking_number')}"
        call = lambda: adapter.shipment_write_back(conn, _shipment(shop, envelope))  # noqa: E731
    elif topic.startswith("platform.stock."):
        kind, reference = "stock", f"batch {data.get('batch')}/{data.get('batches')}"
        call = lambda: adapter.stock_write_back(conn, _figures(shop, data))  # noqa: E731
    else:
        return "ignored"
    try:
        call()
    except PlatformError as exc:
        _record(shop, event_id, kind, reference, exc)
        raise WriteBackFailed(
            f"The platform did not take the {kind}: {exc.message}", extra={"reason": exc.code}
        ) from exc
    _record(shop, event_id, kind, reference, None)
    return "done"
