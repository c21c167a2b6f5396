"""The simulator's JD, Pinduoduo, Douyin and Shopify gateways: the same shops and faults as TOP, each in its
own wire format (signing, envelope, paging, error codes) as the adapters speak it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from oms.connectors.domain.douyin_sign import douyin_sign
from oms.connectors.domain.mapped import CHINA_TZ
from oms.connectors.domain.top_sign import top_sign
from oms.connectors.simulator.state import SimShop, SimulatorState

Answer = tuple[str, int, dict[str, Any]]  # (fault, HTTP status, body)


def _china(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)


def _epoch(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), tz=CHINA_TZ)


def _flat_error(key: str, code: int | str, message: str) -> dict[str, Any]:
    return {"error_response": {key: code, "zh_desc": message, "error_msg": message}}


def _gate(state: SimulatorState, shop: SimShop | None, signed_ok: bool, token_ok: bool) -> str | None:
    """None when the call may go on; else why not ("shop", "sign", "token") or a fault for this call."""
    if shop is None:
        return "shop"
    if not signed_ok:
        return "sign"
    if not shop.token_valid or not token_ok:
        return "token"
    fault = state.fault_for_call(shop)
    return fault or None


def answer_jd(state: SimulatorState, form: dict[str, str]) -> Answer:
    shop = state.shop("jd", form.get("app_key", ""))
    why = _gate(state, shop, shop is not None and form.get("sign") == top_sign(form, shop.app_secret),
                shop is not None and form.get("access_token") == shop.access_token)  # fmt: skip
    errors = {"shop": ("14", "app_key 无效"), "sign": ("12", "签名无效"), "token": ("19", "token 无效"),
              "rate_limit": ("43", "调用次数超限")}  # fmt: skip
    if why in errors:
        return "", 200, _flat_error("code", *errors[why])
    if why:
        return why, 0, {}
    assert shop is not None
    business = json.loads(form.get("360buy_param_json") or "{}")
    method = form.get("method")
    if method == "jingdong.pop.order.search":
        items = state.window(shop, _china(business["start_date"]), _china(business["end_date"]))
        page = state.page(shop, items, int(business.get("page", 1)), int(business.get("page_size", 100)))
        result = {"orderInfoList": page, "orderTotal": len(items), "apiResult": {"success": True}}
        return "", 200, {"jingdong_pop_order_search_responce": {"searchorderinfo_result": result}}
    state.write_back(shop, {"kind": method, **business})
    return "", 200, {"jingdong_response": {"success": True}}


def answer_pdd(state: SimulatorState, form: dict[str, str]) -> Answer:
    shop = state.shop("pinduoduo", form.get("client_id", ""))
    why = _gate(state, shop, shop is not None and form.get("sign") == top_sign(form, shop.app_secret),
                shop is not None and form.get("access_token") == shop.access_token)  # fmt: skip
    errors = {"shop": (10016, "client_id 不存在"), "sign": (10002, "签名错误"), "token": (10019, "access_token 已过期"),
              "rate_limit": (70031, "调用过于频繁")}  # fmt: skip
    if why in errors:
        return "", 200, _flat_error("error_code", *errors[why])
    if why:
        return why, 0, {}
    assert shop is not None
    if form.get("type") == "pdd.order.list.increment.get":
        items = state.window(shop, _epoch(form["start_updated_at"]), _epoch(form["end_updated_at"]))
        page = state.page(shop, items, int(form.get("page", "1")), int(form.get("page_size", "100")))
        return "", 200, {"order_sn_increment_get_response": {"total_count": len(items), "order_sn_list": page}}
    state.write_back(shop, {"kind": form.get("type"), **{k: v for k, v in form.items() if k not in ("sign",)}})
    return "", 200, {"response": {"is_success": True}}


def answer_douyin(state: SimulatorState, query: Mapping[str, str], body: dict[str, Any]) -> Answer:
    shop = state.shop("douyin", query.get("app_key", ""))
    signed = shop is not None and query.get("sign") == douyin_sign(
        app_key=query.get("app_key", ""), secret=shop.app_secret, method=query.get("method", ""),
        param_json=query.get("param_json", ""), timestamp=query.get("timestamp", ""),
    )  # fmt: skip
    why = _gate(state, shop, signed, shop is not None and query.get("access_token") == shop.access_token)
    errors = {"shop": (30005, "app_key 无效"), "sign": (40004, "签名错误"), "token": (30002, "access_token 已过期"),
              "rate_limit": (50002, "请求过于频繁")}  # fmt: skip
    if why in errors:
        code, msg = errors[why]
        return "", 200, {"code": code, "msg": msg, "sub_msg": msg, "data": {}}
    if why:
        return why, 0, {}
    assert shop is not None
    params = json.loads(query.get("param_json") or "{}")
    if query.get("method") == "order.searchList":
        items = state.window(shop, _epoch(params["update_time_start"]), _epoch(params["update_time_end"]))
        size = int(params.get("size", 100))
        page = state.page(shop, items, int(params.get("page", 0)) + 1, size)
        data = {"shop_order_list": page, "total": len(items), "page": params.get("page", 0), "size": size}
        return "", 200, {"code": 10000, "msg": "success", "data": data}
    state.write_back(shop, {"kind": query.get("method"), **params})
    return "", 200, {"code": 10000, "msg": "success", "data": {}}


def answer_shopify(state: SimulatorState, path: str, headers: Mapping[str, str], query: Mapping[str, str],
                   body: dict[str, Any]) -> Answer:  # fmt: skip
    token = headers.get("X-Shopify-Access-Token", "")
    shop = next((s for s in state.shops.values() if s.platform == "shopify" and s.access_token == token), None)
    why = _gate(state, shop, True, shop is not None)
    if why in ("shop", "token"):
        return "", 401, {"errors": "[API] Invalid API key or access token"}
    if why == "rate_limit":
        return "", 429, {"errors": "Exceeded 2 calls per second for api client."}
    if why:
        return why, 0, {}
    assert shop is not None
    if path.endswith("/orders.json"):
        start = datetime.fromisoformat(query["updated_at_min"])
        end = datetime.fromisoformat(query["updated_at_max"])
        since = int(query.get("since_id") or 0)
        items = sorted((o for o in state.window(shop, start, end) if int(o["id"]) > since), key=lambda o: int(o["id"]))
        return "", 200, {"orders": items[: int(query.get("limit", 50))]}
    state.write_back(shop, {"kind": path.rsplit("/", 1)[-1], **body})
    return "", 201, {"ok": True}
