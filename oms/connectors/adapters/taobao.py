"""Taobao/Tmall through TOP (gw.api.taobao.com/router/rest, or the simulator): signed form calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oms.connectors.adapters.base import (
    AuthExpired,
    Connection,
    OrdersPage,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
    ShipmentOut,
    StockFigure,
)
from oms.connectors.adapters.http import call_json
from oms.connectors.domain.mapped import CHINA_TZ, MappedOrder, MappedRefund
from oms.connectors.domain.taobao import map_trade
from oms.connectors.domain.top_sign import top_sign

TRADE_FIELDS = (
    "tid,type,status,created,modified,pay_time,payment,total_fee,post_fee,discount_fee,adjust_fee,alipay_no,"
    "buyer_nick,buyer_open_uid,buyer_message,seller_memo,receiver_name,receiver_mobile,receiver_phone,"
    "receiver_state,receiver_city,receiver_district,receiver_address,receiver_zip,oaid,invoice_name,buyer_tax_no,"
    "step_trade_status,step_paid_fee,orders"
)
TRADE_TYPES = "fixed,auction,guarantee_trade,step,independent_simple_trade,independent_shop_trade,auto_delivery,ec,cod"
# TOP error codes: 7 app call limit, 27 invalid session, 15 remote service error (isp.*: transient).
_RATE_LIMIT_CODES = {"7"}
_AUTH_CODES = {"26", "27", "53"}


def _when(value: datetime) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


class TaobaoAdapter:
    platform = "taobao"
    calls_per_second = 20.0
    max_window_s = 86_400
    page_size = 100

    def _call(self, conn: Connection, method: str, params: dict[str, str]) -> dict[str, Any]:
        form = {
            "method": method,
            "app_key": conn.app_key,
            "session": conn.access_token,
            "timestamp": _when(datetime.now(CHINA_TZ)),
            "format": "json",
            "v": "2.0",
            "sign_method": "md5",
            **params,
        }
        form["sign"] = top_sign(form, conn.app_secret)
        body = call_json(f"{conn.base_url.rstrip('/')}/router/rest", form=form, timeout_s=conn.timeout_s)
        error = body.get("error_response")
        if isinstance(error, dict):
            code = str(error.get("code", ""))
            sub = str(error.get("sub_code", ""))
            message = str(error.get("sub_msg") or error.get("msg") or "TOP error")
            if code in _RATE_LIMIT_CODES:
                raise RateLimited(f"top_{code}", message, params={"sub_code": sub})
            if code in _AUTH_CODES:
                raise AuthExpired(f"top_{code}", message, params={"sub_code": sub})
            if sub.startswith("isp.") or code == "15":
                raise PlatformUnavailable(f"top_{code}", message, params={"sub_code": sub})
            raise PlatformError(f"top_{code}", message, params={"sub_code": sub})
        key = method.removeprefix("taobao.").replace(".", "_") + "_response"
        answer = body.get(key)
        if not isinstance(answer, dict):
            raise PlatformUnavailable("bad_response", f"The answer has no {key}.")
        return answer

    def orders_page(
        self, conn: Connection, *, start: datetime, end: datetime, page: int, cursor: str = ""
    ) -> OrdersPage:
        answer = self._call(
            conn,
            "taobao.trades.sold.increment.get",
            {
                "fields": TRADE_FIELDS,
                "start_modified": _when(start),
                "end_modified": _when(end),
                "type": TRADE_TYPES,
                "page_no": str(page),
                "page_size": str(self.page_size),
                "use_has_next": "false",
            },
        )
        trades = (answer.get("trades") or {}).get("trade") or []
        if not isinstance(trades, list):
            raise PlatformUnavailable("bad_response", "trades.trade is not a list.")
        return OrdersPage(orders=trades, total=int(answer.get("total_results") or 0), page=page)

    def map_order(self, native: dict[str, Any]) -> MappedOrder:
        return map_trade(native)

    def map_refunds(self, native: dict[str, Any]) -> tuple[MappedRefund, ...]:
        return map_trade(native).refunds

    def shipment_write_back(self, conn: Connection, shipment: ShipmentOut) -> dict[str, Any]:
        """taobao.logistics.offline.send per parcel; a parcel of some sub-orders is a split consignment."""
        results = []
        for parcel in shipment.parcels:
            params = {
                "tid": shipment.platform_order_id,
                "out_sid": parcel.tracking_number,
                "company_code": parcel.courier_code,
            }
            if parcel.platform_line_ids:
                params |= {"is_split": "1", "sub_tid": ",".join(parcel.platform_line_ids)}
            answer = self._call(conn, "taobao.logistics.offline.send", params)
            results.append(answer.get("shipping") or answer)
        return {"parcels": results}

    def stock_write_back(self, conn: Connection, figures: list[StockFigure]) -> dict[str, Any]:
        """taobao.item.quantity.update with type=1 (full figure, not a delta) per SKU."""
        results = []
        for figure in figures:
            answer = self._call(
                conn,
                "taobao.item.quantity.update",
                {"sku_id": figure.platform_sku_code, "quantity": str(figure.quantity), "type": "1"},
            )
            results.append(answer.get("item") or answer)
        return {"items": results}
