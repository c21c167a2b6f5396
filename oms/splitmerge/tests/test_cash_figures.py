"""Cash figures count money that moved: a split and a merge carry shares of what was paid as bookkeeping
rows, which keep each order's paid status right but never add to money received or refunded."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.utils import timezone

from oms.orders.models import Order, Payment
from oms.orders.services.payments import payment_record
from oms.reports.selectors import cash_totals
from oms.splitmerge.selectors import living_descendants
from oms.splitmerge.services.merge import orders_merge
from oms.splitmerge.services.split import order_split
from oms.testing.fulfillment import World


def _stocked(world: World) -> None:
    for code in ("TEA-001", "NUT-002", "CUP-003"):
        world.receive(world.hz, code, 50)


def _paid_world(world: World) -> tuple[list[Order], int]:
    """Two paid orders of one buyer; the first is split and one half merged with the second."""
    _stocked(world)
    buyer = {"platform_buyer_id": "cash-buyer", "phone": "13900139000"}
    a = world.order([("TEA-001", 3), ("NUT-002", 1)], buyer=buyer, shipping="6.00", order_discount="1.11")
    b = world.order([("CUP-003", 2)], buyer=buyer)
    paid_in = a.received_minor + b.received_minor
    first, _second = order_split(order=a, groups=[{1: 3}, {2: 1}], actor=world.actor)
    orders_merge(numbers=[first.number, b.number], actor=world.actor)
    return [a, b], paid_in


def test_split_and_merge_do_not_inflate_cash_received(world: World, django_assert_num_queries: Any) -> None:
    originals, paid_in = _paid_world(world)
    assert Payment.objects.filter(method="carried").exists()
    with django_assert_num_queries(1):
        (cny,) = cash_totals()
    assert (cny.currency, cny.received_minor, cny.refunded_minor, cny.payments) == ("CNY", paid_in, 0, 2)
    # Summing orders' received across orders would count the same money up to three times...
    assert sum(Order.objects.values_list("received_minor", flat=True)) > paid_in
    # ...while the living orders, each with its own paid status, hold exactly what came in.
    living = {o.pk for leaves in living_descendants([o.pk for o in originals]).values() for o in leaves}
    assert sum(Order.objects.filter(pk__in=living).values_list("received_minor", flat=True)) == paid_in
    assert set(Order.objects.filter(pk__in=living).values_list("payment_status", flat=True)) == {"paid"}


def test_refunds_and_routed_payments_count_once(world: World) -> None:
    originals, paid_in = _paid_world(world)
    leaf = living_descendants([originals[0].pk])[originals[0].pk][0]
    payment_record(
        order=leaf,
        method="alipay",
        transaction_id="CASH-RF-1",
        amount_minor=2_00,
        paid_at=None,
        actor=world.actor,
        kind="refund",
    )
    # A refund named after the retired original is carried to the living orders but counted once.
    payment_record(
        order=originals[1],
        method="alipay",
        transaction_id="CASH-RF-2",
        amount_minor=1_00,
        paid_at=None,
        actor=world.actor,
        kind="refund",
    )
    (cny,) = cash_totals()
    assert (cny.received_minor, cny.refunded_minor, cny.net_minor, cny.refunds) == (paid_in, 3_00, paid_in - 3_00, 2)
    today = timezone.localdate()
    # By the day paid: the intake payments are dated 2026-01-15, the refunds today.
    (now,) = cash_totals(day_from=today, day_to=today)
    assert (now.received_minor, now.refunded_minor) == (0, 3_00)


def test_cash_totals_over_the_api_and_on_the_dashboard(world: World, make_operator: Any, api_client: Any) -> None:
    _originals, paid_in = _paid_world(world)
    finance = make_operator("finance")
    client = api_client(finance)
    (row,) = client.get("/api/v1/payments/totals").json()["totals"]
    assert row["received"] == f"{paid_in / 100:.2f}" and row["payments"] == 2
    day = client.get("/api/v1/payments/totals", {"from": "2026-01-15", "to": "2026-01-15", "channel": "TMALL"})
    assert day.json()["totals"][0]["received"] == row["received"]
    bad = client.get("/api/v1/payments/totals", {"from": "2026-01-16", "to": "2026-01-15"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "from"
    unknown = client.get("/api/v1/payments/totals", {"channel": "NOPE"})
    assert unknown.status_code == 422 and unknown.json()["error"]["details"][0]["field"] == "channel"
    assert api_client(make_operator("warehouse_coordinator")).get("/api/v1/payments/totals").status_code == 403
    # The dashboard shows today's and the week's cash to those who may see payments.
    browser = Client()
    browser.force_login(make_operator("customer_service"))
    page = browser.get("/").content.decode()
    assert 'data-testid="cash-totals"' in page
    browser.force_login(make_operator())
    assert 'data-testid="cash-totals"' not in browser.get("/").content.decode()
