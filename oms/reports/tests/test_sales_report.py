"""The sales report against figures computed by hand: a split and a merge count once, refunds and a cancelled
order's money show as paid and refunded but not as sales; the console page drills down to the same orders,
the API answers with the same figures and refuses bad filters naming the field."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from oms.core.errors import ValidationFailed
from oms.orders.selectors import OrderFilters, order_list
from oms.orders.services.cancel import order_cancel
from oms.orders.services.payments import payment_record
from oms.reports.forms import report_filters_parse
from oms.reports.sales import sales_report
from oms.reports.services.rollups import rollups_refresh
from oms.splitmerge.services.merge import orders_merge
from oms.splitmerge.services.split import order_split
from oms.testing.fulfillment import World

DAY1 = date(2026, 1, 15)


@pytest.fixture
def sold(world: World) -> World:
    """15 Jan: a (TEA×3 + NUT×1, shipping 6.00, order discount 1.11: payable 44.89) split into TEA and NUT, the
    TEA part merged with b (CUP×2, 20.00); 2.00 refunded. 16 Jan: c (RICE×1, 10.00) paid, cancelled, refunded."""
    for code in ("TEA-001", "NUT-002", "CUP-003", "RICE-10"):
        world.receive(world.hz, code, 50)
    buyer = {"platform_buyer_id": "report-buyer", "phone": "13900139000"}
    a = world.order([("TEA-001", 3), ("NUT-002", 1)], buyer=buyer, shipping="6.00", order_discount="1.11")
    b = world.order([("CUP-003", 2)], buyer=buyer)
    first, _second = order_split(order=a, groups=[{1: 3}, {2: 1}], actor=world.actor)
    merged = orders_merge(numbers=[first.number, b.number], actor=world.actor)
    payment_record(
        order=merged,
        method="alipay",
        transaction_id="SR-RF-1",
        amount_minor=2_00,
        paid_at=None,
        actor=world.actor,
        kind="refund",
    )
    c = world.order(
        [("RICE-10", 1)],
        placed_at="2026-01-16T09:00:00+08:00",
        payment={"method": "alipay", "transaction_id": "SR-C", "paid_at": "2026-01-16T09:01:00+08:00"},
    )
    order_cancel(order=c, actor=world.actor, reason="买家取消")
    payment_record(
        order=c,
        method="alipay",
        transaction_id="SR-RF-2",
        amount_minor=10_00,
        paid_at=None,
        actor=world.actor,
        kind="refund",
    )
    rollups_refresh()
    return world


def _report(**params: str) -> Any:
    return sales_report(filters=report_filters_parse({"from": "2026-01-15", "to": "2026-01-16", **params}))


def test_figures_match_the_hand_computed_ones(sold: World, django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(7):
        report = _report()
    t = report.totals
    assert (t.orders, t.cancelled_orders, t.units) == (2, 1, 6)
    assert (t.goods_minor, t.line_discount_minor, t.order_discount_minor, t.shipping_minor) == (60_00, 0, 1_11, 6_00)
    assert (t.payable_minor, t.received_minor, t.refunded_minor, t.net_minor) == (64_89, 74_89, 12_00, 62_89)
    day1, day2 = report.days
    assert (day1.key, day1.figures.orders, day1.figures.payable_minor, day1.figures.refunded_minor) == (
        "2026-01-15",
        2,
        64_89,
        2_00,
    )
    assert (day2.figures.orders, day2.figures.cancelled_orders, day2.figures.received_minor) == (0, 1, 10_00)
    top = {r.key: (r.figures.units, r.figures.goods_minor) for r in report.top_skus}
    assert top == {"TEA-001": (3, 30_00), "NUT-002": (1, 10_00), "CUP-003": (2, 20_00), "RICE-10": (0, 0)}


def test_breakdowns_add_up_to_the_totals(sold: World) -> None:
    for by in ("channel", "province", "sku"):
        report = _report(by=by)
        assert sum(r.figures.payable_minor for r in report.rows) == 64_89, by
        assert sum(r.figures.units for r in report.rows) == 6, by
    (zhejiang,) = _report(by="province").rows
    assert (zhejiang.key, zhejiang.label) == ("330000", "浙江省")
    tea = _report(sku="TEA-001")
    assert (tea.totals.units, tea.totals.goods_minor, tea.totals.received_minor) == (3, 30_00, None)


def test_every_figure_drills_down_to_the_same_orders(sold: World, make_operator: Any) -> None:
    client = Client()
    client.force_login(make_operator("finance"))
    page = client.get("/reports/sales/", {"from": "2026-01-15", "to": "2026-01-16", "by": "sku"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-chart="sales-day-chart-data"' in html and "64.89" in html
    # The day's link lists exactly the living orders counted that day (the split and merge's successors).
    page_orders = order_list(
        filters=OrderFilters(placed_from=DAY1, placed_to=DAY1, order_type="sale", living_only=True)
    ).items
    assert len(page_orders) == _report().days[0].figures.orders
    link = "/orders/?type=sale&amp;living_only=1&amp;placed_from=2026-01-15&amp;placed_to=2026-01-15"
    assert link in html
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    for order in page_orders:
        assert order.number in listed
    tea_link = (
        "/orders/?type=sale&amp;living_only=1&amp;placed_from=2026-01-15&amp;placed_to=2026-01-16&amp;sku=TEA-001"
    )
    assert tea_link in html


def test_bad_filters_are_refused_naming_the_field(sold: World, make_operator: Any, api_client: Any) -> None:
    for params, field in (
        ({"from": "2026-01-16", "to": "2026-01-15"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-15"}, "from"),
        ({"channel": "NOPE"}, "channel"),
        ({"sku": "NOPE"}, "sku"),
        ({"by": "weekday"}, "by"),
        ({"currency": "XYZ"}, "currency"),
        ({"province": "330000", "by": "sku"}, "province"),
        ({"colour": "red"}, "query"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            report_filters_parse(params)
        assert field in [d.field for d in caught.value.details], params
    client = api_client(make_operator("finance"))
    bad = client.get("/api/v1/reports/sales", {"from": "2026-01-16", "to": "2026-01-15"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "from"
    browser = Client()
    browser.force_login(make_operator("finance"))
    page = browser.get("/reports/sales/", {"channel": "NOPE"})
    assert page.status_code == 400 and 'data-testid="report-errors"' in page.content.decode()


def test_the_api_answers_with_the_same_figures(sold: World, make_operator: Any, api_client: Any) -> None:
    client = api_client(make_operator("finance"))
    body = client.get("/api/v1/reports/sales", {"from": "2026-01-15", "to": "2026-01-16", "by": "channel"}).json()
    assert (body["from"], body["to"], body["currency"]) == ("2026-01-15", "2026-01-16", "CNY")
    assert body["totals"]["payable"] == "64.89" and body["totals"]["net"] == "62.89"
    assert body["totals"]["orders"] == 2 and body["totals"]["cancelled_orders"] == 1
    assert [r["key"] for r in body["rows"]] == ["TMALL"]
    assert len(body["days"]) == 2
    assert api_client(make_operator("warehouse_coordinator")).get("/api/v1/reports/sales").status_code == 403
