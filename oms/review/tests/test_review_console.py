from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from oms.review.models import Interception, Rule
from oms.review.services import order_review


def _client(operator: Any) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def test_queue_filters_by_reason_and_bulk_releases(paid_order: Any, make_operator: Any, admin_operator: Any) -> None:
    remark = paid_order(buyer_remark="请周末送")
    big = paid_order(lines=[{"sku_code": "TEA-001", "quantity": 100, "unit_price": "99.00"}], order_discount="0.00")
    for order in (remark, big):
        order_review(order=order, actor=admin_operator)
    client = _client(make_operator("order_reviewer"))
    page = client.get("/interceptions/", {"reason": "remark"}).content.decode()
    assert remark.number in page
    assert big.number not in page
    ids = list(Interception.objects.values_list("pk", flat=True))
    response = client.post("/interceptions/release/", {"ids": ids, "note": "已核实"})
    assert response.status_code == 302
    assert not Interception.objects.filter(state="open").exists()
    remark.refresh_from_db()
    assert remark.reviewed_at is not None


def test_release_without_note_changes_nothing(paid_order: Any, make_operator: Any, admin_operator: Any) -> None:
    order = paid_order(buyer_remark="x")
    order_review(order=order, actor=admin_operator)
    client = _client(make_operator("order_reviewer"))
    client.post("/interceptions/release/", {"ids": [Interception.objects.get().pk], "note": ""})
    assert Interception.objects.get().state == "open"


def test_customer_service_sees_queue_but_cannot_release(make_operator: Any) -> None:
    client = _client(make_operator("customer_service"))
    assert client.get("/interceptions/").status_code == 200
    assert client.post("/interceptions/release/", {"ids": [1], "note": "x"}).status_code == 403


def test_live_validation_partial(make_operator: Any) -> None:
    client = _client(make_operator("order_reviewer"))
    ok = client.post("/rules/validate/", {"condition": "paid_amount > 1"}).content.decode()
    assert "condition-ok" in ok
    bad = client.post("/rules/validate/", {"condition": "paid_amount > > 1"}).content.decode()
    assert "condition-error" in bad
    assert "15" in bad


def test_rule_editor_saves_and_refuses_bad_condition(make_operator: Any) -> None:
    client = _client(make_operator("administrator"))
    form = {
        "kind": "review",
        "code": "xj",
        "name": "新疆订单",
        "condition": 'province == "新疆维吾尔自治区"',
        "reason": "偏远地区",
        "priority": "90",
        "enabled": "on",
    }
    bad = client.post("/rules/new/", {**form, "condition": "province =="})
    assert bad.status_code == 200
    assert not Rule.objects.filter(code="xj").exists()
    assert client.post("/rules/new/", form).status_code == 302
    assert Rule.objects.get(code="xj").priority == 90


def test_reviewer_cannot_save_rules(make_operator: Any) -> None:
    client = _client(make_operator("order_reviewer"))
    rule = Rule.objects.get(code="remark")
    client.post(
        f"/rules/{rule.pk}/", {"kind": "review", "code": "remark", "name": "x", "condition": "true", "priority": "1"}
    )
    rule.refresh_from_db()
    assert rule.condition == "has_remark"


def test_dry_run_partial(paid_order: Any, make_operator: Any) -> None:
    order = paid_order(buyer_remark="hi")
    client = _client(make_operator("order_reviewer"))
    page = client.get("/rules/dry-run/", {"number": order.number, "condition": "has_remark"}).content.decode()
    assert "draft-result" in page
    assert "has_remark" in page


@pytest.mark.browser
def test_rule_editor_validates_live_in_chromium(browser_page: Any, live_server: Any) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/rules/new/")
    page.fill("[data-testid=condition]", "paid_amount > > 5")
    page.wait_for_selector("[data-testid=condition-error]:has-text('15')")
    assert "15" in page.locator("[data-testid=condition-error]").inner_text()
    page.fill("[data-testid=condition]", "paid_amount > 5")
    page.wait_for_selector("[data-testid=condition-ok]")
