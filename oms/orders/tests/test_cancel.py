"""Cancelling (O3): with a reason, only where the table allows, and automatically when unpaid too long."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from oms.audit.models import OperationLog
from oms.core.errors import Conflict, ValidationFailed
from oms.orders.models import Order, OrderEvent, Payment
from oms.orders.services.cancel import order_cancel, orders_cancel_unpaid


def test_cancel_records_reason_event_and_log(make_order: Any, admin_operator: Any) -> None:
    order = make_order()
    order_cancel(order=order, actor=admin_operator, reason="买家申请取消")
    order.refresh_from_db()
    assert order.status == "cancelled"
    event = OrderEvent.objects.get(order=order, to_status="cancelled")
    assert event.reason == "买家申请取消" and event.actor_name == "boss"
    assert OperationLog.objects.filter(
        action="order.transition", object_id=str(order.pk), reason="买家申请取消"
    ).exists()
    # Money was taken at intake: it is owed back.
    payment = Payment.objects.get(order=order)
    assert payment.needs_refund and payment.refund_due_minor == order.received_minor - order.refunded_minor > 0
    assert OrderEvent.objects.get(order=order, kind="refund_due").data["amount_minor"] == payment.refund_due_minor


def test_cancel_needs_a_reason(make_order: Any, admin_operator: Any) -> None:
    with pytest.raises(ValidationFailed):
        order_cancel(order=make_order(), actor=admin_operator, reason="  ")


def test_cancelling_a_shipped_order_is_409_naming_status_and_options(
    make_order: Any, make_operator: Any, api_client: Any
) -> None:
    order = make_order()
    Order.objects.filter(pk=order.pk).update(status="shipped")
    client = api_client(make_operator("customer_service"))
    response = client.post(
        f"/api/v1/orders/{order.number}/cancel", data={"reason": "太慢了"}, content_type="application/json"
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["current_status"] == "shipped" and error["allowed"] == ["signed", "rejected"]


def test_cancel_twice_is_409(make_order: Any, admin_operator: Any) -> None:
    order = make_order()
    order_cancel(order=order, actor=admin_operator, reason="a")
    with pytest.raises(Conflict):
        order_cancel(order=order, actor=admin_operator, reason="b")


def test_unpaid_orders_past_the_timeout_are_cancelled(make_order: Any) -> None:
    old = make_order(payment=None)
    fresh = make_order(payment=None)
    paid = make_order()
    Order.objects.filter(pk__in=[old.pk, paid.pk]).update(placed_at=timezone.now() - timedelta(minutes=31))
    Order.objects.filter(pk=fresh.pk).update(placed_at=timezone.now() - timedelta(minutes=29))
    assert orders_cancel_unpaid(timeout_minutes=30) == [old.number]
    statuses = dict(Order.objects.values_list("number", "status"))
    assert statuses == {old.number: "cancelled", fresh.number: "pending_payment", paid.number: "pending_review"}
    assert OrderEvent.objects.get(order=old, to_status="cancelled").actor_name == "system"


def test_cancel_unpaid_command(make_order: Any, capsys: Any) -> None:
    old = make_order(payment=None)
    Order.objects.filter(pk=old.pk).update(placed_at=timezone.now() - timedelta(hours=2))
    call_command("cancel_unpaid_orders", "--minutes", "60")
    assert "1 unpaid order(s) cancelled" in capsys.readouterr().out
    old.refresh_from_db()
    assert old.status == "cancelled"
