"""The simulator's TOP: builds native trades and answers /router/rest like the gateway does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oms.connectors.domain.mapped import CHINA_TZ, money_text
from oms.connectors.domain.top_sign import top_sign
from oms.connectors.simulator.state import SimShop, SimulatorState
from oms.core.domain.money import apportion


@dataclass(frozen=True)
class SimLine:
    oid: str
    sku_id: str
    outer_sku_id: str
    title: str
    price_minor: int
    num: int
    discount_minor: int = 0
    refund_id: str = ""
    refund_status: str = "NO_REFUND"


@dataclass(frozen=True)
class SimReceiver:
    name: str = "王小明"
    mobile: str = "13800138000"
    state: str = "浙江省"
    city: str = "杭州市"
    district: str = "西湖区"
    address: str = "文三路 100 号"
    zip: str = "310000"


def top_time(value: datetime) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def build_trade(
    *,
    tid: str,
    status: str,
    created: datetime,
    modified: datetime,
    lines: Sequence[SimLine],
    post_fee_minor: int = 0,
    order_discount_minor: int = 0,
    receiver: SimReceiver = SimReceiver(),
    trade_type: str = "fixed",
    buyer: str = "tb_buyer",
    buyer_message: str = "",
    seller_memo: str = "",
    pay_time: datetime | None = None,
    step_trade_status: str = "",
    step_paid_fee_minor: int = 0,
    oaid: str = "",
    invoice_name: str = "",
) -> dict[str, Any]:
    """A trade as taobao.trades.sold.increment.get returns it; the order discount is apportioned over the
    sub-orders by what each pays (part_mjz_discount), and divide_order_fee is what is left of each."""
    own = [ln.price_minor * ln.num - ln.discount_minor for ln in lines]
    shares = apportion(order_discount_minor, own) if order_discount_minor else [0] * len(lines)
    orders = []
    for ln, pay, share in zip(lines, own, shares, strict=True):
        orders.append({
            "oid": ln.oid, "num_iid": f"6{ln.sku_id}", "sku_id": ln.sku_id, "outer_sku_id": ln.outer_sku_id,
            "title": ln.title, "price": money_text(ln.price_minor), "num": ln.num,
            "total_fee": money_text(ln.price_minor * ln.num), "discount_fee": money_text(ln.discount_minor),
            "adjust_fee": "0.00", "payment": money_text(pay), "part_mjz_discount": money_text(share),
            "divide_order_fee": money_text(pay - share), "status": status,
            "refund_id": ln.refund_id or None, "refund_status": ln.refund_status,
        })  # fmt: skip
    payment = sum(own) - order_discount_minor + post_fee_minor
    trade: dict[str, Any] = {
        "tid": tid, "status": status, "type": trade_type, "created": top_time(created), "modified": top_time(modified),
        "total_fee": money_text(sum(ln.price_minor * ln.num for ln in lines)), "post_fee": money_text(post_fee_minor),
        "payment": money_text(payment), "discount_fee": money_text(order_discount_minor), "adjust_fee": "0.00",
        "buyer_nick": buyer, "buyer_open_uid": f"AAH{buyer}", "buyer_message": buyer_message,
        "seller_memo": seller_memo,
        "receiver_name": receiver.name, "receiver_mobile": receiver.mobile, "receiver_state": receiver.state,
        "receiver_city": receiver.city, "receiver_district": receiver.district, "receiver_address": receiver.address,
        "receiver_zip": receiver.zip, "alipay_no": f"2026{tid}", "orders": {"order": orders},
    }  # fmt: skip
    if pay_time is not None:
        trade["pay_time"] = top_time(pay_time)
    if step_trade_status:
        trade["step_trade_status"] = step_trade_status
        trade["step_paid_fee"] = money_text(step_paid_fee_minor)
    if oaid:
        trade["oaid"] = oaid
    if invoice_name:
        trade["invoice_name"] = invoice_name
    return trade


def _error(code: int, msg: str, sub_code: str = "") -> dict[str, Any]:
    return {"error_response": {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": msg}}


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)


def _trades(state: SimulatorState, shop: SimShop, form: dict[str, str]) -> dict[str, Any]:
    try:
        start, end = _parse_time(form["start_modified"]), _parse_time(form["end_modified"])
        page_no, page_size = int(form.get("page_no", "1")), min(int(form.get("page_size", "40")), 100)
    except (KeyError, ValueError):
        return _error(41, "Invalid arguments", "isv.invalid-parameter")
    if page_no < 1 or page_size < 1:
        return _error(41, "Invalid arguments", "isv.invalid-parameter")
    items = state.window(shop, start, end)
    page = state.page(shop, items, page_no, page_size)
    return {"trades_sold_increment_get_response": {"total_results": len(items), "trades": {"trade": page}}}


def answer_top(state: SimulatorState, form: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """(fault, body) for one TOP call; fault is "" or what the server should do instead of answering."""
    shop = state.shop("taobao", form.get("app_key", ""))
    if shop is None:
        return "", _error(29, "Invalid app Key", "isv.appkey-not-exists")
    if form.get("sign") != top_sign(form, shop.app_secret):
        return "", _error(25, "Invalid signature", "isv.invalid-signature")
    if not shop.token_valid or form.get("session") != shop.access_token:
        return "", _error(27, "Invalid session", "invalid-sessionkey")
    fault = state.fault_for_call(shop)
    if fault == "rate_limit":
        return "", _error(7, "App Call Limited", "accesscontrol.limited-by-app-access-count")
    if fault:
        return fault, {}
    method = form.get("method", "")
    if method == "taobao.trades.sold.increment.get":
        return "", _trades(state, shop, form)
    if method == "taobao.logistics.offline.send":
        state.write_back(shop, {"kind": "shipment", **{k: form.get(k, "") for k in
                                ("tid", "out_sid", "company_code", "is_split", "sub_tid")}})  # fmt: skip
        return "", {"logistics_offline_send_response": {"shipping": {"is_success": True}}}
    if method == "taobao.item.quantity.update":
        state.write_back(shop, {"kind": "stock", "sku_id": form.get("sku_id", ""), "quantity": form.get("quantity")})
        return "", {
            "item_quantity_update_response": {"item": {"sku_id": form.get("sku_id"), "num": form.get("quantity")}}
        }
    return "", _error(22, "Invalid method", "isv.method-not-exists")
