"""Each daily task in at most three clicks from the order list or the order page, in Chromium, as the role that
does it (issue 15): 审单, 拦截释放, 拆单, 合单. Typing a reason is not a click; ticking a row is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from oms.orders.models import Order
from oms.review.models import Interception, InterceptionState, Rule
from oms.review.services import orders_review
from oms.splitmerge.models import OrderLineage
from oms.testing.fulfillment import World

pytestmark = pytest.mark.browser
SHOTS = Path("var/screenshots")


class Clicks:
    """The page's clicks, counted (ticking a checkbox is a click too)."""

    def __init__(self, page: Any) -> None:
        self.page, self.n = page, 0

    def click(self, selector: str) -> None:
        self.n += 1
        self.page.click(selector)

    def check(self, selector: str) -> None:
        self.n += 1
        self.page.check(selector)


def _reviewer(make_operator: Any, login: Any, page: Any) -> Clicks:
    make_operator("order_reviewer", username="reviewer", password="reviewer-pass-1")
    login("reviewer", "reviewer-pass-1")
    page.set_viewport_size({"width": 1440, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)
    return Clicks(page)


def _stock(world: World) -> None:
    for code in ("TEA-001", "NUT-002", "CUP-003"):
        world.receive(world.hz, code, 50)


def test_review_from_the_list_in_two_clicks(
    world: World, live_server: Any, make_operator: Any, login: Any, page: Any, settings: Any
) -> None:
    _stock(world)
    order = world.order([("TEA-001", 1)])
    clicks = _reviewer(make_operator, login, page)
    page.goto(f"{live_server.url}/orders/?status=pending_review")
    clicks.check(f"[data-testid=select-{order.number}]")
    clicks.click("[data-testid=bulk-review]")
    expect(page.locator(".messages .success")).to_contain_text(order.number)
    assert clicks.n <= 3
    order.refresh_from_db()
    assert order.reviewed_at is not None and order.status != "pending_review"  # it moved on at once
    page.screenshot(path=str(SHOTS / "daily-review.png"))


def test_release_a_hold_from_the_queue_in_one_click(
    world: World, live_server: Any, make_operator: Any, login: Any, page: Any
) -> None:
    _stock(world)
    # A live-server test's database is flushed of seeded rows: the seeded remark rule, made again.
    Rule.objects.get_or_create(
        kind="review",
        code="remark",
        defaults={
            "name": "有备注",
            "condition": "has_remark",
            "reason": "Buyer or seller left a remark: read it before shipping.",
        },
    )
    order = world.order([("TEA-001", 1)], buyer_remark="请周末送")
    (outcome,) = orders_review(orders=[order], actor=world.actor)
    assert not outcome.passed
    clicks = _reviewer(make_operator, login, page)
    page.goto(f"{live_server.url}/interceptions/")
    row = page.locator(f"[data-order='{order.number}']")
    expect(row).to_contain_text("请周末送")  # the remark is read on the row, the order is not opened
    page.fill("[data-testid=release-note]", "已阅备注")
    clicks.click(f"[data-order='{order.number}'] [data-testid=release-one]")
    expect(page.locator(".messages .success")).to_be_visible()
    assert clicks.n <= 3
    order.refresh_from_db()
    assert not Interception.objects.filter(order=order, state=InterceptionState.OPEN).exists()
    assert order.status != "pending_review"
    page.screenshot(path=str(SHOTS / "daily-release.png"))


def test_split_from_the_order_page_in_two_clicks(
    world: World, live_server: Any, make_operator: Any, login: Any, page: Any
) -> None:
    _stock(world)
    order = world.order([("TEA-001", 3), ("NUT-002", 1)])
    clicks = _reviewer(make_operator, login, page)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    clicks.click("[data-testid=open-split-top]")
    page.wait_for_selector("[data-testid=split-hint]")
    page.fill("[data-testid=q-1-2]", "1")  # one field moves the unit; order 1 keeps the rest
    expect(page.locator("[data-testid=group-payable-1]")).to_be_visible()
    page.screenshot(path=str(SHOTS / "daily-split.png"))
    clicks.click("[data-testid=do-split]")
    page.wait_for_selector("[data-testid=lineage-graph]")
    assert clicks.n <= 3
    assert OrderLineage.objects.filter(parent=order).count() == 2


def test_merge_from_the_order_page_in_two_clicks(
    world: World, live_server: Any, make_operator: Any, login: Any, page: Any
) -> None:
    _stock(world)
    buyer = {"platform_buyer_id": "same-buyer", "phone": "13900139000"}
    a = world.order([("TEA-001", 1)], buyer=buyer)
    b = world.order([("CUP-003", 1)], buyer=buyer)
    clicks = _reviewer(make_operator, login, page)
    page.goto(f"{live_server.url}/orders/{a.number}/")
    clicks.click("[data-testid=merge-with]")
    expect(page.locator("[data-testid=merge-confirm]")).to_contain_text(b.number)
    page.fill("[data-testid=merge-reason]", "同一买家同一地址")  # the confirmation asks why
    page.screenshot(path=str(SHOTS / "daily-merge.png"))
    clicks.click("[data-testid=merge-confirm-button]")
    page.wait_for_selector("[data-testid=lineage-graph]")
    assert clicks.n <= 3
    assert Order.objects.get(pk=a.pk).status == "closed" and Order.objects.get(pk=b.pk).status == "closed"
