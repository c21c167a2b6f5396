"""Douyin shop (抖店) open API: order.searchList by update time, HMAC-SHA256 signed."""

from __future__ import annotations

import time
import urllib.parse
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
from oms.connectors.domain.douyin import map_order
from oms.connectors.domain.douyin_sign import douyin_param_json, douyin_sign
from oms.connectors.domain.mapped import MappedOrder, MappedRefund

OK = 10000
RATE_CODES = {50002}  # 请求过于频繁 (rate limited)
AUTH_CODES = {30001, 30002}  # access_token 无效 / 已过期


class DouyinAdapter:
    platform = "douyin"
    calls_per_second = 10.0
    max_window_s = 86_400
    page_size = 100

    def _call(self, conn: Connection, method: str, params: dict[str, Any]) -> dict[str, Any]:
        param_json, ts = douyin_param_json(params), str(int(time.time()))
        query = {
            "app_key": conn.app_key, "method": method, "access_token": conn.access_token, "param_json": param_json,
            "timestamp": ts, "v": "2", "sign_method": "hmac-sha256",
            "sign": douyin_sign(app_key=conn.app_key, secret=conn.app_secret, method=method, param_json=param_json,
                                timestamp=ts),
        }  # fmt: skip
        url = f"{conn.base_url.rstrip('/')}/{method.replace('.', '/')}?{urllib.parse.urlencode(query)}"
        body = call_json(url, body=params, timeout_s=conn.timeout_s)
        code = body.get("code")
        if code != OK:
            message = str(body.get("sub_msg") or body.get("msg") or "抖店 error")
            if code in RATE_CODES:
                raise RateLimited(f"douyin_{code}", message)
            if code in AUTH_CODES:
                raise AuthExpired(f"douyin_{code}", message)
            if isinstance(code, int) and code >= 90000:
                raise PlatformUnavailable(f"douyin_{code}", message)
            raise PlatformError(f"douyin_{code}", message)
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    def orders_page(
        self, conn: Connection, *, start: datetime, end: datetime, page: int, cursor: str = ""
    ) -> OrdersPage:
        data = self._call(conn, "order.searchList", {
            "update_time_start": int(start.timestamp()), "update_time_end": int(end.timestamp()),
            "page": page - 1, "size": self.page_size, "order_by": "update_time", "order_asc": True,
        })  # fmt: skip
        return OrdersPage(list(data.get("shop_order_list") or []), int(data.get("total") or 0), page)

    def map_order(self, native: dict[str, Any]) -> MappedOrder:
        return map_order(native)

    def map_refunds(self, native: dict[str, Any]) -> tuple[MappedRefund, ...]:
        return map_order(native).refunds

    def shipment_write_back(self, conn: Connection, shipment: ShipmentOut) -> dict[str, Any]:
        results = []
        for parcel in shipment.parcels:
            params: dict[str, Any] = {"order_id": shipment.platform_order_id, "company_code": parcel.courier_code,
                                      "logistics_code": parcel.tracking_number}  # fmt: skip
            if parcel.platform_line_ids:
                params["pack_list"] = [
                    {"shipped_order_info": [{"shipped_order_id": i} for i in parcel.platform_line_ids]}
                ]
            results.append(self._call(conn, "order.logisticsAdd", params))
        return {"parcels": results}

    def stock_write_back(self, conn: Connection, figures: list[StockFigure]) -> dict[str, Any]:
        results = [
            self._call(
                conn, "sku.syncStock", {"sku_id": f.platform_sku_code, "stock_num": f.quantity, "incremental": False}
            )
            for f in figures
        ]
        return {"items": results}
