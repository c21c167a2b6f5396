"""Seller remark and invoice request edits: validated, recorded, refused once the order is final."""

from __future__ import annotations

from typing import Any

from django.test import Client

from oms.audit.models import OperationLog
from oms.orders.models import Order, OrderEvent


def test_api_edits_remark_and_invoice_with_timeline_and_log(
    make_order: Any, make_operator: Any, api_client: Any
) -> None:
    order = make_order()
    client = api_client(make_operator("customer_service"))
    body = {"seller_remark": "加急，顺丰", "invoice": {"kind": "personal", "title": "王小明"}}
    response = client.patch(f"/api/v1/orders/{order.number}/remarks", data=body, content_type="application/json")
    assert response.status_code == 200, response.content
    detail = response.json()
    assert detail["seller_remark"] == "加急，顺丰" and detail["invoice"]["kind"] == "personal"
    assert detail["buyer_remark"] == "请尽快发货"
    event = OrderEvent.objects.get(order=order, kind="remarks_changed")
    assert event.data["seller_remark"] == "加急，顺丰" and event.data["invoice_tax_id"] == ""
    log = OperationLog.objects.get(action="order.remarks")
    assert log.before["invoice_kind"] == "company" and log.after["invoice_kind"] == "personal"


def test_bad_invoice_is_422_and_nothing_changes(make_order: Any, make_operator: Any, api_client: Any) -> None:
    order = make_order()
    client = api_client(make_operator("customer_service"))
    body = {"invoice": {"kind": "company", "title": "某公司", "tax_id": "bad id", "email": "nope"}}
    response = client.patch(f"/api/v1/orders/{order.number}/remarks", data=body, content_type="application/json")
    assert response.status_code == 422
    assert {d["field"] for d in response.json()["error"]["details"]} == {"invoice.tax_id", "invoice.email"}
    assert Order.objects.get(pk=order.pk).invoice_tax_id == "91330100MA2B3C4D5E"


def test_final_orders_keep_their_remarks(make_order: Any, make_operator: Any, api_client: Any) -> None:
    order = make_order()
    Order.objects.filter(pk=order.pk).update(status="closed")
    client = api_client(make_operator("customer_service"))
    response = client.patch(
        f"/api/v1/orders/{order.number}/remarks", data={"seller_remark": "x"}, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "order_final"


def test_console_form(make_order: Any, make_operator: Any) -> None:
    order = make_order()
    client = Client()
    client.force_login(make_operator("order_reviewer"))
    form = {
        "seller_remark": "核对地址",
        "invoice_kind": "none",
        "invoice_title": "",
        "invoice_tax_id": "",
        "invoice_email": "",
    }
    page = client.post(f"/orders/{order.number}/remarks/", form, follow=True).content.decode()
    assert "核对地址" in page
    assert Order.objects.get(pk=order.pk).invoice_kind == "none"
    warehouse = Client()  # a role without orders.edit_remarks (finance has it: it corrects invoice details)
    warehouse.force_login(make_operator("warehouse_coordinator"))
    assert warehouse.post(f"/orders/{order.number}/remarks/", form).status_code == 403
