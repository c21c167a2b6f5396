"""Taobao/Tmall (TOP): one trade (交易) with its sub-orders (子订单 `orders.order[]`) → our intake payload.

Field meanings follow the TOP Trade and Order models (taobao.trades.sold.increment.get,
taobao.trade.fullinfo.get). Money is decimal yuan text. Per sub-order:

- ``price`` × ``num`` is the goods amount; ``discount_fee`` the sub-order's own discounts (our line discount);
  ``adjust_fee`` the seller's manual change (added: payment = price × num + adjust_fee − discount_fee);
- ``part_mjz_discount`` the order-level discount (满就减 and shop coupons) the platform apportioned to it;
- ``divide_order_fee`` what the buyer paid for it after that apportionment (分摊之后的实付金额): kept beside ours.

Per trade: ``post_fee`` shipping, ``payment`` what the buyer pays in all, ``type`` ("step" = presale 预售 in
stages: deposit ``step_paid_fee`` then the rest; "cod" = cash on delivery), ``oaid`` the receiver token when
the receiver text comes masked (the merge key then), ``buyer_open_uid`` the buyer token.
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

TRADE_PHASES: dict[str, Phase] = {
    "TRADE_NO_CREATE_PAY": Phase.UNPAID,
    "WAIT_BUYER_PAY": Phase.UNPAID,
    "PAY_PENDING": Phase.UNPAID,
    "WAIT_PRE_AUTH_CONFIRM": Phase.UNPAID,
    "WAIT_SELLER_SEND_GOODS": Phase.PAID,
    "PAID_FORBID_CONSIGN": Phase.PAID,
    "SELLER_CONSIGNED_PART": Phase.PAID,
    "WAIT_BUYER_CONFIRM_GOODS": Phase.SHIPPED,
    "TRADE_BUYER_SIGNED": Phase.DONE,
    "TRADE_FINISHED": Phase.DONE,
    "TRADE_CLOSED": Phase.CLOSED,
    "TRADE_CLOSED_BY_TAOBAO": Phase.CLOSED,
}

REFUND_STATES: dict[str, RefundState] = {
    "WAIT_SELLER_AGREE": RefundState.OPEN,
    "WAIT_BUYER_RETURN_GOODS": RefundState.OPEN,
    "WAIT_SELLER_CONFIRM_GOODS": RefundState.OPEN,
    "SELLER_REFUSE_BUYER": RefundState.CLOSED,
    "CLOSED": RefundState.CLOSED,
    "SUCCESS": RefundState.SUCCESS,
}

PRESALE_DEPOSIT_ONLY = "FRONT_PAID_FINAL_NOPAID"


def _line(sub: NativeReader) -> tuple[dict[str, Any], LineShare, int]:
    oid = sub.text("oid", required=True)
    price = sub.money("price", required=True)
    num = sub.quantity("num")
    own_discount = sub.money("discount_fee") - sub.money("adjust_fee", allow_negative=True)
    if own_discount < 0:
        raise MappingError("negative_discount", sub.at("adjust_fee"), "A price raised above the list price.")
    platform_sku = sub.text("sku_id") or sub.text("num_iid", required=True)
    line: dict[str, Any] = {
        "platform_line_id": oid,
        "platform_sku_code": platform_sku,
        "sku_code": sub.text("outer_sku_id") or sub.text("outer_iid"),
        "name": sub.text("title")[:200],
        "quantity": num,
        "unit_price": money_text(price),
        "line_discount": money_text(own_discount),
    }
    paid = sub.money("divide_order_fee") if sub.data.get("divide_order_fee") not in (None, "") else None
    if paid is None:
        paid = sub.money("payment") - sub.money("part_mjz_discount")
    return line, LineShare(oid, paid), sub.money("part_mjz_discount")


def _refunds(subs: list[NativeReader], shares: dict[str, int]) -> tuple[MappedRefund, ...]:
    out = []
    for sub in subs:
        refund_id = sub.text("refund_id")
        status = sub.text("refund_status") or "NO_REFUND"
        if not refund_id or status == "NO_REFUND":
            continue
        state = REFUND_STATES.get(status)
        if state is None:
            raise MappingError("unknown_status", sub.at("refund_status"), f"Unknown refund status {status!r}.")
        oid = sub.text("oid")
        amount = sub.money("refund_fee") if sub.data.get("refund_fee") not in (None, "") else shares.get(oid, 0)
        out.append(MappedRefund(refund_id, oid, amount, state, status))
    return tuple(out)


def _receiver(t: NativeReader) -> dict[str, Any]:
    return {
        "name": t.text("receiver_name", required=True),
        "phone": t.text("receiver_mobile") or t.text("receiver_phone", required=True),
        "province": t.text("receiver_state", required=True),
        "city": t.text("receiver_city", required=True),
        "district": t.text("receiver_district"),
        "address": t.text("receiver_address", required=True),
        "postcode": t.text("receiver_zip"),
    }


def _payment(t: NativeReader, phase: Phase, payable: int) -> dict[str, Any] | None:
    if t.text("type") == "cod":
        return None
    tid = t.text("tid")
    deposit_only = t.text("step_trade_status") == PRESALE_DEPOSIT_ONLY
    if phase is Phase.UNPAID and not deposit_only:
        return None
    if phase is Phase.CLOSED and not t.text("pay_time"):
        return None
    amount = t.money("step_paid_fee", required=True) if deposit_only else payable
    if amount <= 0:
        return None
    return {
        "method": "alipay",
        "transaction_id": t.text("alipay_no") or f"TB{tid}",
        "amount": money_text(amount),
        "paid_at": iso(t.local_time("pay_time")),
    }


def map_trade(native: dict[str, Any]) -> MappedOrder:
    """One TOP trade as our intake payload; `MappingError` names the first native field that is wrong."""
    t = NativeReader(native)
    tid = t.text("tid", required=True)
    status = t.text("status", required=True)
    phase = TRADE_PHASES.get(status)
    if phase is None:
        raise MappingError("unknown_status", "status", f"Unknown trade status {status!r}.", {"status": status})
    modified = t.local_time("modified", required=True)
    assert modified is not None
    subs = t.items("orders", "order")
    lines, shares, order_discount = [], [], 0
    for sub in subs:
        line, share, apportioned = _line(sub)
        lines.append(line)
        shares.append(share)
        order_discount += apportioned
    shipping = t.money("post_fee")
    payable = t.money("payment", required=True)
    receiver = _receiver(t)
    invoice_title = t.text("invoice_name")
    tax_id = t.text("buyer_tax_no")
    payload: dict[str, Any] = {
        "platform_order_id": tid,
        "type": "sale",
        "currency": "CNY",
        "placed_at": iso(t.local_time("created", required=True)),
        "buyer": {
            "platform_buyer_id": t.text("buyer_open_uid") or t.text("buyer_nick", required=True)[:64],
            "nickname": t.text("buyer_nick")[:64],
        },
        "receiver": receiver,
        "buyer_remark": t.text("buyer_message")[:500],
        "seller_remark": t.text("seller_memo")[:500],
        "invoice": {"kind": "company" if tax_id else "personal", "title": invoice_title, "tax_id": tax_id}
        if invoice_title
        else {"kind": "none"},
        "presale": t.text("type") == "step",
        "cod": t.text("type") == "cod",
        "order_discount": money_text(order_discount),
        "shipping": money_text(shipping),
        "payment": _payment(t, phase, payable),
        "lines": lines,
        "totals": {"payable": money_text(payable)},
    }
    return MappedOrder(
        platform_order_id=tid,
        modified_at=modified,
        phase=phase,
        native_status=status,
        payload=payload,
        refunds=_refunds(subs, {s.platform_line_id: s.paid_minor for s in shares}),
        line_shares=tuple(shares),
        buyer_token=t.text("buyer_open_uid"),
        receiver_token=t.text("oaid"),
        receiver_masked=is_masked(receiver["name"], receiver["phone"], receiver["address"]),
        version=native_version(native),
    )
