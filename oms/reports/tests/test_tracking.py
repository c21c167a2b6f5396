from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from oms.orders.models import Order
from oms.reports.selectors import order_pipeline_board, orders_stuck


def test_board_counts_and_flags_stuck_orders(paid_order: Any, django_assert_num_queries: Any) -> None:
    fresh, old = paid_order(), paid_order()
    Order.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(hours=5))
    with django_assert_num_queries(1):
        board = {s.status: s for s in order_pipeline_board()}
    review = board["pending_review"]
    assert review.count == 2
    assert review.stuck == 1
    assert review.label == "待审核"
    assert board["shipped"].count == 0
    assert [o.number for o in orders_stuck()] == [old.number]
    assert fresh.number not in [o.number for o in orders_stuck()]


def test_dashboard_shows_board_to_those_who_may_see_orders(paid_order: Any, make_operator: Any) -> None:
    order = paid_order()
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(days=1))
    client = Client()
    client.force_login(make_operator("customer_service"))
    page = client.get("/").content.decode()
    assert "pipeline-board" in page
    assert order.number in page
    board = client.get("/dashboard/board/").content.decode()
    assert "pipeline-board" in board
    client.force_login(make_operator())
    assert "pipeline-board" not in client.get("/").content.decode()
