from __future__ import annotations

from typing import Any

from oms.review.models import Interception


def test_validate_reports_position(make_operator: Any, api_client: Any) -> None:
    client = api_client(make_operator("order_reviewer"))
    ok = client.post("/api/v1/rules/validate", {"condition": "paid_amount > 10"}, content_type="application/json")
    assert ok.json() == {"valid": True, "message": "", "position": None}
    bad = client.post("/api/v1/rules/validate", {"condition": "paid_amont > 10"}, content_type="application/json")
    assert bad.json()["valid"] is False
    assert bad.json()["position"] == 0
    assert "paid_amount" in bad.json()["message"]


def test_rule_create_needs_edit_permission_and_valid_condition(make_operator: Any, api_client: Any) -> None:
    body = {"code": "big", "name": "大单", "condition": "paid_amount > 10000"}
    assert (
        api_client(make_operator("order_reviewer"))
        .post("/api/v1/rules", body, content_type="application/json")
        .status_code
        == 403
    )
    admin = api_client(make_operator("administrator"))
    bad = admin.post("/api/v1/rules", {**body, "condition": "paid_amount >"}, content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "condition"
    assert bad.json()["error"]["position"] == 13
    created = admin.post("/api/v1/rules", body, content_type="application/json")
    assert created.status_code == 201
    assert created.json()["code"] == "big"


def test_review_release_flow_over_the_api(paid_order: Any, make_operator: Any, api_client: Any) -> None:
    order = paid_order(buyer_remark="请用纸箱")
    reviewer = api_client(make_operator("order_reviewer"))
    result = reviewer.post(f"/api/v1/orders/{order.number}/review").json()
    assert result == {"order": order.number, "passed": False, "open_interceptions": ["remark"]}
    queue = reviewer.get("/api/v1/interceptions", {"reason_code": "remark"}).json()
    assert [i["order"] for i in queue] == [order.number]
    cs = api_client(make_operator("customer_service"))
    denied = cs.post(
        "/api/v1/interceptions/release", {"ids": [queue[0]["id"]], "note": "ok"}, content_type="application/json"
    )
    assert denied.status_code == 403
    released = reviewer.post(
        "/api/v1/interceptions/release", {"ids": [queue[0]["id"]], "note": "已处理"}, content_type="application/json"
    )
    assert released.json() == [{"order": order.number, "passed": True, "open_interceptions": []}]
    assert Interception.objects.get().state == "released"


def test_dry_run_and_unknown_order(paid_order: Any, make_operator: Any, api_client: Any) -> None:
    order = paid_order()
    reviewer = api_client(make_operator("order_reviewer"))
    body = reviewer.get(f"/api/v1/orders/{order.number}/review/dry-run", {"condition": "line_count >= 3"}).json()
    assert body["draft_matches"] is True
    assert {h["code"] for h in body["hits"]} >= {"remark", "address"}
    assert reviewer.post("/api/v1/orders/NOPE/review").status_code == 404


def test_refund_request_over_the_api(paid_order: Any, make_operator: Any, api_client: Any) -> None:
    order = paid_order()
    admin = api_client(make_operator("administrator"))
    body = {"platform_refund_id": "RF-9", "amount": "12.50", "reason": "拍错了"}
    assert (
        admin.post(f"/api/v1/orders/{order.number}/refund-requests", body, content_type="application/json").status_code
        == 201
    )
    bad = admin.post(
        f"/api/v1/orders/{order.number}/refund-requests", {**body, "amount": "1.234"}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert Interception.objects.filter(order=order, reason_code="refund", state="open").count() == 1
