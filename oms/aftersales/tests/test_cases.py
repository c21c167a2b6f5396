"""After-sales cases end to end through the services: create with the recalculated refund, approve, receive,
inspect, refund through payments; bad input refused naming the field with nothing changed; replays."""

from __future__ import annotations

from typing import Any

import pytest

from oms.aftersales.domain import states
from oms.aftersales.models import Case, CaseEvent, ChannelPolicy
from oms.aftersales.services.cases import (
    CaseRequest,
    case_act,
    case_create,
    case_inspect,
    case_preview,
    case_receive,
    case_refund,
)
from oms.aftersales.tests.conftest import man300_payload
from oms.channels.models import ChannelStock
from oms.core.errors import Conflict, ValidationFailed
from oms.inventory.models import Batch, Reservation, StockDocument, StockItem
from oms.inventory.services.verify import stock_verify
from oms.orders.models import Order, OrderEvent, OrderLineVersion, Payment
from oms.review.models import Interception, RefundRequest
from oms.review.services import refund_request_receive


def returning_nuts(**kw: Any) -> CaseRequest:
    return CaseRequest(**{"kind": "return_refund", "reason_code": "no_reason_7_days", "units": {2: 1}, **kw})


def test_a_return_goes_from_request_to_refund(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    assert order.payable_minor == 29000 and order.received_minor == 29000
    preview = case_preview(order=order, req=returning_nuts(), actor=admin_operator)
    assert preview.refund_minor == 5000
    case, created = case_create(order=order, req=returning_nuts(request_key="k1"), actor=admin_operator)
    assert created and case.status == states.REQUESTED and case.refund_minor == 5000
    assert [s["code"] for s in case.explanation][-1] == "refund"
    case = case_act(case, states.APPROVE, actor=admin_operator)
    assert case.status == states.AWAITING_RETURN
    case = case_receive(case, units={2: 1}, actor=admin_operator)
    assert case.status == states.RECEIVED
    case = case_inspect(case, good={2: 1}, defective={}, actor=admin_operator)
    assert case.status == states.REFUNDING
    # Owed back on the order's payment; the kept line re-apportioned as a new version beside the original.
    assert Payment.objects.get(order=order, kind="payment").refund_due_minor == 5000
    versions = {v.line.line_no: (v.quantity, v.paid_minor) for v in OrderLineVersion.objects.filter(line__order=order)}
    assert versions == {1: (1, 24000), 2: (0, 0)}
    case = case_refund(case, method="alipay", transaction_id="RF-1", actor=admin_operator)
    assert case.status == states.REFUNDED
    order.refresh_from_db()
    assert order.refunded_minor == 5000
    assert Payment.objects.get(order=order, kind="payment").refund_due_minor == 0
    # A replay of the refund (same transaction) changes nothing.
    again = case_refund(case, method="alipay", transaction_id="RF-1", actor=admin_operator)
    assert again.status == states.REFUNDED and Payment.objects.filter(order=order, kind="refund").count() == 1
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == ["created", "approve", "receive", "inspect", "settle", "refund"]


def test_inspected_goods_go_back_into_stock_without_drift(shipped: Any, admin_operator: Any) -> None:
    order = shipped(
        lines=[
            {"sku_code": "TEA-001", "quantity": 3, "unit_price": "100.00"},
            {"sku_code": "NUT-002", "quantity": 1, "unit_price": "100.00"},
        ]
    )
    req = CaseRequest(kind="return_refund", reason_code="quality", units={1: 3})
    case, _ = case_create(order=order, req=req, actor=admin_operator)
    case = case_act(case, states.APPROVE, actor=admin_operator)
    assert case.warehouse_id == order.warehouse_id
    case_receive(case, units={1: 2}, actor=admin_operator)
    case.refresh_from_db()
    assert case.status == states.AWAITING_RETURN  # a partial receipt: still expected
    case = case_receive(case, units={1: 1}, actor=admin_operator)
    assert case.status == states.RECEIVED
    case = case_inspect(case, good={1: 2}, defective={1: 1}, actor=admin_operator)
    assert case.status == states.REFUNDING and case.receipt_document_id is not None
    item = StockItem.objects.get(warehouse_id=order.warehouse_id, sku__code="TEA-001")
    assert (item.on_hand, item.defective) == (2, 1)
    assert Batch.objects.filter(batch_no=case.number).exists()
    # Calling inspect again posts nothing twice.
    again = case_inspect(case, good={1: 2}, defective={1: 1}, actor=admin_operator)
    assert again.status == states.REFUNDING and StockDocument.objects.count() == 1
    assert stock_verify().ok


def test_a_replayed_request_returns_the_same_case(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    first, created = case_create(order=order, req=returning_nuts(request_key="same"), actor=admin_operator)
    second, again = case_create(order=order, req=returning_nuts(request_key="same"), actor=admin_operator)
    assert created and not again and first.pk == second.pk and Case.objects.count() == 1


def test_units_already_claimed_by_an_open_case_are_refused(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    case_create(order=order, req=returning_nuts(), actor=admin_operator)
    with pytest.raises(ValidationFailed) as caught:
        case_create(order=order, req=returning_nuts(), actor=admin_operator)
    assert [(d.field, d.code) for d in caught.value.details] == [("lines.2", "too_many")]
    assert Case.objects.count() == 1


def test_bad_input_is_refused_naming_the_field(shipped: Any, make_order: Any, admin_operator: Any) -> None:
    order = shipped()
    with pytest.raises(ValidationFailed) as caught:
        case_create(order=order, req=returning_nuts(units={2: 2, 9: 1}), actor=admin_operator)
    assert {(d.field, d.code) for d in caught.value.details} == {("lines.2", "too_many"), ("lines.9", "unknown_line")}
    unshipped = make_order()
    with pytest.raises(ValidationFailed) as caught:
        case_create(order=unshipped, req=returning_nuts(), actor=admin_operator)
    assert caught.value.details[0].field == "kind"
    with pytest.raises(ValidationFailed) as caught:
        case_create(order=order, req=returning_nuts(method="proportional"), actor=admin_operator)
    assert caught.value.details[0].field == "override_reason"
    assert Case.objects.count() == 0


def test_receiving_or_inspecting_more_than_came_back_is_refused(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    case, _ = case_create(order=order, req=returning_nuts(), actor=admin_operator)
    case_act(case, states.APPROVE, actor=admin_operator)
    with pytest.raises(ValidationFailed) as caught:
        case_receive(case, units={2: 2}, actor=admin_operator)
    assert caught.value.details[0].code == "too_many"
    case_receive(case, units={2: 1}, actor=admin_operator)
    with pytest.raises(ValidationFailed):
        case_inspect(case, good={2: 1}, defective={2: 1}, actor=admin_operator)
    with pytest.raises(Conflict):
        case_refund(case, method="alipay", transaction_id="X", actor=admin_operator)
    case.refresh_from_db()
    assert case.status == states.RECEIVED


def test_the_channel_policy_and_an_override_with_its_reason(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    ChannelPolicy.objects.create(channel=order.channel, method="proportional")
    assert case_preview(order=order, req=returning_nuts(), actor=admin_operator).refund_minor == 8529
    case, _ = case_create(
        order=order, req=returning_nuts(method="recalculate", override_reason="自营渠道规则"), actor=admin_operator
    )
    assert (case.method, case.override_reason, case.refund_minor) == ("recalculate", "自营渠道规则", 5000)
    from oms.audit.models import OperationLog

    log = OperationLog.objects.get(action="aftersales.create")
    assert log.reason == "自营渠道规则"


def test_refund_only_and_the_platform_refund_request_it_closes(make_order: Any, admin_operator: Any) -> None:
    order = make_order(**man300_payload())  # not shipped yet: the request holds it (退款拦截)
    request = refund_request_receive(
        order=order, platform_refund_id="TBR-1", amount_minor=8529, reason="不想要了", actor=admin_operator
    )
    assert Interception.objects.filter(order=order, reason_code="refund", state="open").exists()
    case, _ = case_create(
        order=order,
        req=CaseRequest(kind="refund_only", reason_code="quality", units={2: 1}, refund_request_id=request.pk),
        actor=admin_operator,
    )
    case = case_act(case, states.APPROVE, actor=admin_operator)
    assert case.status == states.REFUNDING
    case = case_refund(case, method="alipay", transaction_id="RF-2", actor=admin_operator)
    assert case.status == states.REFUNDED
    assert not RefundRequest.objects.get(pk=request.pk).is_open
    assert not Interception.objects.filter(order=order, reason_code="refund", state="open").exists()


def test_a_second_return_refunds_from_the_new_version(shipped: Any, admin_operator: Any) -> None:
    order = shipped(
        lines=[
            {"sku_code": "TEA-001", "quantity": 1, "unit_price": "240.00"},
            {"sku_code": "NUT-002", "quantity": 1, "unit_price": "100.00"},
            {"sku_code": "CUP-003", "quantity": 1, "unit_price": "50.00"},
        ],
    )
    total = 0
    for line_no, txn in ((3, "RF-A"), (2, "RF-B")):
        req = CaseRequest(kind="return_refund", reason_code="quality", units={line_no: 1})
        case, _ = case_create(order=order, req=req, actor=admin_operator)
        case_act(case, states.APPROVE, actor=admin_operator)
        case_receive(case, units={line_no: 1}, actor=admin_operator)
        case = case_inspect(case, good={}, defective={line_no: 1}, actor=admin_operator)
        case = case_refund(case, method="alipay", transaction_id=txn, actor=admin_operator)
        total += case.refund_minor
    order.refresh_from_db()
    assert total == 10000 and order.refunded_minor == 10000  # 50.00, then 290.00 − 240.00
    latest = OrderLineVersion.objects.filter(line__order=order, line__line_no=1).order_by("-version").first()
    assert latest is not None and latest.paid_minor == 24000 == order.received_minor - order.refunded_minor


def test_a_reissue_is_a_zero_money_order_linked_to_its_original(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    stock = ChannelStock.objects.filter(channel=order.channel, sku__code="NUT-002")
    stock.update(quota=10)
    reserved_before = stock.get().sales_reserved
    req = CaseRequest(kind="reissue", reason_code="missing_item", units={2: 1})
    case, _ = case_create(order=order, req=req, actor=admin_operator)
    assert case.refund_minor == 0
    case = case_act(case, states.APPROVE, actor=admin_operator)
    reissue = Order.objects.get(pk=case.linked_order_id)
    assert (reissue.order_type, reissue.status, reissue.payable_minor, reissue.payment_status) == (
        "reissue",
        "pending_review",
        0,
        "paid",
    )
    assert reissue.number.startswith("RS") and reissue.platform_order_id is None
    assert reissue.platform_order_ids == order.platform_order_ids
    (line,) = reissue.lines.all()
    assert (line.sku.code, line.quantity, line.paid_minor, line.short_quantity) == ("NUT-002", 1, 0, 0)
    assert stock.get().sales_reserved == reserved_before + 1
    assert OrderEvent.objects.filter(order=order, kind="reissued", data__order=reissue.number).exists()
    # The reissue claims no units: a return of the same unit is still possible.
    back, _ = case_create(order=order, req=returning_nuts(), actor=admin_operator)
    assert back.refund_minor == 5000


def test_a_refund_of_every_unit_before_shipment_cancels_the_order(
    make_order: Any, admin_operator: Any, tmall: Any, skus: Any
) -> None:
    for sku in skus[:2]:
        ChannelStock.objects.create(channel=tmall, sku=sku, quota=10)
    order = make_order(**man300_payload())
    held = Reservation.objects.filter(ref_type="order_line", ref_id__in=order.lines.values("pk"), state="active")
    assert sorted(held.values_list("quantity", flat=True)) == [1, 1]
    req = CaseRequest(kind="refund_only", reason_code="no_reason_7_days", units={1: 1, 2: 1})
    case, _ = case_create(order=order, req=req, actor=admin_operator)
    case = case_act(case, states.APPROVE, actor=admin_operator)
    order.refresh_from_db()
    assert (case.status, case.refund_minor, order.status) == (states.REFUNDING, 29000, "cancelled")
    # Stock released exactly; what was paid is owed back once (the case's), and the refund settles the case.
    assert not held.exists()
    assert Payment.objects.get(order=order, kind="payment").refund_due_minor == 29000
    case = case_refund(case, method="alipay", transaction_id="RF-ALL", actor=admin_operator)
    order.refresh_from_db()
    assert case.status == states.REFUNDED and order.refunded_minor == 29000
    assert stock_verify().ok


def test_a_refund_of_some_units_before_shipment_holds_the_order(make_order: Any, admin_operator: Any) -> None:
    order = make_order(**man300_payload())
    req = CaseRequest(kind="refund_only", reason_code="quality", units={2: 1})
    case, _ = case_create(order=order, req=req, actor=admin_operator)
    case_act(case, states.APPROVE, actor=admin_operator)
    order.refresh_from_db()
    assert order.status == "pending_review"
    hold = Interception.objects.get(order=order, state="open")
    assert hold.reason_code == "aftersales_refund" and case.number in hold.reason
