"""Shopify (REST Admin API Order, and the same JSON in orders/* webhooks) → our intake payload.

Money is decimal text in the shop currency. Each ``line_items`` entry has ``price`` × ``quantity`` and
``discount_allocations``: the share of each discount application (``discount_applications[index]``) Shopify
put on the line. Allocations of applications with ``target_selection`` "all" are the order's discount (we
apportion it ourselves; Shopify's division is kept beside ours), the others are the line's own discount.
Shipping is the sum of ``shipping_lines[].discounted_price``. ``financial_status`` says what is paid,
``cancelled_at`` a cancellation; ``refunds`` become refund requests. Our intake takes addresses in China
(incl. Hong Kong, Macao, Taiwan) only: any other country is refused with the reason, visible and retryable.
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
    iso,
    money_text,
    native_version,
)

# ISO 3166-2:CN subdivision codes (Shopify's province_code) → GB/T 2260 adcodes.
CN_PROVINCES = {
    "BJ": "110000", "TJ": "120000", "HE": "130000", "SX": "140000", "NM": "150000", "LN": "210000", "JL": "220000",
    "HL": "230000", "SH": "310000", "JS": "320000", "ZJ": "330000", "AH": "340000", "FJ": "350000", "JX": "360000",
    "SD": "370000", "HA": "410000", "HB": "420000", "HN": "430000", "GD": "440000", "GX": "450000", "HI": "460000",
    "CQ": "500000", "SC": "510000", "GZ": "520000", "YN": "530000", "XZ": "540000", "SN": "610000", "GS": "620000",
    "QH": "630000", "NX": "640000", "XJ": "650000",
}  # fmt: skip
REGIONS = {"HK": "810000", "MO": "820000", "TW": "710000"}
PAID = {"paid", "partially_refunded", "refunded"}


def _province(a: NativeReader) -> str:
    country = a.text("country_code", required=True).upper()
    if country in REGIONS:
        return REGIONS[country]
    if country != "CN":
        raise MappingError("unsupported_country", a.at("country_code"), "Only addresses in China are taken in.",
                           {"country": country})  # fmt: skip
    code = a.text("province_code", required=True).upper().removeprefix("CN-")
    if code not in CN_PROVINCES:
        raise MappingError("bad_province", a.at("province_code"), f"{code!r} is not a province of China.")
    return CN_PROVINCES[code]


def _applications(o: NativeReader) -> list[str]:
    raw = o.data.get("discount_applications") or []
    return [str(a.get("target_selection", "")) if isinstance(a, dict) else "" for a in raw]


def _line(item: NativeReader, targets: list[str]) -> tuple[dict[str, Any], LineShare, int]:
    line_id = item.text("id", required=True)
    quantity = item.integer("quantity")
    price = item.money("price", required=True)
    own = order_share = 0
    for i, raw in enumerate(item.data.get("discount_allocations") or []):
        alloc = NativeReader(raw, item.at(f"discount_allocations[{i}]"), item.currency)
        amount = alloc.money("amount", required=True)
        index = alloc.integer("discount_application_index")
        if 0 <= index < len(targets) and targets[index] == "all":
            order_share += amount
        else:
            own += amount
    line = {
        "platform_line_id": line_id,
        "platform_sku_code": item.text("variant_id") or line_id,
        "sku_code": item.text("sku"),
        "name": item.text("name")[:200],
        "quantity": quantity,
        "unit_price": money_text(price, item.currency),
        "line_discount": money_text(own, item.currency),
    }
    return line, LineShare(line_id, price * quantity - own - order_share), order_share


def _refunds(o: NativeReader) -> tuple[MappedRefund, ...]:
    out = []
    for i, raw in enumerate(o.data.get("refunds") or []):
        r = NativeReader(raw, f"refunds[{i}]", o.currency)
        amount = 0
        for j, t in enumerate(r.data.get("transactions") or []):
            txn = NativeReader(t, r.at(f"transactions[{j}]"), o.currency)
            if txn.text("kind") == "refund" and txn.text("status") == "success":
                amount += txn.money("amount")
        out.append(MappedRefund(r.text("id", required=True), "", amount, RefundState.SUCCESS, "refund"))
    return tuple(out)


def _phase(o: NativeReader) -> Phase:
    if o.text("cancelled_at"):
        return Phase.CLOSED
    financial = o.text("financial_status", required=True)
    if financial not in PAID:
        return Phase.UNPAID
    fulfilment = o.text("fulfillment_status")
    return Phase.SHIPPED if fulfilment == "fulfilled" else Phase.PAID


def map_order(native: dict[str, Any]) -> MappedOrder:
    currency = str(native.get("currency") or "") if isinstance(native, dict) else ""
    o = NativeReader(native, "", currency or "CNY")
    order_id = o.text("id", required=True)
    modified = o.local_time("updated_at", required=True)
    assert modified is not None
    targets = _applications(o)
    lines, shares, order_discount = [], [], 0
    for item in o.items("line_items"):
        line, share, allocated = _line(item, targets)
        lines.append(line)
        shares.append(share)
        order_discount += allocated
    shipping = sum(
        NativeReader(s, f"shipping_lines[{i}]", o.currency).money("discounted_price")
        for i, s in enumerate(o.data.get("shipping_lines") or [])
    )
    a = o.child("shipping_address")
    receiver = {
        "name": a.text("name", required=True), "phone": a.text("phone", required=True), "province": _province(a),
        "city": a.text("city", required=True), "district": a.text("address2"),
        "address": a.text("address1", required=True), "postcode": a.text("zip")[:6],
    }  # fmt: skip
    phase = _phase(o)
    payable = o.money("total_price", required=True)
    customer = o.child("customer")
    gateway = (o.data.get("payment_gateway_names") or ["shopify"])[0]
    payload: dict[str, Any] = {
        "platform_order_id": order_id, "type": "sale", "currency": o.currency,
        "placed_at": iso(o.local_time("created_at", required=True)),
        "buyer": {"platform_buyer_id": customer.text("id"), "email": customer.text("email")}
        if customer.text("id") else None,
        "receiver": receiver, "buyer_remark": o.text("note")[:500], "seller_remark": "", "invoice": {"kind": "none"},
        "presale": False, "cod": gateway == "Cash on Delivery (COD)",
        "order_discount": money_text(order_discount, o.currency), "shipping": money_text(shipping, o.currency),
        "payment": {"method": "platform", "transaction_id": f"SHOPIFY{order_id}",
                    "amount": money_text(payable, o.currency), "paid_at": iso(o.local_time("processed_at"))}
        if phase in (Phase.PAID, Phase.SHIPPED, Phase.DONE) else None,
        "lines": lines, "totals": {"payable": money_text(payable, o.currency)},
    }  # fmt: skip
    return MappedOrder(
        platform_order_id=order_id,
        modified_at=modified,
        phase=phase,
        native_status=f"{o.text('financial_status')}/{o.text('fulfillment_status') or 'unfulfilled'}",
        payload=payload,
        refunds=_refunds(o),
        line_shares=tuple(shares),
        buyer_token=customer.text("id"),
        version=native_version(native),
    )
