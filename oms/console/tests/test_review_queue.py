"""The interception queue as a reviewer's workbench (issue 15, item 2): each row says who, how much and what
the remark says; a row releases on its own; a released order moves on at once, never left showing 待审核."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

from oms.orders.models import Order
from oms.review.models import Interception, InterceptionState
from oms.review.services import orders_review
from oms.testing.fulfillment import World, review_buffer_off


def _held(world: World, remark: str) -> Order:
    world.receive(world.hz, "TEA-001", 50)
    order = world.order([("TEA-001", 2)], buyer_remark=remark)
    (outcome,) = orders_review(orders=[order], actor=world.actor)
    assert not outcome.passed
    return order


def test_queue_rows_show_buyer_amount_and_remark(world: World, admin_operator: Any) -> None:
    order = _held(world, "请用顺丰，周末不在家")
    client = Client()
    client.force_login(admin_operator)
    page = client.get("/interceptions/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    row = page[page.index(f'data-order="{order.number}"') :]
    row = row[: row.index("</tr>")]
    assert "请用顺丰，周末不在家" in row
    assert "小李" in row  # the buyer's nickname
    assert "20.00" in row
    text = re.sub(r"<[^>]+>", " ", row)
    assert "有备注" in text and "remark" not in text
    assert "放行" in text  # the row's own release button
    # The release toolbar comes before the table, not under 50 rows.
    assert page.index('data-testid="release-toolbar"') < page.index('data-testid="interception-row"')


def test_a_row_releases_alone_and_the_order_moves_on(
    world: World, admin_operator: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    review_buffer_off(settings)
    first = _held(world, "备注一")
    second = _held(world, "备注二")
    hold = Interception.objects.get(order=first, state=InterceptionState.OPEN)
    client = Client()
    client.force_login(admin_operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/interceptions/release/",
            {
                "only": hold.pk,
                "ids": [hold.pk, *Interception.objects.filter(order=second).values_list("pk", flat=True)],
                "note": "已阅备注",
            },
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    # Released: reviewed and allocated at once (warehouse and courier), no longer 待审核.
    assert first.reviewed_at is not None
    assert first.status == "pending_dispatch"
    assert first.final_warehouse_id == world.hz.pk
    # The other ticked row was not released by the row's own button.
    assert second.status == "pending_review"
    assert Interception.objects.filter(order=second, state=InterceptionState.OPEN).exists()
