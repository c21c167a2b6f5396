"""A case is refunded by the refunds recorded on its order: a provider's callback (partial refunds add up),
finance's refund, or the platform paying out; platform refund requests open, settle and close their case."""

from __future__ import annotations

from typing import Any

import pytest

from oms.aftersales.domain import states
from oms.aftersales.models import Case, CaseEvent
from oms.aftersales.services import settlement
from oms.aftersales.services.cases import CaseRequest, case_act, case_create, case_inspect, case_receive
from oms.aftersales.services.platform import platform_refund_case
from oms.aftersales.tests.conftest import man300_payload
from oms.connectors.domain.mapped import MappedRefund, RefundState
from oms.core.actors import SystemActor
from oms.orders.models import Payment
from oms.orders.services.payments import payment_callback_receive
from oms.review.models import Interception, RefundRequest
from oms.review.services import refund_request_close, refund_request_receive


def _refunding(shipped: Any, actor: Any) -> Case:
    order = shipped()
    req = CaseRequest(kind="return_refund", reason_code="quality", units={2: 1})
    case, _ = case_create(order=order, req=req, actor=actor)
    case_act(case, states.APPROVE, actor=actor)
    case_receive(case, units={2: 1}, actor=actor)
    case = case_inspect(case, good={2: 1}, defective={}, actor=actor)
    assert case.status == states.REFUNDING and case.refund_minor == 5000
    return case


def _callback(case: Case, txn: str, amount: str) -> None:
    body = {"order_number": case.order.number, "transaction_id": txn, "trade_status": "refund", "amount": amount}
    payment_callback_receive(method="alipay", body=body)


def test_provider_refund_callbacks_settle_the_case_in_parts(
    shipped: Any, admin_operator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    heard: list[tuple[str, str | None]] = []

    def hook(*, case: Case, refund: Payment | None, actor: Any) -> None:
        heard.append((case.number, refund.transaction_id if refund else None))

    monkeypatch.setattr(settlement, "CASE_REFUNDED_HOOKS", [hook])
    case = _refunding(shipped, admin_operator)
    _callback(case, "ALI-RF-1", "30.00")
    case.refresh_from_db()
    assert (case.status, case.settled_minor) == (states.REFUNDING, 3000)
    assert heard == []
    _callback(case, "ALI-RF-1", "30.00")  # the provider calls back twice: nothing changes
    case.refresh_from_db()
    assert case.settled_minor == 3000
    _callback(case, "ALI-RF-2", "20.00")
    case.refresh_from_db()
    assert (case.status, case.settled_minor, case.refund_transaction) == (states.REFUNDED, 5000, "alipay:ALI-RF-2")
    assert heard == [(case.number, "ALI-RF-2")]
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds[-2:] == ["refunded_part", "refund"]
    order = case.order
    order.refresh_from_db()
    assert order.refunded_minor == 5000
    assert Payment.objects.get(order=order, kind="payment").refund_due_minor == 0


def test_a_refund_settles_the_case_it_names_first(shipped: Any, admin_operator: Any) -> None:
    order = shipped(
        lines=[
            {"sku_code": "TEA-001", "quantity": 1, "unit_price": "100.00"},
            {"sku_code": "NUT-002", "quantity": 1, "unit_price": "100.00"},
        ],
        promotions=[],
    )
    cases = []
    for line_no in (1, 2):
        req = CaseRequest(kind="refund_only", reason_code="quality", units={line_no: 1})
        case, _ = case_create(order=order, req=req, actor=admin_operator)
        cases.append(case_act(case, states.APPROVE, actor=admin_operator))
    from oms.aftersales.services.cases import case_refund

    second = case_refund(cases[1], method="alipay", transaction_id="RF-2ND", actor=admin_operator)
    first = Case.objects.get(pk=cases[0].pk)
    assert (second.status, second.settled_minor) == (states.REFUNDED, 10000)
    assert (first.status, first.settled_minor) == (states.REFUNDING, 0)


def _request(order: Any, actor: Any, rid: str = "TBR-9") -> RefundRequest:
    return refund_request_receive(
        order=order, platform_refund_id=rid, amount_minor=8529, reason="不想要了", actor=actor
    )


def test_a_platform_refund_opens_a_case_that_its_payout_refunds(make_order: Any, admin_operator: Any) -> None:
    order = make_order(**man300_payload(lines=[
        {"sku_code": "TEA-001", "quantity": 1, "unit_price": "240.00", "platform_line_id": "L1"},
        {"sku_code": "NUT-002", "quantity": 1, "unit_price": "100.00", "platform_line_id": "L2"},
    ]))  # fmt: skip
    platform = SystemActor("connector:TMALL")
    request = _request(order, admin_operator)
    asked = MappedRefund("TBR-9", "L2", 5000, RefundState.OPEN, "不想要了")
    case = platform_refund_case(order=order, refund=asked, actor=platform)
    assert case is not None and (case.kind, case.status, case.refund_request_id) == (
        states.REFUND_ONLY,
        states.REQUESTED,
        request.pk,
    )
    assert [(cl.line.line_no, cl.quantity) for cl in case.lines.all()] == [(2, 1)]
    assert platform_refund_case(order=order, refund=asked, actor=platform) == case  # a repeat: the same case
    # The platform paid the buyer back: the request closes (connectors), then the case is approved and settled.
    refund_request_close(order=order, platform_refund_id="TBR-9", actor=platform, note="paid out")
    paid = MappedRefund("TBR-9", "L2", 5000, RefundState.SUCCESS, "不想要了")
    case = platform_refund_case(order=order, refund=paid, actor=platform)
    assert case is not None
    assert (case.status, case.settled_minor) == (states.REFUNDED, 5000)
    assert case.refund_transaction == "platform:refund:TBR-9"
    assert platform_refund_case(order=order, refund=paid, actor=platform) == case
    order.refresh_from_db()
    assert order.refunded_minor == 5000 and Case.objects.count() == 1
    assert not Interception.objects.filter(order=order, reason_code="refund", state="open").exists()


def test_a_platform_refund_closed_unpaid_closes_its_open_case(make_order: Any, admin_operator: Any) -> None:
    order = make_order(**man300_payload())
    platform = SystemActor("connector:TMALL")
    _request(order, admin_operator, "TBR-10")
    case = platform_refund_case(
        order=order, refund=MappedRefund("TBR-10", "", 29000, RefundState.OPEN, "拍错了"), actor=platform
    )
    assert case is not None and sorted(case.lines.values_list("quantity", flat=True)) == [1, 1]
    closed = platform_refund_case(
        order=order, refund=MappedRefund("TBR-10", "", 29000, RefundState.CLOSED, "撤销"), actor=platform
    )
    assert closed is not None and closed.status == states.CLOSED
