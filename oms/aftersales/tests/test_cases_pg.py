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
