"""Demo orders: zh_CN buyers (Faker) and a few hundred orders in many statuses, made by the real services.

Everything goes through intake, payment, transition and cancel services, so the demo shows exactly
what production data looks like: timelines, operation-log rows, reservations and exact line money.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from faker import Faker

from oms.catalog.models import Sku
from oms.channels.models import Channel
from oms.core.actors import SYSTEM, callback_actor
from oms.core.context import request_context
from oms.orders.domain.status import Status
from oms.orders.lock_objects import order_lock
from oms.orders.services.cancel import order_cancel
from oms.orders.services.intake import order_intake_bulk
from oms.orders.services.payments import payment_record
from oms.orders.services.timeline import order_transition

PROMOTIONS = [
    ("MJ100-10", "满100减10", "full_reduction"),
    ("NEW5", "新人立减5元", "coupon"),
    ("SALE", "限时直降", "price_cut"),
]
REMARKS = ["请尽快发货", "周末不在家，请放快递柜", "送人的，不要放发票", "", "", ""]
# the path an order walks after review; the demo stops each order somewhere along it
PIPELINE = [Status.PENDING_DISPATCH, Status.PENDING_SHIPMENT, Status.SHIPPED, Status.SIGNED, Status.CLOSED]


def _payload(fake: Faker, rng: random.Random, channel: Channel, skus: list[Sku], n: int) -> dict[str, Any]:
    lines = []
    for sku in rng.sample(skus, rng.randint(1, 4)):
        price = rng.choice([1990, 3900, 5990, 8800, 12900, 19900, 29900])
        qty = rng.randint(1, 3)
        line: dict[str, Any] = {
            "sku_code": sku.code,
            "name": sku.name,
            "quantity": qty,
            "unit_price": f"{price / 100:.2f}",
            "platform_line_id": f"{n}-{sku.pk}",
        }
        if rng.random() < 0.3:
            code, name, kind = rng.choice(PROMOTIONS)
            line["promotions"] = [{"code": code, "name": name, "kind": kind, "amount": f"{rng.randint(1, 10):.2f}"}]
        lines.append(line)
    if rng.random() < 0.05:
        lines.append(
            {
                "platform_sku_code": f"{channel.code}-UNMAPPED-{rng.randint(1, 9)}",
                "name": "平台未映射商品",
                "quantity": 1,
                "unit_price": "9.90",
            }
        )
    phone = fake.phone_number()
    address = fake.address().split(" ")[0]
    placed = timezone.now() - timedelta(days=rng.randint(0, 20), minutes=rng.randint(0, 1440))
    paid = rng.random() < 0.85
    payload: dict[str, Any] = {
        "channel": channel.code,
        "platform_order_id": f"{channel.code}{placed:%y%m%d}{n:06d}",
        "placed_at": placed.isoformat(),
        "buyer": {
            "platform_buyer_id": f"{channel.code.lower()}_{rng.randint(1, 120)}",
            "nickname": fake.user_name(),
            "name": fake.name(),
            "phone": phone,
        },
        "receiver": {
            "name": fake.name(),
            "phone": phone,
            "province": fake.province(),
            "city": fake.city(),
            "district": fake.district() + "区",
            "address": address,
            "postcode": fake.postcode(),
        },
        "buyer_remark": rng.choice(REMARKS),
        "order_discount": rng.choice(["0.00", "0.00", "5.00", "10.00"]),
        "shipping": rng.choice(["0.00", "0.00", "6.00", "12.00"]),
        "lines": lines,
    }
    if rng.random() < 0.2:
        payload["invoice"] = {
            "kind": "company",
            "title": fake.company(),
            "tax_id": "91330100799655058B",
            "email": "fapiao@example.com",
        }
    if paid:
        method = "platform" if channel.classification == "online" else rng.choice(["wechat_pay", "alipay", "cash"])
        payload["payment"] = {"method": method, "paid_at": (placed + timedelta(minutes=2)).isoformat()}
    elif channel.classification == "offline" and rng.random() < 0.5:
        payload["cod"] = True
    return payload


def load_demo_orders(*, count: int = 300, seed: int = 2026) -> dict[str, int]:
    """Take in ``count`` orders, then pay, advance or cancel some of them; returns counts by status."""
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    channels = list(Channel.objects.filter(is_active=True).order_by("code"))
    skus = list(Sku.objects.filter(is_active=True, is_bundle=False, is_gift=False).order_by("code"))
    if not channels or not skus:
        return {}
    payloads = [_payload(fake, rng, rng.choice(channels), skus, n) for n in range(count)]
    with request_context(channel="system"):
        outcomes = order_intake_bulk(payloads=payloads, actor=SYSTEM)
        orders = [o.order for o in outcomes if o.order is not None]
        for order in orders:
            roll = rng.random()
            if order.status == Status.PENDING_PAYMENT.value:
                if roll < 0.4:
                    payment_record(
                        order=order,
                        method="alipay",
                        transaction_id=f"DEMO{order.pk:08d}",
                        amount_minor=order.payable_minor,
                        paid_at=None,
                        actor=callback_actor("alipay"),
                    )
                elif roll < 0.6:
                    order_cancel(order=order, actor=SYSTEM, reason="超时未支付")
                continue
            if roll < 0.08:
                order_cancel(order=order, actor=SYSTEM, reason=rng.choice(["买家申请取消", "地址无法送达", "重复下单"]))
                continue
            stop = rng.randint(0, len(PIPELINE))
            with transaction.atomic():
                locked = order_lock(pk=order.pk)
                for target in PIPELINE[:stop]:
                    order_transition(order=locked, to_status=target.value, actor=SYSTEM, reason="demo")
    counts: dict[str, int] = {}
    from oms.orders.models import Order

    for status in Order.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts
