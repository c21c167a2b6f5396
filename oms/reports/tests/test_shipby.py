"""Ship-by deadlines: per channel (hours after payment; presale by days), at-risk and overdue lists and
counters, one outbox event per order and kind before (and at) the deadline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from oms.channels.models import Channel
from oms.orders.models import Order
from oms.outbox.models import OutboxMessage, WebhookEndpoint
from oms.reports.models import ShipByPolicy
from oms.reports.services.shipby import ship_by_alerts_send
from oms.reports.shipby import ship_by_counts, ship_by_list
from oms.testing.fulfillment import World


def _paid_hours_ago(world: World, hours: float, **overrides: Any) -> Order:
    order = world.order([("TEA-001", 1)], **overrides)
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(hours=hours))
    return order


def test_at_risk_and_overdue_by_the_channels_rule(world: World, django_assert_num_queries: Any) -> None:
    world.receive(world.hz, "TEA-001", 50)
    fresh = _paid_hours_ago(world, 13)
    risky = _paid_hours_ago(world, 43)
    late = _paid_hours_ago(world, 49)
    presale = _paid_hours_ago(world, 49, presale=True)
    with django_assert_num_queries(3):  # the rules, then one count per state
        assert ship_by_counts() == {"at_risk": 1, "overdue": 1}
    assert [r.order.number for r in ship_by_list(state="at_risk")] == [risky.number]
    (row,) = ship_by_list(state="overdue")
    assert row.order.number == late.number and row.state == "overdue"
    assert abs((row.deadline - (row.order.paid_at + timedelta(hours=48))).total_seconds()) < 1
    # A stricter rule for this shop: 24 h, warned 12 h before.
    ShipByPolicy.objects.create(channel=world.channel, hours=24, warn_hours=12, presale_days=2)
    assert ship_by_counts() == {"at_risk": 1, "overdue": 3}
    assert {r.order.number for r in ship_by_list(state="overdue")} == {risky.number, late.number, presale.number}
    assert [r.order.number for r in ship_by_list(state="at_risk")] == [fresh.number]
    # Orders of another channel keep the default rule.
    jd = Channel.objects.create(code="JD", name="京东", platform="jd", classification="online")
    Order.objects.filter(pk__in=[fresh.pk, risky.pk]).update(channel=jd)
    assert ship_by_counts() == {"at_risk": 1, "overdue": 2}
    assert [r.order.number for r in ship_by_list(state="at_risk")] == [risky.number]


def test_one_outbox_event_per_order_and_kind(world: World) -> None:
    world.receive(world.hz, "TEA-001", 50)
    WebhookEndpoint.objects.create(
        name="robot", url="https://robot.example.com/hook", secret="s" * 32, topics=["order.*"]
    )
    risky = _paid_hours_ago(world, 44)
    late = _paid_hours_ago(world, 50)
    first = ship_by_alerts_send()
    assert (first.at_risk, first.overdue) == (1, 1)
    again = ship_by_alerts_send()
    assert (again.at_risk, again.overdue) == (0, 0)
    topics = dict(OutboxMessage.objects.filter(topic__startswith="order.ship_by").values_list("aggregate_id", "topic"))
    assert topics == {str(risky.pk): "order.ship_by_at_risk", str(late.pk): "order.ship_by_overdue"}
    payload = OutboxMessage.objects.get(aggregate_id=str(late.pk)).payload
    assert payload["order"] == late.number and payload["state"] == "overdue" and payload["ship_by"]
    # Time passes: the at-risk order becomes overdue and is announced once more, as overdue.
    later = ship_by_alerts_send(now=timezone.now() + timedelta(hours=5))
    assert (later.at_risk, later.overdue) == (0, 1)


def test_console_list_and_dashboard_counters(world: World, make_operator: Any) -> None:
    world.receive(world.hz, "TEA-001", 50)
    late = _paid_hours_ago(world, 60)
    client = Client()
    client.force_login(make_operator("customer_service"))
    page = client.get("/ship-by/", {"state": "overdue"}).content.decode()
    assert late.number in page and 'data-testid="ship-by-table"' in page
    home = client.get("/").content.decode()
    assert 'data-testid="ship-by-overdue"' in home
    assert client.get("/ship-by/", {"state": "nonsense"}).status_code == 200
