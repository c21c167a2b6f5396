"""An order of type return taken in (API, bulk) becomes an after-sales return on its original order, found by
its platform order id; a replay returns the same case; no original: refused naming the field, nothing written."""

from __future__ import annotations

import json
from typing import Any

from oms.aftersales.domain import states
from oms.aftersales.models import Case
from oms.inventory.models import Reservation
from oms.orders.models import Order
from oms.orders.services.intake import order_intake, order_intake_bulk


def _return(order: Order, **kw: Any) -> dict[str, Any]:
    return {
        "type": "return",
        "channel": order.channel.code,
        "platform_order_id": f"{order.platform_order_id}-R1",
        "original_platform_order_id": order.platform_order_id,
        "reason": "尺码不合适",
        "lines": [{"sku_code": "NUT-002", "quantity": 1}],
        **kw,
    }


def test_a_return_order_becomes_a_case_on_its_original(shipped: Any, admin_operator: Any) -> None:
    order = shipped()
    orders_before, reservations_before = Order.objects.count(), Reservation.objects.count()
    outcome = order_intake(payload=_return(order), actor=admin_operator)
    assert outcome.created and outcome.order == order and outcome.return_case
    case = Case.objects.get(number=outcome.return_case)
    assert (case.kind, case.status, case.refund_minor, case.note) == (
        states.RETURN_REFUND,
        states.REQUESTED,
        5000,
        "尺码不合适",
    )
    # Never an outbound order: nothing new to ship, nothing reserved.
    assert (Order.objects.count(), Reservation.objects.count()) == (orders_before, reservations_before)
    again = order_intake(payload=_return(order), actor=admin_operator)
    assert not again.created and again.return_case == case.number and Case.objects.count() == 1


def test_returns_and_sales_in_one_batch(shipped: Any, admin_operator: Any, payload: Any) -> None:
    order = shipped()
    outcomes = order_intake_bulk(
        payloads=[payload(), _return(order), _return(order, original_platform_order_id="NOPE", platform_order_id="X")],
        actor=admin_operator,
    )
    assert outcomes[0].created and outcomes[0].order is not None and outcomes[0].order.order_type == "sale"
    assert outcomes[1].return_case and outcomes[1].order == order
    assert outcomes[2].error is not None
    assert [(d.field, d.code) for d in outcomes[2].error.details] == [
        ("original_platform_order_id", "original_not_found")
    ]
    assert [o.index for o in outcomes] == [0, 1, 2]


def test_the_api_answers_with_the_case(shipped: Any, make_operator: Any, api_client: Any) -> None:
    order = shipped()
    client = api_client(make_operator("customer_service", username="kefu"))
    body = _return(order, lines=[{"sku_code": "NUT-002", "quantity": 5}])
    refused = client.post("/api/v1/orders", data=json.dumps(body), content_type="application/json")
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "lines.2"
    made = client.post("/api/v1/orders", data=json.dumps(_return(order)), content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["result"] == "aftersales_return" and made.json()["original_number"] == order.number
    assert Case.objects.filter(number=made.json()["aftersales_case"], order=order).exists()
