"""Returns after a split and after a merge: the case is opened on the living order that holds the units (the
retired one names them), its promotions are the ones carried from its parents, and money follows the lineage —
the refund never exceeds what that order holds, and refund + what is kept = what it received, to the cent."""

from __future__ import annotations

from typing import Any

import pytest

from oms.aftersales.domain import states
from oms.aftersales.services.cases import CaseRequest, case_act, case_create, case_inspect, case_receive, case_refund
from oms.aftersales.tests.conftest import PATH_TO_SHIPPED, hangzhou, man300_payload
from oms.core.errors import Conflict
from oms.orders.models import Order, OrderLineVersion
from oms.orders.services.timeline import order_transition
from oms.splitmerge.services.merge import orders_merge
from oms.splitmerge.services.split import order_split


def _ship(order: Order, actor: Any) -> Order:
    order.refresh_from_db()
    for status in PATH_TO_SHIPPED:
        order_transition(order=order, to_status=status.value, actor=actor, reason="test")
    Order.objects.filter(pk=order.pk).update(warehouse=hangzhou(), final_warehouse=hangzhou())
    order.refresh_from_db()
    return order


def _return(order: Order, units: dict[int, int], actor: Any, txn: str) -> Any:
    case, _ = case_create(
        order=order, req=CaseRequest(kind="return_refund", reason_code="quality", units=units), actor=actor
    )
    case_act(case, states.APPROVE, actor=actor)
    case_receive(case, units=units, actor=actor)
    case = case_inspect(case, good=units, defective={}, actor=actor)
    return case_refund(case, method="alipay", transaction_id=txn, actor=actor)


def _kept(order: Order) -> int:
    latest: dict[int, int] = {}
    for v in OrderLineVersion.objects.filter(line__order=order).order_by("line_id", "version"):
        latest[v.line_id] = v.paid_minor
    return sum(latest.get(ln.pk, ln.paid_minor) for ln in order.lines.all())


def test_a_return_after_a_split(make_order: Any, admin_operator: Any) -> None:
    order = make_order(
        **man300_payload(
            lines=[
                {"sku_code": "TEA-001", "quantity": 2, "unit_price": "120.00"},
                {"sku_code": "NUT-002", "quantity": 1, "unit_price": "100.00"},
            ]
        )
    )
    teas, nuts = order_split(order=order, groups=[{1: 2}, {2: 1}], actor=admin_operator)
    # The promotion is carried to each part with what it took off that part's lines.
    carried = [
        (o.promotions[0]["name"], o.promotions[0]["carried_from"], o.promotions[0]["amount_minor"])
        for o in (teas, nuts)
    ]
    assert carried == [("满300减50", order.number, 3529), ("满300减50", order.number, 1471)]
    assert (teas.received_minor, nuts.received_minor) == (20471, 8529)
    teas, nuts = _ship(teas, admin_operator), _ship(nuts, admin_operator)
    # The retired original names the orders that hold its units.
    with pytest.raises(Conflict) as caught:
        case_create(
            order=order,
            req=CaseRequest(kind="return_refund", reason_code="quality", units={2: 1}),
            actor=admin_operator,
        )
    assert caught.value.code == "order_retired"
    # One tea of two back: the discount earned on the whole original stays with the value kept (the threshold is
    # not judged again on the part), so half of what the part holds comes back.
    case = _return(teas, {1: 1}, admin_operator, "RF-SPLIT-1")
    teas.refresh_from_db()
    assert case.status == states.REFUNDED and case.refund_minor == 10236
    assert case.refund_minor + _kept(teas) == teas.received_minor == 20471
    case = _return(nuts, {1: 1}, admin_operator, "RF-SPLIT-2")
    nuts.refresh_from_db()
    assert case.refund_minor == 8529 == nuts.refunded_minor and _kept(nuts) == 0
    # Across the lineage: what the original received = refunds + what is finally paid for the kept units.
    assert teas.refunded_minor + nuts.refunded_minor + _kept(teas) + _kept(nuts) == order.received_minor == 29000


def test_a_return_after_a_merge(make_order: Any, admin_operator: Any) -> None:
    same = {"buyer": {"platform_buyer_id": "buyer-merge", "nickname": "小王", "phone": "13800138000"}}
    first = make_order(**man300_payload(**same))
    second = make_order(
        **man300_payload(**same, lines=[{"sku_code": "CUP-003", "quantity": 1, "unit_price": "80.00"}], promotions=[])
    )
    merged = orders_merge(numbers=[first.number, second.number], actor=admin_operator)
    assert [p["carried_from"] for p in merged.promotions] == [first.number]
    assert merged.received_minor == 29000 + 8000
    merged = _ship(merged, admin_operator)
    cup = merged.lines.get(sku__code="CUP-003")
    case = _return(merged, {cup.line_no: 1}, admin_operator, "RF-MERGE-1")
    merged.refresh_from_db()
    # The cup was bought on its own at 80.00: all of it comes back; the tea and nuts keep their 290.00.
    assert case.refund_minor == 8000 and _kept(merged) == 29000
    assert case.refund_minor + _kept(merged) == merged.received_minor
