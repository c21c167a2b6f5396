"""A refund recorded before dispatch holds the order (退款拦截); an order refunded in full never passes review,
gets a courier or is dispatched, whatever an operator tries; money refunded beyond what was received is an
anomaly shown apart (issue 17, item 1: a signed refund callback of 500.00 against a 99.00 payment)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from oms.audit.models import OperationLog
from oms.core.errors import Conflict
from oms.fulfillment.models import Shipment
from oms.fulfillment.services.dispatch import order_dispatch, orders_dispatch
from oms.fulfillment.services.pipeline import orders_advance, pipeline_run
from oms.orders.models import Order, OrderEvent, Payment
from oms.outbox.domain.signing import signature_headers
from oms.outbox.models import OutboxMessage
from oms.reports.selectors import cash_totals
from oms.review.models import Interception, InterceptionState
from oms.review.services import interceptions_release, order_force_review, order_review
from oms.testing.fulfillment import World

SECRET = "alipay-callback-secret-for-refund-tests"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setenv("OMS_PAYMENT_SECRET_ALIPAY", SECRET)
    settings.OMS_FULFILMENT = {**settings.OMS_FULFILMENT, "AUTO_DISPATCH": True}


def _refund_callback(order: Order, amount: str, txn: str = "REFUND-1") -> Any:
    body = {"order_number": order.number, "transaction_id": txn, "trade_status": "refund", "amount": amount}
    raw = json.dumps(body).encode()
    headers = signature_headers(secret=SECRET, event_id=f"evt-{txn}", timestamp=int(time.time()), body=raw)
    return Client(headers=headers).post("/api/v1/payments/callbacks/alipay", data=raw, content_type="application/json")


def _order_of_99(world: World) -> Order:
    world.receive(world.hz, "TEA-001", 10)
    order = world.order([("TEA-001", 1)], shipping="89.00")  # 10.00 of tea + 89.00 shipping
    assert (order.payable_minor, order.received_minor, order.payment_status) == (9900, 9900, "paid")
    return order


def _open_codes(order: Order) -> set[str]:
    return set(
        Interception.objects.filter(order=order, state=InterceptionState.OPEN).values_list("reason_code", flat=True)
    )


def test_refund_of_500_against_99_holds_the_order_through_the_whole_pipeline(world: World, client: Client) -> None:
    order = _order_of_99(world)

    response = _refund_callback(order, "500.00")

    assert response.status_code == 200, response.content
    order.refresh_from_db()
    assert (order.refunded_minor, order.payment_status, order.status) == (50000, "refunded", "pending_review")
    assert _open_codes(order) == {"refunded"}
    refund = Payment.objects.get(order=order, kind="refund")
    assert refund.excess_minor == 50000 - 9900 and refund.refund_due_minor == 0
    assert not refund.settlements.exists()

    # The pipeline, as the periodic run and as a direct call with dispatch: nothing moves.
    assert pipeline_run(actor=world.actor).dispatched == 0
    summary = orders_advance(orders=[order], actor=world.actor, dispatch=True)
    assert (summary.reviewed, summary.allocated, summary.couriers, summary.dispatched) == (0, 0, 0, 0)
    order.refresh_from_db()
    assert order.reviewed_at is None and order.courier_id is None and order.final_warehouse_id is None
    assert not Shipment.objects.filter(order=order).exists()
    assert not OutboxMessage.objects.filter(topic__startswith="wms.dispatch").exists()

    # What an operator could try: manual review, releasing the hold, forcing review.
    assert order_review(order=order, actor=world.actor).passed is False
    hold = Interception.objects.get(order=order, state=InterceptionState.OPEN)
    with pytest.raises(Conflict) as released:
        interceptions_release(interception_ids=[hold.pk], actor=world.actor, note="buyer says ship anyway")
    assert released.value.code == "order_refunded"
    with pytest.raises(Conflict) as forced:
        order_force_review(order=order, actor=world.actor, reason="ship it")
    assert forced.value.code == "order_refunded"
    assert _open_codes(order) == {"refunded"}

    # The anomaly: on the timeline, in the operation log, apart in the cash totals and on the console.
    event = OrderEvent.objects.get(order=order, kind="refund_excess")
    assert event.data["excess_minor"] == 40100 and event.data["held_minor"] == 9900
    logged = OperationLog.objects.get(action="payment.refund_excess")
    assert logged.after["excess_minor"] == 40100 and logged.after["received_minor"] == 9900
    (cny,) = cash_totals()
    assert (cny.received_minor, cny.refunded_minor, cny.refund_excess_minor, cny.refund_excesses) == (
        9900,
        9900,
        40100,
        1,
    )
    assert cny.net_minor == 0
    client.force_login(world.actor)
    assert 'data-testid="cash-refund-excess"><span class="badge bad">401.00 · 1' in client.get("/").content.decode()
    assert 'data-testid="refund-excess"' in client.get(f"/orders/{order.number}/").content.decode()


def test_refund_after_courier_holds_dispatch_and_a_hold_lifted_behind_the_back_still_cannot_ship(
    world: World,
) -> None:
    order = _order_of_99(world)
    orders_advance(orders=[order], actor=world.actor)
    order.refresh_from_db()
    assert order.status == "pending_dispatch" and order.courier_id is not None

    assert _refund_callback(order, "99.00").status_code == 200

    assert _open_codes(order) == {"refunded"}
    assert orders_dispatch(orders=[order], actor=world.actor) == []
    with pytest.raises(Conflict) as held:
        order_dispatch(order=order, actor=world.actor)
    assert held.value.code == "order_refunded"
    # Even with the hold gone (as if released by hand in the database), dispatch itself refuses.
    Interception.objects.filter(order=order).update(state=InterceptionState.RELEASED)
    assert orders_dispatch(orders=[order], actor=world.actor) == []
    with pytest.raises(Conflict):
        order_dispatch(order=order, actor=world.actor)
    assert not Shipment.objects.filter(order=order).exists()


def test_a_partial_refund_holds_until_released_then_the_order_ships(world: World) -> None:
    order = _order_of_99(world)

    assert _refund_callback(order, "9.00").status_code == 200

    order.refresh_from_db()
    assert order.payment_status == "partially_refunded"
    assert Payment.objects.get(order=order, kind="refund").excess_minor == 0
    assert orders_advance(orders=[order], actor=world.actor, dispatch=True).dispatched == 0
    hold = Interception.objects.get(order=order, state=InterceptionState.OPEN)
    assert hold.reason_code == "refunded" and "alipay:REFUND-1 9.00" in hold.reason

    interceptions_release(interception_ids=[hold.pk], actor=world.actor, note="gift wrap refunded, goods ship")

    summary = orders_advance(orders=[order], actor=world.actor, dispatch=True)
    assert (summary.allocated, summary.couriers, summary.dispatched) == (1, 1, 1)
    assert (cash_totals()[0].refund_excess_minor, cash_totals()[0].refunded_minor) == (0, 900)


def test_a_second_refund_beyond_what_is_left_is_excess_only_for_its_own_part(world: World) -> None:
    order = _order_of_99(world)
    assert _refund_callback(order, "90.00", txn="R1").status_code == 200
    assert _refund_callback(order, "20.00", txn="R2").status_code == 200
    excess = dict(Payment.objects.filter(order=order, kind="refund").values_list("transaction_id", "excess_minor"))
    assert excess == {"R1": 0, "R2": 1100}
    order.refresh_from_db()
    assert order.payment_status == "refunded"
    assert cash_totals()[0].refunded_minor == 9900
