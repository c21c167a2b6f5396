"""Real threads on PostgreSQL: cases racing for the same units claim them once; replays change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from oms.aftersales.domain import states
from oms.aftersales.models import Case, CaseLine
from oms.aftersales.services.cases import CaseRequest, case_act, case_create, case_inspect, case_receive, case_refund
from oms.core.errors import ValidationFailed
from oms.inventory.models import StockDocument, StockItem
from oms.inventory.services.verify import stock_verify
from oms.orders.models import Payment
from oms.orders.tests.test_concurrency_pg import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_cases_racing_for_the_same_units_claim_them_once(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    req = CaseRequest(kind="return_refund", reason_code="quality", units={2: 1})
    results = race(8, lambda i: case_create(order=order, req=req, actor=admin_operator))
    made = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(made) == 1 and len(refused) == 7, results
    assert all(r.details[0].code == "too_many" for r in refused)
    assert CaseLine.objects.filter(case__order=order).count() == 1


def test_replays_of_one_request_make_one_case(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    req = CaseRequest(kind="refund_only", reason_code="quality", units={1: 1}, request_key="RQ-1")
    results = race(8, lambda i: case_create(order=order, req=req, actor=admin_operator))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(1 for _case, created in results if created) == 1
    assert len({case.pk for case, _created in results}) == 1 and Case.objects.count() == 1


def test_racing_refunds_of_one_case_refund_once(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    case, _ = case_create(
        order=order, req=CaseRequest(kind="refund_only", reason_code="quality", units={2: 1}), actor=admin_operator
    )
    case = case_act(case, states.APPROVE, actor=admin_operator)
    results = race(6, lambda i: case_refund(case, method="alipay", transaction_id="RF-PG", actor=admin_operator))
    assert [r for r in results if isinstance(r, Exception) and getattr(r, "code", "") != "payment_conflict"] == []
    assert Payment.objects.filter(order=order, kind="refund").count() == 1
    case.refresh_from_db()
    assert case.status == states.REFUNDED
    order.refresh_from_db()
    assert order.refunded_minor == case.refund_minor == 5000


def test_racing_inspections_take_the_goods_in_once(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    case, _ = case_create(
        order=order, req=CaseRequest(kind="return_refund", reason_code="quality", units={2: 1}), actor=admin_operator
    )
    case = case_act(case, states.APPROVE, actor=admin_operator)
    case = case_receive(case, units={2: 1}, actor=admin_operator)
    results = race(6, lambda i: case_inspect(case, good={2: 1}, defective={}, actor=admin_operator))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert StockDocument.objects.count() == 1
    assert StockItem.objects.get(sku__code="NUT-002").on_hand == 1
    case.refresh_from_db()
    assert case.status == states.REFUNDING
    assert Payment.objects.get(order=order, kind="payment").refund_due_minor == 5000
    assert stock_verify().ok


def test_a_provider_refund_callback_replayed_in_threads_settles_the_case_once(
    shipped: Any, admin_operator: Any
) -> None:
    from oms.aftersales.models import CaseEvent
    from oms.orders.services.payments import payment_callback_receive

    order = shipped()
    case, _ = case_create(
        order=order, req=CaseRequest(kind="refund_only", reason_code="quality", units={2: 1}), actor=admin_operator
    )
    case = case_act(case, states.APPROVE, actor=admin_operator)
    body = {"order_number": order.number, "transaction_id": "ALI-CB-1", "trade_status": "refund", "amount": "50.00"}
    results = race(6, lambda i: payment_callback_receive(method="alipay", body=body))
    assert [r for r in results if isinstance(r, Exception) and getattr(r, "code", "") != "payment_conflict"] == []
    case.refresh_from_db()
    assert (case.status, case.settled_minor) == (states.REFUNDED, 5000)
    assert CaseEvent.objects.filter(case=case, kind="refund").count() == 1
    assert Payment.objects.filter(order=order, kind="refund").count() == 1


def test_racing_inspections_of_an_exchange_make_one_exchange_order(shipped: Any, admin_operator: Any) -> None:
    from oms.aftersales.services.exchange import ReplacementRequest
    from oms.orders.models import Order

    order = shipped()
    req = CaseRequest(
        kind="exchange",
        reason_code="wrong_item",
        units={2: 1},
        replacements=(ReplacementRequest(replaces=2, sku_code="CUP-003", quantity=1, unit_price_minor=13000),),
    )
    case, _ = case_create(order=order, req=req, actor=admin_operator)
    case = case_act(case, states.APPROVE, actor=admin_operator)
    case = case_receive(case, units={2: 1}, actor=admin_operator)
    results = race(6, lambda i: case_inspect(case, good={2: 1}, defective={}, actor=admin_operator))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert Order.objects.filter(order_type="exchange").count() == 1
    case.refresh_from_db()
    order.refresh_from_db()
    assert case.status == states.REFUNDED and order.refunded_minor == 8243  # carried once to the exchange order
    assert stock_verify().ok
