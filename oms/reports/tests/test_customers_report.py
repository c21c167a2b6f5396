"""The customers report against figures computed by hand: repeat buyers, orders per customer, top customers
by spend; a cancelled order and an order placed outside the period do not count; the console page links each
top customer to their page; the API answers with the same figures and refuses bad filters."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from oms.core.errors import ValidationFailed
from oms.orders.models import Customer
from oms.orders.services.cancel import order_cancel
from oms.reports.customers import customers_filters_parse, customers_report
from oms.testing.fulfillment import World

PERIOD = {"from": "2026-01-15", "to": "2026-01-16"}


@pytest.fixture
def buyers(world: World) -> dict[str, int]:
    """Lines at 10.00 a unit. A: 3 orders of 1, 2 and 3 units (60.00); B: 1 unit (10.00) and a cancelled order
    of 4; C: 2 orders of 5 units (100.00); D: one order placed on 20 Feb (outside the period)."""

    def order(buyer: str, units: int, **extra: Any) -> Any:
        return world.order(
            [("TEA-001", units)], buyer={"platform_buyer_id": f"cust-{buyer}", "nickname": buyer}, **extra
        )

    for units in (1, 2, 3):
        order("A", units)
    order("B", 1)
    order_cancel(order=order("B", 4), actor=world.actor, reason="买家取消")
    order("C", 5)
    order("C", 5)
    order("D", 1, placed_at="2026-02-20T10:00:00+08:00")
    return {b: Customer.objects.get(platform_buyer_id=f"cust-{b}").pk for b in "ABCD"}


def test_figures_match_the_hand_computed_ones(buyers: dict[str, int], django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(4):
        r = customers_report(filters=customers_filters_parse(PERIOD))
    assert (r.customers, r.repeat_customers, r.orders, r.spend_minor) == (3, 2, 6, 170_00)
    assert r.repeat_rate_pct == 66.7
    assert r.distribution == [("1", 1), ("2", 1), ("3", 1), ("4-5", 0), ("6+", 0)]
    assert [(t.customer_id, t.orders, t.spend_minor) for t in r.top] == [
        (buyers["C"], 2, 100_00),
        (buyers["A"], 3, 60_00),
        (buyers["B"], 1, 10_00),
    ]
    feb = customers_report(filters=customers_filters_parse({"from": "2026-02-01", "to": "2026-02-28"}))
    assert (feb.customers, feb.orders, [t.customer_id for t in feb.top]) == (1, 1, [buyers["D"]])


def test_console_api_and_bad_filters(buyers: dict[str, int], make_operator: Any, api_client: Any) -> None:
    for params, field in (
        ({"channel": "NOPE"}, "channel"),
        ({"sku": "TEA-001"}, "query"),
        ({"currency": "XYZ"}, "currency"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            customers_filters_parse(params)
        assert field in [d.field for d in caught.value.details], params
    client = Client()
    client.force_login(make_operator("finance"))
    html = client.get("/reports/customers/", PERIOD).content.decode()
    assert 'data-chart="customers-distribution-chart-data"' in html and "170.00" in html
    assert f'href="/customers/{buyers["C"]}/"' in html
    assert "/orders/?type=sale&amp;living_only=1&amp;placed_from=2026-01-15&amp;placed_to=2026-01-16" in html
    assert client.get("/reports/customers/", {"channel": "NOPE"}).status_code == 400
    body = api_client(make_operator("finance")).get("/api/v1/reports/customers", PERIOD).json()
    assert (body["customers"], body["repeat_customers"], body["orders"], body["spend"]) == (3, 2, 6, "170.00")
    assert body["orders_per_customer"] == {"1": 1, "2": 1, "3": 1, "4-5": 0, "6+": 0}
    assert [(t["customer_id"], t["spend"]) for t in body["top"]] == [
        (buyers["C"], "100.00"),
        (buyers["A"], "60.00"),
        (buyers["B"], "10.00"),
    ]
    assert api_client(make_operator("warehouse_coordinator")).get("/api/v1/reports/customers").status_code == 403
