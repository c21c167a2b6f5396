"""Demo fulfilment: stock on the shelves, channel warehouses, a courier cost table, WMS links, a few warehouse and
courier rules — then orders taken through review, allocation, courier and dispatch by the real pipeline, and
signed WMS callbacks that ship, sign for and refuse some of them. One scarce SKU leaves a few stockouts."""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any

from oms.catalog.models import Sku
from oms.channels.models import AllocationRule, Channel, ChannelWarehouse
from oms.core.actors import SYSTEM
from oms.core.context import request_context
from oms.fulfillment.models import Courier, CourierRate, Shipment, WmsLink
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.services.wms import wms_callback_receive
from oms.inventory.models import Warehouse
from oms.inventory.services.documents import DocLine, stock_receipt_create
from oms.orders.domain.status import Status
from oms.orders.models import Order
from oms.orders.services.intake import order_intake_bulk
from oms.outbox.domain.signing import signature_headers
from oms.review.models import Rule

# courier code -> (first kg price, extra kg price, remark keywords), in 分
RATES = {
    "SF": (1200, 400, ["顺丰", "SF"]),
    "ZTO": (600, 200, ["中通"]),
    "YTO": (620, 180, ["圆通"]),
    "YUNDA": (580, 220, ["韵达"]),
    "JDL": (1000, 300, ["京东快递", "京东物流"]),
    "EMS": (900, 300, ["EMS", "邮政"]),
}
SCARCE = 2  # units of the scarce SKU per warehouse


def _setup(rng: random.Random) -> tuple[Sku, dict[str, str]]:
    warehouses = list(Warehouse.objects.filter(is_active=True).order_by("code"))
    for channel in Channel.objects.filter(is_active=True):
        ChannelWarehouse.objects.bulk_create(
            [ChannelWarehouse(channel=channel, warehouse=w) for w in warehouses], ignore_conflicts=True
        )
        if not AllocationRule.objects.filter(channel=channel).exists():
            AllocationRule.objects.create(channel=channel, scope="all", method="ratio", ratio_bp=10_000)
    for courier in Courier.objects.all():
        first, extra, keywords = RATES.get(courier.code, (800, 300, []))
        courier.remark_keywords = keywords
        courier.save(update_fields=["remark_keywords"])
        CourierRate.objects.get_or_create(
            courier=courier, warehouse=None, province="", defaults={"first_minor": first, "extra_per_kg_minor": extra}
        )
    secrets = {}
    for w in warehouses:
        link, _ = WmsLink.objects.get_or_create(
            warehouse=w, defaults={"callback_secret": uuid.uuid4().hex + uuid.uuid4().hex}
        )
        secrets[w.code] = link.callback_secret
    skus = list(Sku.objects.filter(is_active=True, is_bundle=False).order_by("code"))
    scarce = skus[0]
    with request_context(channel="system"):
        for w in warehouses:
            stock_receipt_create(
                warehouse_id=w.pk,
                lines=[
                    DocLine(sku_id=s.pk, quantity=SCARCE if s.pk == scarce.pk else rng.randint(30, 200)) for s in skus
                ],
                actor=SYSTEM,
                note="demo opening stock",
            )
    Rule.objects.get_or_create(
        kind="warehouse",
        code="SOUTH-GZ",
        defaults={
            "name": "华南订单走广州仓",
            "condition": 'province in ["广东省", "广西壮族自治区", "海南省", "福建省"]',
            "params": {"warehouse": "GZ01"},
            "reason": "华南就近发货",
        },
    )
    Rule.objects.get_or_create(
        kind="courier",
        code="HIGH-VALUE-SF",
        defaults={
            "name": "高价值订单走顺丰",
            "condition": "paid_amount >= 500",
            "params": {"courier": "SF"},
            "reason": "贵重物品",
        },
    )
    Rule.objects.get_or_create(
        kind="courier",
        code="JD-JDL",
        defaults={
            "name": "京东店铺指定京东物流",
            "condition": 'platform == "jd"',
            "params": {"courier": "JDL", "designated": True},
            "reason": "平台指定快递",
        },
    )
    return scarce, secrets


def _callback(secrets: dict[str, str], shipment: Shipment, body: dict[str, Any]) -> None:
    raw = json.dumps({"shipment": shipment.number, **body}, ensure_ascii=False).encode("utf-8")
    code = shipment.warehouse.code
    headers = signature_headers(secret=secrets[code], event_id=uuid.uuid4().hex, timestamp=int(time.time()), body=raw)
    wms_callback_receive(warehouse_code=code, headers=headers, body=raw)


def _scarce_orders(scarce: Sku) -> None:
    """A few paid orders for the scarce SKU: more than the shelves hold, so the stockout list has rows."""
    channel = Channel.objects.filter(platform="tmall").first() or Channel.objects.first()
    if channel is None:
        return
    payloads = [
        {
            "channel": channel.code,
            "platform_order_id": f"DEMO-SCARCE-{n}",
            "buyer": {"platform_buyer_id": f"demo-scarce-{n}", "nickname": "抢购用户"},
            "receiver": {
                "name": "赵六",
                "phone": f"1380000{n:04d}",
                "province": "浙江省",
                "city": "杭州市",
                "district": "西湖区",
                "address": f"文三路 {100 + n} 号",
            },
            "payment": {"method": "platform", "transaction_id": f"DEMO-SCARCE-PAY-{n}"},
            "lines": [{"sku_code": scarce.code, "quantity": 3, "unit_price": "99.00"}],
        }
        for n in range(4)
    ]
    order_intake_bulk(payloads=payloads, actor=SYSTEM)


def load_demo_fulfilment(*, seed: int = 2026) -> dict[str, int]:
    """Run the pipeline over every paid order waiting for review, then play the WMS for the dispatched ones."""
    rng = random.Random(seed)
    scarce, secrets = _setup(rng)
    with request_context(channel="system"):
        _scarce_orders(scarce)
        waiting = list(Order.objects.filter(status=Status.PENDING_REVIEW).order_by("pk"))
        for start in range(0, len(waiting), 200):
            orders_advance(orders=waiting[start : start + 200], actor=SYSTEM, buffer_minutes=0, dispatch=True)
        split_parcels = 0
        for shipment in Shipment.objects.filter(state="sent").select_related("warehouse", "courier").order_by("pk"):
            roll = rng.random()
            if roll < 0.15:
                continue  # still with the warehouse
            _callback(secrets, shipment, {"type": "accepted"})
            if roll < 0.3:
                continue
            tracking = f"{shipment.courier.code}{rng.randint(10**11, 10**12 - 1)}"
            doc_lines = shipment.document.get("lines") or []
            if split_parcels < 2 and sum(ln["quantity"] for ln in doc_lines) > 1:
                # Two parcels (部分发货): one unit leaves first; the rest has not yet (the first such order) or
                # follows under a second tracking number.
                split_parcels += 1
                first = {"line": doc_lines[0]["line"], "quantity": 1}
                _callback(secrets, shipment, {"type": "shipped", "tracking_number": f"{tracking}-1", "lines": [first]})
                if split_parcels == 1:
                    continue
                tracking = f"{tracking}-2"
            _callback(
                secrets, shipment, {"type": "shipped", "tracking_number": tracking, "weight_g": rng.randint(200, 5000)}
            )
            if roll < 0.55:
                continue
            _callback(
                secrets, shipment, {"type": "rejected", "reason": "收件人拒收"} if roll > 0.93 else {"type": "signed"}
            )
    counts: dict[str, int] = {}
    for state in Shipment.objects.values_list("state", flat=True):
        counts[f"shipments_{state}"] = counts.get(f"shipments_{state}", 0) + 1
    return counts
