"""Douyin shop (抖店 order.searchList / order.orderDetail, shop_order) → our intake payload.

Money is integer fen, times Unix seconds. Each ``sku_order_list`` entry is a sub-order: ``goods_price`` the
unit price, ``item_num`` the quantity, ``promotion_amount`` every discount the platform put on it (shop,
platform and creator promotions, already divided per sub-order), ``pay_amount`` what the buyer paid for it
(kept beside ours), ``code`` the merchant's SKU code. ``post_amount`` is shipping, ``pay_type`` 0 is cash on
delivery. Receiver fields come masked (``encrypt_post_*`` hold the ciphertext); ``open_address_id`` is the
platform's receiver key for merging and ``doudian_open_id`` the buyer's.
"""

from __future__ import annotations

from typing import Any

from oms.connectors.domain.mapped import (
    LineShare,
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

ORDER_PHASES: dict[int, Phase] = {
    1: Phase.UNPAID,  # 待确认/待支付
    105: Phase.PAID,  # 已支付
    2: Phase.PAID,  # 备货中
    101: Phase.PAID,  # 部分发货
    3: Phase.SHIPPED,  # 已发货
    5: Phase.DONE,  # 已完成
    4: Phase.CLOSED,  # 已取消
}


def _after_sale_state(code: int) -> RefundState:
    """after_sale_info.after_sale_status: 6 申请, 7-12 处理中 (open), 27 拒绝, 28 关闭 (closed), 29 退款成功."""
    if code in (27, 28):
        return RefundState.CLOSED
    if code == 29:
        return RefundState.SUCCESS
    return RefundState.OPEN


def _line(sku: NativeReader) -> tuple[dict[str, Any], LineShare, MappedRefund | None]:
    line_id = sku.text("order_id", required=True)
    quantity = sku.quantity("item_num")
    price = sku.cents("goods_price", required=True)
    discount = sku.cents("promotion_amount")
    line = {
        "platform_line_id": line_id,
        "platform_sku_code": sku.text("sku_id", required=True),
        "sku_code": sku.text("code") or sku.text("out_sku_id"),
        "name": sku.text("product_name")[:200],
        "quantity": quantity,
        "unit_price": money_text(price),
        "line_discount": money_text(discount),
    }
    share = LineShare(line_id, sku.cents("pay_amount") - sku.cents("post_amount"))
    after = sku.child("after_sale_info")
    refund = None
    if after.text("after_sale_id"):
        refund = MappedRefund(
            after.text("after_sale_id"), line_id, after.cents("refund_amount") or share.paid_minor,
            _after_sale_state(after.integer("after_sale_status")), str(after.integer("after_sale_status")),
        )  # fmt: skip
    return line, share, refund


def map_order(native: dict[str, Any]) -> MappedOrder:
    o = NativeReader(native)
    order_id = o.text("order_id", required=True)
    status = o.integer("order_status")
    phase = ORDER_PHASES.get(status)
    if phase is None:
        raise MappingError("unknown_status", "order_status", f"Unknown order status {status}.", {"status": status})
    modified = o.epoch("update_time", required=True)
    assert modified is not None
    lines, shares, refunds = [], [], []
    for sku in o.items("sku_order_list"):
        line, share, refund = _line(sku)
        lines.append(line)
        shares.append(share)
        if refund is not None:
            refunds.append(refund)
    addr = o.child("post_addr")
    receiver = {
        "name": o.text("post_receiver", required=True),
        "phone": o.text("post_tel", required=True),
        "province": addr.child("province").text("name", required=True),
        "city": addr.child("city").text("name", required=True),
        "district": addr.child("town").text("name"),
        "address": addr.text("detail", required=True),
        "postcode": "",
    }
    shipping, payable = o.cents("post_amount"), o.cents("pay_amount", required=True)
    cod = o.integer("pay_type", required=False) == 0 and "pay_type" in o.data
    payload: dict[str, Any] = {
        "platform_order_id": order_id,
        "type": "sale",
        "currency": "CNY",
        "placed_at": iso(o.epoch("create_time", required=True)),
        "buyer": {"platform_buyer_id": o.text("doudian_open_id")[:64]} if o.text("doudian_open_id") else None,
        "receiver": receiver,
        "buyer_remark": o.text("buyer_words")[:500],
        "seller_remark": o.text("seller_words")[:500],
        "invoice": {"kind": "none"},
        "presale": o.integer("pre_sale_type", required=False) > 0,
        "cod": cod,
        "order_discount": "0.00",
        "shipping": money_text(shipping),
        "payment": None
        if cod or phase in (Phase.UNPAID, Phase.CLOSED)
        else {
            "method": "platform",
            "transaction_id": f"DY{order_id}",
            "amount": money_text(payable),
            "paid_at": iso(o.epoch("pay_time")),
        },
        "lines": lines,
        "totals": {"payable": money_text(payable)},
    }
    return MappedOrder(
        platform_order_id=order_id,
        modified_at=modified,
        phase=phase,
        native_status=str(status),
        payload=payload,
        refunds=tuple(refunds),
        line_shares=tuple(shares),
        buyer_token=o.text("doudian_open_id"),
        receiver_token=o.text("open_address_id"),
        receiver_masked=is_masked(receiver["name"], receiver["phone"], receiver["address"]),
        version=native_version(native),
    )
