"""Pulling a Taobao shop from the simulator: orders in exactly once, changes applied, faults survived."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from oms.connectors.models import PulledOrder, PullItem, PullKind, Shop, ShopStatus
from oms.connectors.services.items import pull_items_retry
from oms.connectors.services.pull import shop_pull
from oms.connectors.simulator.state import Faults, SimShop
from oms.connectors.simulator.taobao import SimLine, SimReceiver
from oms.connectors.tests.conftest import T0
from oms.orders.models import Order, Payment
from oms.review.models import Interception

NOW = T0 + timedelta(hours=2)
LATER = 125  # minutes after T0: a change after the first pull, before the second
Sim = tuple[Shop, SimShop]


def _orders(shop: Shop) -> list[Order]:
    return list(Order.objects.filter(channel=shop.channel).order_by("platform_order_id"))


def test_pull_takes_orders_in_with_their_money_and_moves_the_cursor(
    tb_shop: Sim, put_trade: Callable[..., Any]
) -> None:
    shop, sim = tb_shop
    put_trade(sim, "1001", 5, order_discount_minor=1000, post_fee_minor=800, buyer_message="请尽快发货")
    put_trade(sim, "1002", 6, status="WAIT_BUYER_PAY")
    run = shop_pull(shop=shop, now=NOW)
    assert (run.created, run.failed, run.error_code) == (2, 0, "")
    paid, unpaid = _orders(shop)
    # goods 59.90×2 + 89.00 = 208.80; item discount 5.00; order discount 10.00; shipping 8.00 → 201.80
    assert (paid.goods_minor, paid.line_discount_minor, paid.order_discount_minor, paid.shipping_minor) == (
        20880,
        500,
        1000,
        800,
    )
    assert paid.payable_minor == paid.received_minor == 20180
    assert paid.status == "pending_review" and paid.buyer_remark == "请尽快发货"
    assert unpaid.status == "pending_payment" and unpaid.received_minor == 0
    shop.refresh_from_db()
    assert shop.status == ShopStatus.OK and shop.cursor_at == NOW and shop.last_success_at is not None


def test_a_repulled_order_is_a_no_op(tb_shop: Sim, put_trade: Callable[..., Any]) -> None:
    shop, sim = tb_shop
    put_trade(sim, "2001", 115)  # inside the next pull's overlap (10 minutes before the cursor)
    shop_pull(shop=shop, now=NOW)
    again = shop_pull(shop=Shop.objects.get(pk=shop.pk), kind=PullKind.NOW, now=NOW + timedelta(minutes=1))
    assert (again.created, again.updated, again.fetched) == (0, 0, 1)
    assert len(_orders(shop)) == 1


def test_platform_money_division_is_kept_beside_ours_and_a_difference_is_flagged(
    tb_shop: Sim, put_trade: Callable[..., Any]
) -> None:
    shop, sim = tb_shop
    # 3 equal lines, 1.00 order discount: the platform gives the odd fen to the last line, we to the first.
    lines = [SimLine(f"30010{i}", f"500{i}", "TEA-001", "茶", 1000, 1) for i in range(1, 4)]
    native = put_trade(sim, "3001", 5, lines=lines, order_discount_minor=100, post_fee_minor=1000)
    subs = native["orders"]["order"]
    subs[0]["part_mjz_discount"], subs[0]["divide_order_fee"] = "0.33", "9.67"
    subs[2]["part_mjz_discount"], subs[2]["divide_order_fee"] = "0.34", "9.66"
    shop_pull(shop=shop, now=NOW)
    pulled = PulledOrder.objects.get(shop=shop, platform_order_id="3001")
    assert pulled.platform_shares == {"300101": 967, "300102": 967, "300103": 966}
    assert pulled.has_share_mismatch
    assert pulled.share_mismatches == [
        {"line": "300101", "ours": 966, "platform": 967},
        {"line": "300103", "ours": 967, "platform": 966},
    ]


def test_without_shipping_the_platform_figure_goes_on_the_lines_and_flags_the_order(
    tb_shop: Sim, put_trade: Callable[..., Any]
) -> None:
    shop, sim = tb_shop
    lines = [SimLine(f"31010{i}", f"500{i}", "TEA-001", "茶", 1000, 1) for i in range(1, 4)]
    native = put_trade(sim, "3101", 5, lines=lines, order_discount_minor=100)
    subs = native["orders"]["order"]
    subs[0]["part_mjz_discount"], subs[0]["divide_order_fee"] = "0.33", "9.67"
    subs[2]["part_mjz_discount"], subs[2]["divide_order_fee"] = "0.34", "9.66"
    put_trade(sim, "3102", 6, lines=lines[:1])
    shop_pull(shop=shop, now=NOW)
    differs, agrees = _orders(shop)
    assert differs.has_platform_mismatch and not agrees.has_platform_mismatch
    assert [ln.platform_paid_minor for ln in differs.lines.order_by("line_no")] == [967, 967, 966]


def test_a_bad_order_is_kept_as_a_failed_item_and_the_good_ones_go_in(
    tb_shop: Sim, put_trade: Callable[..., Any]
) -> None:
    shop, sim = tb_shop
    put_trade(sim, "4001", 5)
    bad = put_trade(sim, "4002", 6, lines=[SimLine("400201", "5009", "NEW-SKU", "新品", 1000, 1)])
    broken = put_trade(sim, "4003", 7)
    del broken["receiver_state"]
    run = shop_pull(shop=shop, now=NOW)
    assert (run.created, run.failed) == (1, 2)
    items = {i.platform_order_id: i for i in PullItem.objects.filter(shop=shop)}
    assert (items["4002"].reason_code, items["4002"].reason_field) == ("validation_error", "lines[0].sku_code")
    assert (items["4003"].reason_code, items["4003"].reason_field) == ("required", "receiver_state")
    assert [o.platform_order_id for o in _orders(shop)] == ["4001"]
    assert bad["tid"] == "4002"

    from oms.catalog.models import Sku

    Sku.objects.create(code="NEW-SKU", name="新品")
    tally = pull_items_retry(shop=shop)
    assert (tally.created, tally.failed) == (1, 1)
    items = {i.platform_order_id: i for i in PullItem.objects.filter(shop=shop)}
    assert (items["4002"].state, items["4003"].state, items["4003"].attempts) == ("resolved", "failed", 2)


def test_payment_on_the_platform_after_intake_is_recorded_once(tb_shop: Sim, put_trade: Callable[..., Any]) -> None:
    shop, sim = tb_shop
    put_trade(sim, "5001", 5, status="WAIT_BUYER_PAY")
    shop_pull(shop=shop, now=NOW)
    put_trade(sim, "5001", LATER)
    run = shop_pull(shop=Shop.objects.get(pk=shop.pk), now=NOW + timedelta(minutes=30))
    assert run.updated == 1
    shop_pull(
        shop=Shop.objects.get(pk=shop.pk), kind=PullKind.BACKFILL, start=T0, end=NOW + timedelta(hours=1), now=NOW
    )
    (order,) = _orders(shop)
    assert order.status == "pending_review" and order.received_minor == order.payable_minor
    assert Payment.objects.filter(order=order).count() == 1


def test_an_address_change_before_review_is_taken_over(tb_shop: Sim, put_trade: Callable[..., Any]) -> None:
    shop, sim = tb_shop
    put_trade(sim, "6001", 5)
    shop_pull(shop=shop, now=NOW)
    put_trade(sim, "6001", LATER, receiver=SimReceiver(address="文一西路 969 号"), seller_memo="改地址")
    shop_pull(shop=Shop.objects.get(pk=shop.pk), now=NOW + timedelta(minutes=30))
    (order,) = _orders(shop)
    assert (order.receiver_address, order.seller_remark) == ("文一西路 969 号", "改地址")
    assert not Interception.objects.filter(order=order).exists()
    assert order.events.filter(kind="platform_revised").count() == 1


def test_an_address_change_after_review_holds_the_order(tb_shop: Sim, put_trade: Callable[..., Any]) -> None:
    shop, sim = tb_shop
    put_trade(sim, "6101", 5)
    shop_pull(shop=shop, now=NOW)
    (order,) = _orders(shop)
    Order.objects.filter(pk=order.pk).update(reviewed_at=NOW, status="pending_dispatch")  # as review leaves it
    put_trade(sim, "6101", LATER, receiver=SimReceiver(address="文一西路 969 号"))
    shop_pull(shop=Shop.objects.get(pk=shop.pk), now=NOW + timedelta(minutes=30))
    hold = Interception.objects.get(order=order)
    assert hold.reason_code == "platform_changed" and hold.after_review
    assert PulledOrder.objects.get(shop=shop, platform_order_id="6101").last_outcome == "held"


def test_a_line_change_is_not_taken_over_but_holds_the_order(tb_shop: Sim, put_trade: Callable[..., Any]) -> None:
    shop, sim = tb_shop
    put_trade(sim, "6201", 5)
    shop_pull(shop=shop, now=NOW)
    put_trade(sim, "6201", LATER, lines=[SimLine("620101", "5001", "TEA-001", "龙井绿茶 250g", 5990, 3)])
    shop_pull(shop=Shop.objects.get(pk=shop.pk), now=NOW + timedelta(minutes=30))
    (order,) = _orders(shop)
    assert order.lines.count() == 2
    assert Interception.objects.get(order=order).reason_code == "platform_changed"


def test_closed_on_the_platform_cancels_the_order_and_a_closed_unknown_order_is_not_taken(
    tb_shop: Sim, put_trade: Callable[..., Any]
) -> None:
    shop, sim = tb_shop
    put_trade(sim, "7001", 5, status="WAIT_BUYER_PAY")
    put_trade(sim, "7002", 6, status="TRADE_CLOSED_BY_TAOBAO")
    shop_pull(shop=shop, now=NOW)
    put_trade(sim, "7001", LATER, status="TRADE_CLOSED_BY_TAOBAO")
    shop_pull(shop=Shop.objects.get(pk=shop.pk), now=NOW + timedelta(minutes=30))
    (order,) = _orders(shop)
    assert order.platform_order_id == "7001" and order.status == "cancelled"
    assert PulledOrder.objects.get(shop=shop, platform_order_id="7002").last_outcome == "closed_before_intake"


def test_an_open_refund_becomes_a_refund_request_that_holds_the_order(
    tb_shop: Sim, put_trade: Callable[..., Any]
) -> None:
    from oms.review.models import RefundRequest

    shop, sim = tb_shop
    put_trade(sim, "7101", 5)
    shop_pull(shop=shop, now=NOW)
    lines = [
        SimLine("710101", "5001", "TEA-001", "龙井绿茶 250g", 5990, 2, 500, "R7101", "WAIT_SELLER_AGREE"),
        SimLine("710102", "5002", "NUT-002", "每日坚果 30包", 8900, 1),
    ]
    put_trade(sim, "7101", LATER, lines=lines)
    shop_pull(shop=Shop.objects.get(pk=shop.pk), now=NOW + timedelta(minutes=30))
    (order,) = _orders(shop)
    request = RefundRequest.objects.get(order=order)
    assert (request.platform_refund_id, request.amount_minor) == ("R7101", 11480)
    assert Interception.objects.filter(order=order, reason_code="refund", state="open").exists()

    lines[0] = SimLine("710101", "5001", "TEA-001", "龙井绿茶 250g", 5990, 2, 500, "R7101", "CLOSED")
    put_trade(sim, "7101", 155, lines=lines)
    shop_pull(shop=Shop.objects.get(pk=shop.pk), now=NOW + timedelta(minutes=40))
    request.refresh_from_db()
    assert not request.is_open
    assert Interception.objects.get(order=order, reason_code="refund").state == "released"


@pytest.mark.parametrize(
    "faults",
    [
        Faults(rate_limit_next=2),
        Faults(rate_limit_every=3),
        Faults(timeout_next=1, slow_s=1.5),
        Faults(error_page_next=2),
        Faults(overlap_items=3),
        Faults(duplicate_pages=True),
    ],
    ids=["rate_limited", "rate_limit_every_3rd", "timeout", "error_page", "overlapping_pages", "duplicate_pages"],
)
def test_faults_are_retried_and_every_order_goes_in_once(
    tb_shop: Sim, put_trade: Callable[..., Any], faults: Faults, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oms.connectors.adapters import ADAPTERS

    shop, sim = tb_shop
    monkeypatch.setattr(ADAPTERS["taobao"], "page_size", 4)
    for n in range(11):
        put_trade(sim, f"8{n:03d}", 5 + n)
    sim.faults = faults
    run = shop_pull(shop=shop, now=NOW)
    assert run.error_code == "" and run.created == 11 and run.failed == 0
    assert len(_orders(shop)) == 11
    if faults != Faults(overlap_items=3) and faults != Faults(duplicate_pages=True):
        assert run.retries >= 1


def test_rate_limits_beyond_the_retries_fail_the_pull_and_keep_the_cursor(
    tb_shop: Sim, put_trade: Callable[..., Any]
) -> None:
    shop, sim = tb_shop
    put_trade(sim, "9001", 5)
    sim.faults = Faults(rate_limit_next=50)
    run = shop_pull(shop=shop, now=NOW)
    shop.refresh_from_db()
    assert run.error_code == "top_7" and shop.status == ShopStatus.ERROR and shop.cursor_at is None
    assert shop.last_error_code == "top_7"
    sim.faults = Faults()
    assert shop_pull(shop=shop, now=NOW).created == 1


def test_a_refused_token_marks_the_shop_and_stops_scheduled_pulls(tb_shop: Sim, put_trade: Callable[..., Any]) -> None:
    from oms.connectors.services.pull import shops_pull_due

    shop, sim = tb_shop
    sim.token_valid = False
    run = shop_pull(shop=shop, now=NOW)
    shop.refresh_from_db()
    assert (run.error_code, shop.status) == ("top_27", ShopStatus.AUTH_EXPIRED)
    assert shop.pk not in {r for r in shops_pull_due(now=NOW + timedelta(hours=1))}


def test_stale_versions_delivered_late_never_overwrite_newer_ones(
    tb_shop: Sim, put_trade: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from oms.connectors.adapters import ADAPTERS

    monkeypatch.setattr(ADAPTERS["taobao"], "page_size", 1)  # the older version comes on the page read last
    shop, sim = tb_shop
    put_trade(sim, "9101", 5)
    put_trade(sim, "9101", 15, receiver=SimReceiver(address="新地址 1 号"))
    shop_pull(shop=shop, now=NOW)
    sim.faults = Faults(stale_versions=True)
    run = shop_pull(shop=Shop.objects.get(pk=shop.pk), kind=PullKind.BACKFILL, start=T0, end=NOW, now=NOW)
    assert run.fetched == 2
    assert run.unchanged == 1 and run.updated == 0  # the current version again; the older one ignored
    (order,) = _orders(shop)
    assert order.receiver_address == "新地址 1 号"
