"""JD POP (京东 jingdong.pop.order.search, OrderSearchInfo) → our intake payload.

Money is decimal yuan text. ``orderTotalPrice`` is the goods total, ``freightPrice`` shipping,
``orderPayment`` what the buyer pays, ``sellerDiscount`` the discounts. ``couponDetailList`` says which
discount went where: a coupon naming a ``skuId`` is that line's discount; the rest of the discount is the
order's (apportioned by us: JD sends no per-line division). ``payType`` "1-货到付款" is cash on delivery.
``consigneeInfo`` comes masked for privacy on current APIs (``open_id_buyer`` is then the buyer key).
"""

from __future__ import annotations

from typing import Any

from oms.connectors.domain.mapped import (
    MappedOrder,
    MappingError,
    NativeReader,
    Phase,
    is_masked,
    iso,
    money_text,
    native_version,
)

ORDER_PHASES: dict[str, Phase] = {
    "WAIT_SELLER_STOCK_OUT": Phase.PAID,
    "WAIT_SELLER_DELIVERY": Phase.PAID,
    "POP_ORDER_PAUSE": Phase.PAID,
    "LOCKED": Phase.PAID,
    "WAIT_GOODS_RECEIVE_CONFIRM": Phase.SHIPPED,
    "RECEIPTS_CONFIRM": Phase.DONE,
    "FINISHED_L": Phase.DONE,
    "TRADE_CANCELED": Phase.CLOSED,
}


def _line_discounts(o: NativeReader) -> dict[str, int]:
    by_sku: dict[str, int] = {}
    coupons = o.data.get("couponDetailList") or []
    for i, raw in enumerate(coupons if isinstance(coupons, list) else []):
        c = NativeReader(raw, f"couponDetailList[{i}]")
        sku = c.text("skuId")
        by_sku[sku] = by_sku.get(sku, 0) + c.money("couponPrice", required=True)
    return by_sku


def _lines(o: NativeReader, by_sku: dict[str, int]) -> list[dict[str, Any]]:
    lines = []
    for item in o.items("itemInfoList"):
        sku = item.text("skuId", required=True)
        quantity = item.quantity("itemTotal")
        lines.append(
            {
                "platform_line_id": sku,
                "platform_sku_code": sku,
                "sku_code": item.text("outerSkuId"),
                "name": item.text("skuName")[:200],
                "quantity": quantity,
                "unit_price": money_text(item.money("jdPrice", required=True)),
                "line_discount": money_text(by_sku.get(sku, 0)),
            }
        )
    return lines


def map_order(native: dict[str, Any]) -> MappedOrder:
    o = NativeReader(native)
    order_id = o.text("orderId", required=True)
    state = o.text("orderState", required=True)
    phase = ORDER_PHASES.get(state)
    if phase is None:
        raise MappingError("unknown_status", "orderState", f"Unknown order state {state!r}.", {"status": state})
    modified = o.local_time("modified", required=True)
    assert modified is not None
    by_sku = _line_discounts(o)
    lines = _lines(o, by_sku)
    goods, shipping = o.money("orderTotalPrice", required=True), o.money("freightPrice")
    payable = o.money("orderPayment", required=True)
    order_discount = goods + shipping - payable - sum(v for k, v in by_sku.items() if k)
    if order_discount < 0:
        raise MappingError("money_mismatch", "orderPayment", "The buyer pays more than goods and freight.")
    c = o.child("consigneeInfo")
    receiver = {
        "name": c.text("fullname", required=True),
        "phone": c.text("mobile") or c.text("telephone", required=True),
        "province": c.text("province", required=True),
        "city": c.text("city", required=True),
        "district": c.text("county"),
        "address": c.text("fullAddress", required=True),
        "postcode": "",
    }
    cod = o.text("payType").startswith("1")
    paid_at = o.local_time("paymentConfirmTime")
    inv = o.child("invoiceEasyInfo")
    title = inv.text("invoiceTitle")
    buyer = o.text("open_id_buyer") or o.text("pin")
    payload: dict[str, Any] = {
        "platform_order_id": order_id,
        "type": "sale",
        "currency": "CNY",
        "placed_at": iso(o.local_time("orderStartTime", required=True)),
        "buyer": {"platform_buyer_id": buyer[:64], "nickname": o.text("pin")[:64]} if buyer else None,
        "receiver": receiver,
        "buyer_remark": o.text("orderRemark")[:500],
        "seller_remark": o.text("venderRemark")[:500],
        "invoice": {
            "kind": "company" if inv.text("invoiceCode") else "personal",
            "title": title,
            "tax_id": inv.text("invoiceCode"),
        }
        if title
        else {"kind": "none"},
        "presale": False,
        "cod": cod,
        "order_discount": money_text(order_discount),
        "shipping": money_text(shipping),
        "payment": None
        if cod or phase is Phase.UNPAID
        else {
            "method": "platform",
            "transaction_id": f"JD{order_id}",
            "amount": money_text(payable),
            "paid_at": iso(paid_at),
        },
        "lines": lines,
        "totals": {"payable": money_text(payable)},
    }
    return MappedOrder(
        platform_order_id=order_id,
        modified_at=modified,
        phase=phase,
        native_status=state,
        payload=payload,
        buyer_token=o.text("open_id_buyer"),
        receiver_masked=is_masked(receiver["name"], receiver["phone"], receiver["address"]),
        version=native_version(native),
    )
