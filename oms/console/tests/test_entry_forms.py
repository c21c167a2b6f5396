"""Console forms for what only the API could do (issue 15 item 9c): enter an order by hand (sale and reissue)
through the intake service, record a payment or a refund, settle money owed back, close a refund request —
each behind its API operation's permission, refusals naming the field in the operator's language."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from oms.orders.models import Order, Payment
from oms.orders.services.cancel import order_cancel
from oms.review.models import Interception, RefundRequest
from oms.review.services import refund_request_receive
from oms.testing.fulfillment import World

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def logged_in(operator: Any) -> Client:
    client = Client()
    client.force_login(operator)
    return client


def _order_form(world: World, **changes: str) -> dict[str, str]:
    form = {
        "channel": world.channel.code,
        "type": "sale",
        "receiver_name": "王小明",
        "receiver_phone": "13700137000",
        "receiver_province": "浙江",
        "receiver_city": "杭州市",
        "receiver_district": "西湖区",
        "receiver_address": "文一路 1 号",
        "line-0-sku": "TEA-001",
        "line-0-qty": "2",
        "line-0-price": "30.00",
        "line-1-sku": "NUT-002",
        "line-1-qty": "1",
        "line-1-price": "45.50",
        "payment_method": "bank_transfer",
        "payment_transaction_id": "BANK-0001",
    }
    form.update(changes)
    return form


def _problems(html: str) -> str:
    match = re.search(r'data-testid="(?:entry|money)-problems">(.*?)</section>', html, re.S)
    assert match, html[:2000]
    return match[1]


def test_enter_an_order_by_hand_through_intake(world: World, make_operator: Any) -> None:
    service = logged_in(make_operator("customer_service"))
    page = service.get("/orders/new/", **ZH)
    assert page.status_code == 200 and 'data-testid="order-new-form"' in page.content.decode()
    response = service.post("/orders/new/", _order_form(world))
    assert response.status_code == 302
    order = Order.objects.get(number=response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert order.channel == world.channel and order.order_type == "sale"
    assert sorted((ln.sku.code, ln.quantity) for ln in order.lines.select_related("sku")) == [
        ("NUT-002", 1),
        ("TEA-001", 2),
    ]
    assert order.payable_minor == 10550 and order.received_minor == 10550
    assert order.platform_order_ids[0].startswith("HAND")
    assert order.receiver_name == "王小明" and order.customer is not None


def test_hand_entry_refusal_names_the_field_in_chinese(world: World, make_operator: Any) -> None:
    service = logged_in(make_operator("customer_service"))
    before = Order.objects.count()
    html = service.post("/orders/new/", _order_form(world, **{"line-1-sku": "NO-SUCH"}), **ZH).content.decode()
    problems = _problems(html)
    assert "第 2 行" in problems and "NO-SUCH" in problems and "未知" in problems, problems
    html = service.post("/orders/new/", _order_form(world, **{"line-0-qty": "0"}), **ZH).content.decode()
    assert "第 1 行，数量" in _problems(html)
    assert 'value="NO-SUCH"' not in html and 'value="王小明"' in html  # what was typed stays in the form
    assert Order.objects.count() == before


def test_hand_entry_and_sku_picker_need_add_order(world: World, make_operator: Any) -> None:
    finance = logged_in(make_operator("finance"))
    assert finance.get("/orders/new/").status_code == 403
    assert finance.post("/orders/new/", _order_form(world)).status_code == 403
    assert finance.get("/orders/new/skus/?q=TEA").status_code == 403
    service = logged_in(make_operator("customer_service"))
    options = service.get("/orders/new/skus/", {"line-0-sku": "坚果"}).content.decode()
    assert 'value="NUT-002"' in options and "TEA-001" not in options


def test_reissue_by_hand_prefills_from_the_original(world: World, make_operator: Any) -> None:
    original = world.order([("TEA-001", 1)])
    service = logged_in(make_operator("customer_service"))
    assert 'data-testid="order-reissue-link"' in service.get(f"/orders/{original.number}/").content.decode()
    html = service.get("/orders/new/", {"reissue_of": original.number}).content.decode()
    assert 'value="TEA-001"' in html and 'value="李小华"' in html
    form = _order_form(world, type="reissue", payment_method="", **{"line-0-price": "0", "line-1-sku": ""})
    form.update({"line-1-qty": "", "line-1-price": ""})
    response = service.post("/orders/new/", form)
    assert response.status_code == 302
    reissue = Order.objects.exclude(pk=original.pk).get()
    assert reissue.order_type == "reissue" and reissue.payable_minor == 0


def _unpaid(world: World) -> Order:
    return world.order([("TEA-001", 1)], payment=None)


def test_record_a_payment_and_a_refund(world: World, make_operator: Any) -> None:
    order = _unpaid(world)
    assert order.status == "pending_payment"
    finance = logged_in(make_operator("finance"))
    assert 'data-testid="order-money-link"' in finance.get(f"/orders/{order.number}/").content.decode()
    response = finance.post(
        f"/orders/{order.number}/money/",
        {"kind": "payment", "method": "alipay", "transaction_id": "ALI-77", "amount": "10.00"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.received_minor == 1000 and order.payment_status == "paid"
    finance.post(
        f"/orders/{order.number}/money/",
        {"kind": "refund", "method": "alipay", "transaction_id": "ALI-R1", "amount": "4.00", "refund_of": "ALI-77"},
    )
    order.refresh_from_db()
    assert order.refunded_minor == 400


def test_payment_refusal_names_the_field_and_changes_nothing(world: World, make_operator: Any) -> None:
    order = _unpaid(world)
    finance = logged_in(make_operator("finance"))
    html = finance.post(
        f"/orders/{order.number}/money/",
        {"kind": "payment", "method": "alipay", "transaction_id": "ALI-1", "amount": "ten"},
        **ZH,
    ).content.decode()
    problems = _problems(html)
    assert "amount" in problems and "不是金额" in problems, problems
    assert not Payment.objects.filter(order=order).exists()


def test_money_page_needs_record_payment(world: World, make_operator: Any) -> None:
    order = _unpaid(world)
    service = logged_in(make_operator("customer_service"))
    assert 'data-testid="order-money-link"' not in service.get(f"/orders/{order.number}/").content.decode()
    assert service.get(f"/orders/{order.number}/money/").status_code == 403
    form = {"kind": "payment", "method": "alipay", "transaction_id": "ALI-9", "amount": "10.00"}
    assert service.post(f"/orders/{order.number}/money/", form).status_code == 403
    assert not Payment.objects.filter(order=order).exists()


def test_settle_money_owed_back(world: World, make_operator: Any) -> None:
    order = world.order([("TEA-001", 2)])
    order_cancel(order=order, actor=world.actor, reason="buyer changed their mind")
    payment = Payment.objects.get(order=order, kind="payment")
    assert payment.needs_refund and payment.refund_due_minor == 2000
    finance = logged_in(make_operator("finance"))
    html = finance.get(f"/orders/{order.number}/money/").content.decode()
    assert 'data-testid="owed-back"' in html and "20.00" in html
    finance.post(
        f"/orders/{order.number}/money/",
        {
            "kind": "refund",
            "method": payment.method,
            "transaction_id": "ALI-BACK-1",
            "amount": "20.00",
            "refund_of": payment.transaction_id,
        },
    )
    payment.refresh_from_db()
    assert payment.refund_due_minor == 0 and not payment.needs_refund
    assert "owed-back" not in finance.get(f"/orders/{order.number}/money/").content.decode()


def test_close_a_refund_request(world: World, make_operator: Any, admin_operator: Any) -> None:
    order = world.order([("TEA-001", 1)])
    refund_request_receive(
        order=order, platform_refund_id="RF-1", amount_minor=1000, reason="不想要了", actor=world.actor
    )
    assert Interception.objects.filter(order=order, reason_code="refund", state="open").exists()
    finance = logged_in(make_operator("finance"))  # records payments, may not close refund requests
    url = f"/orders/{order.number}/refund-requests/close/"
    assert finance.post(url, {"platform_refund_id": "RF-1", "note": "x"}).status_code == 403
    boss = logged_in(admin_operator)
    html = boss.get(f"/orders/{order.number}/money/").content.decode()
    assert 'data-testid="refund-close-form"' in html and "RF-1" in html
    page = boss.post(url, {"platform_refund_id": "RF-1", "note": ""}, follow=True, **ZH).content.decode()
    assert "请说明原因" in page and RefundRequest.objects.get(platform_refund_id="RF-1").is_open
    boss.post(url, {"platform_refund_id": "RF-1", "note": "买家撤销退款"})
    assert not RefundRequest.objects.get(platform_refund_id="RF-1").is_open
    assert not Interception.objects.filter(order=order, reason_code="refund", state="open").exists()


def test_api_closes_a_refund_request(world: World, api_client: Any, admin_operator: Any) -> None:
    order = world.order([("TEA-001", 1)])
    refund_request_receive(order=order, platform_refund_id="RF-2", amount_minor=500, reason="", actor=world.actor)
    client = api_client(admin_operator)
    url = f"/api/v1/orders/{order.number}/refund-requests/RF-2/close"
    assert client.post(url, {"note": ""}, content_type="application/json").status_code == 422
    response = client.post(url, {"note": "platform closed it"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["open"] is False
    assert client.post(url, {"note": "again"}, content_type="application/json").status_code == 404
