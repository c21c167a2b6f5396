"""Pinduoduo through its open gateway (/api/router): pdd.order.list.increment.get by update time."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from oms.connectors.adapters.base import Connection, OrdersPage, ShipmentOut, StockFigure
from oms.connectors.adapters.signed import answer_of, signed_call
from oms.connectors.domain.mapped import MappedOrder, MappedRefund
from oms.connectors.domain.pinduoduo import map_order

RATE_CODES = {"70031", "70032"}  # 调用过于频繁
AUTH_CODES = {"10019", "10020"}  # access_token 过期 / 无效


class PinduoduoAdapter:
    platform = "pinduoduo"
    calls_per_second = 10.0
    max_window_s = 1_800  # the increment API allows at most 30 minutes per call
    page_size = 100

    def _call(self, conn: Connection, api: str, params: dict[str, str]) -> dict[str, Any]:
        form = {"type": api, "client_id": conn.app_key, "access_token": conn.access_token,
                "timestamp": str(int(time.time())), "data_type": "JSON", **params}  # fmt: skip
        return signed_call(conn, "/api/router", form, rate_codes=RATE_CODES, auth_codes=AUTH_CODES)

    def orders_page(
        self, conn: Connection, *, start: datetime, end: datetime, page: int, cursor: str = ""
    ) -> OrdersPage:
        body = self._call(conn, "pdd.order.list.increment.get", {
            "start_updated_at": str(int(start.timestamp())), "end_updated_at": str(int(end.timestamp())),
            "order_status": "5", "refund_status": "5", "is_lucky_flag": "0", "page": str(page),
            "page_size": str(self.page_size), "use_has_next": "false",
        })  # fmt: skip
        answer = answer_of(body, "order_sn_increment_get_response")
        return OrdersPage(list(answer.get("order_sn_list") or []), int(answer.get("total_count") or 0), page)

    def map_order(self, native: dict[str, Any]) -> MappedOrder:
        return map_order(native)

    def map_refunds(self, native: dict[str, Any]) -> tuple[MappedRefund, ...]:
        return map_order(native).refunds

    def shipment_write_back(self, conn: Connection, shipment: ShipmentOut) -> dict[str, Any]:
        results = []
        for parcel in shipment.parcels:
            results.append(self._call(conn, "pdd.logistics.online.send", {
                "order_sn": shipment.platform_order_id, "logistics_id": parcel.courier_code,
                "tracking_number": parcel.tracking_number,
            }))  # fmt: skip
        return {"parcels": results}

    def stock_write_back(self, conn: Connection, figures: list[StockFigure]) -> dict[str, Any]:
        results = []
        for figure in figures:
            results.append(self._call(conn, "pdd.goods.quantity.update", {
                "sku_id": figure.platform_sku_code, "quantity": str(figure.quantity), "update_type": "1",
            }))  # fmt: skip
        return {"items": results}
