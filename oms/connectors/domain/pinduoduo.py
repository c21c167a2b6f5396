"""Pinduoduo (拼多多 pdd.order.list.increment.get / pdd.order.information.get) → our intake payload.

Money is yuan as JSON numbers. ``goods_amount`` is the goods total, ``postage`` shipping, ``pay_amount``
what the buyer paid; ``seller_discount`` (店铺优惠), ``platform_discount`` (平台优惠) and
``capital_free_discount`` (团长免单) are order-level discounts (PDD divides none per line). ``order_status``
1 待发货 / 2 已发货待签收 / 3 已签收; ``refund_status`` 1 无售后或售后关闭 / 2 售后处理中 / 3 退款中 /
4 退款成功; ``is_pre_sale`` 1 is presale. Receiver text is masked; ``open_address_id`` is the merge key.
"""

from __future__ import annotations

from typing import Any

from oms.connectors.domain.mapped import (
    MappedOrder,
    MappedRefund,
    MappingError,
    NativeReader,
    Phase,
    RefundState,
    is_masked,
    iso,
    money_text,
    native_version,
)

ORDER_PHASES = {1: Phase.PAID, 2: Phase.SHIPPED, 3: Phase.DONE}
REFUND_STATES = {2: RefundState.OPEN, 3: RefundState.OPEN, 4: RefundState.SUCCESS}


def _lines(o: NativeReader) -> list[dict[str, Any]]:
    lines = []
    for item in o.items("item_list"):
        sku = item.text("sku_id", required=True)
        count = item.quantity("goods_count")
        lines.append(
            {
                "platform_line_id": sku,
                "platform_sku_code": sku,
                "sku_code": item.text("outer_id"),
                "name": item.text("goods_name")[:200],
                "quantity": count,
                "unit_price": money_text(item.yuan_number("goods_price", required=True)),
                "line_discount": "0.00",
            }
        )
    return lines


def map_order(native: dict[str, Any]) -> MappedOrder:
    o = NativeReader(native)
    order_sn = o.text("order_sn", required=True)
    status = o.integer("order_status")
    refund_status = o.integer("refund_status", required=False) or 1
    phase = ORDER_PHASES.get(status)
    if phase is None:
        raise MappingError("unknown_status", "order_status", f"Unknown order status {status}.", {"status": status})
    if refund_status == 4 and phase is Phase.PAID:
        phase = Phase.CLOSED  # refunded in full before shipping: the platform closes the order
    modified = o.local_time("updated_at", required=True)
    assert modified is not None
    lines = _lines(o)
    discount = sum(o.yuan_number(k) for k in ("seller_discount", "platform_discount", "capital_free_discount"))
    payable, shipping = o.yuan_number("pay_amount", required=True), o.yuan_number("postage")
    receiver = {
        "name": o.text("receiver_name", required=True),
        "phone": o.text("receiver_phone", required=True),
        "province": o.text("province", required=True),
        "city": o.text("city", required=True),
        "district": o.text("town"),
        "address": o.text("address", required=True),
        "postcode": "",
    }
    refunds: tuple[MappedRefund, ...] = ()
    if refund_status in REFUND_STATES:
        refunds = (MappedRefund(f"PDD{order_sn}", "", payable, REFUND_STATES[refund_status], str(refund_status)),)
    payload: dict[str, Any] = {
        "platform_order_id": order_sn,
        "type": "sale",
        "currency": "CNY",
        "placed_at": iso(o.local_time("created_time", required=True)),
        "buyer": None,
        "receiver": receiver,
        "buyer_remark": o.text("buyer_memo")[:500],
        "seller_remark": o.text("remark")[:500],
        "invoice": {"kind": "none"},
        "presale": o.integer("is_pre_sale", required=False) == 1,
        "cod": False,
        "order_discount": money_text(discount),
        "shipping": money_text(shipping),
        "payment": {
            "method": "platform",
            "transaction_id": o.text("pay_no") or f"PDD{order_sn}",
            "amount": money_text(payable),
            "paid_at": iso(o.local_time("pay_time")),
        },
        "lines": lines,
        "totals": {"payable": money_text(payable)},
    }
    return MappedOrder(
        platform_order_id=order_sn,
        modified_at=modified,
        phase=phase,
        native_status=f"{status}/{refund_status}",
        payload=payload,
        refunds=refunds,
        receiver_token=o.text("open_address_id"),
        receiver_masked=is_masked(receiver["name"], receiver["phone"], receiver["address"]),
        version=native_version(native),
    )
