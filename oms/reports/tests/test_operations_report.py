"""The operations report against figures computed by hand: orders per stage by age, interceptions by reason
with the median release time, split counts, payment to dispatch and shipment p50/p90. Orders come through
the real intake; their status, times, holds and dispatch documents are then set to known values (the report
only reads them). The same checks run on PostgreSQL, where the database computes the percentiles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from oms.channels.models import Channel
from oms.core.errors import ValidationFailed
from oms.fulfillment.models import Shipment
from oms.orders.models import Order
from oms.reports.operations import operations_filters_parse, operations_report, percentile
from oms.review.models import Interception
from oms.splitmerge.services.split import order_split
from oms.testing.fulfillment import World

H = 3600


@pytest.fixture
def ops(world: World) -> dict[str, Any]:
    """o1 pending review for 30 min, paid 2 days ago, no dispatch; o2 pending shipment for 5 h, paid 3 days
    ago, dispatched 1 h after payment; o3 shipped 4 days ago, paid 5 days ago, dispatched after 2 h, shipped
    after 10 h; o4 pending shipment for 2 h but paid 40 days ago (outside the period), dispatched after 30 min.
    Holds: REMARK on o1 released after 600 s, on o2 released after 1800 s, on o3 still open; ADDRESS on o2 void;
    REMARK on o4 raised 40 days ago and released (outside the period)."""
    now = timezone.now()
    orders = [world.order([("TEA-001", 1)]) for _ in range(4)]
    Shipment.objects.all().delete()
    Interception.objects.all().delete()
    o1, o2, o3, o4 = orders
    for order, status, since, paid in (
        (o1, "pending_review", timedelta(minutes=30), timedelta(days=2)),
        (o2, "pending_shipment", timedelta(hours=5), timedelta(days=3)),
        (o3, "shipped", timedelta(days=4), timedelta(days=5)),
        (o4, "pending_shipment", timedelta(hours=2), timedelta(days=40)),
    ):
        Order.objects.filter(pk=order.pk).update(status=status, updated_at=now - since, paid_at=now - paid)
        order.refresh_from_db()
    for n, (order, sent, shipped) in enumerate(((o2, 1 * H, None), (o3, 2 * H, 10 * H), (o4, 1800, None)), start=1):
        assert order.paid_at is not None
        Shipment.objects.create(
            number=f"OPS-{n}",
            order=order,
            warehouse=world.hz,
            subsidiary=world.hz.subsidiary,
            courier=world.sf,
            state="shipped" if shipped else "sent",
            created_at=order.paid_at + timedelta(seconds=sent),
            shipped_at=order.paid_at + timedelta(seconds=shipped) if shipped else None,
        )
    for order, code, state, raised, held in (
        (o1, "REMARK", "released", timedelta(days=2), 600),
        (o2, "REMARK", "released", timedelta(days=3), 1800),
        (o3, "REMARK", "open", timedelta(days=1), None),
        (o2, "ADDRESS", "void", timedelta(days=3), 60),
        (o4, "REMARK", "released", timedelta(days=40), 5),
    ):
        Interception.objects.create(
            order=order,
            reason_code=code,
            reason=f"{code} hold",
            state=state,
            created_at=now - raised,
            resolved_at=now - raised + timedelta(seconds=held) if held is not None else None,
        )
    return {"now": now, "orders": orders}


def _report(ops: dict[str, Any], **params: str) -> Any:
    today = timezone.localdate(ops["now"])
    params = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat(), **params}
    return operations_report(filters=operations_filters_parse(params), now=ops["now"])


def test_percentile_interpolates_like_postgres() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([3600.0, 7200.0], 0.5) == 5400.0
    assert percentile([3600.0, 7200.0], 0.9) == pytest.approx(6840.0)
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5


def _check_figures(r: Any) -> None:
    stages = {s.status: (s.count, s.ages) for s in r.stages if s.count}
    assert stages == {
        "pending_review": (1, [1, 0, 0, 0, 0]),
        "pending_shipment": (2, [0, 1, 1, 0, 0]),
        "shipped": (1, [0, 0, 0, 0, 1]),
    }
    assert r.paid_orders == 3
    dispatch, shipment = r.timings
    assert (dispatch.orders, dispatch.p50_s, dispatch.p90_s) == (2, pytest.approx(5400), pytest.approx(6840))
    assert (shipment.orders, shipment.p50_s, shipment.p90_s) == (1, pytest.approx(36000), pytest.approx(36000))
    rows = [(i.reason_code, i.raised, i.open, i.released, i.void, i.median_release_s) for i in r.interceptions]
    assert rows == [("REMARK", 3, 1, 2, 0, pytest.approx(1200)), ("ADDRESS", 1, 0, 0, 1, None)]


def test_figures_match_the_hand_computed_ones(ops: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(8):
        r = _report(ops)
    _check_figures(r)
    assert r.split_merge["split"] == {"operations": 0, "orders": 0}


def test_python_percentiles_agree_with_the_database(ops: dict[str, Any], monkeypatch: Any) -> None:
    """On PostgreSQL the percentiles come from percentile_cont (run this file with DATABASE_URL set to a
    PostgreSQL database): the Python path, forced, gives the same figures."""
    monkeypatch.setattr("oms.reports.operations._on_postgres", lambda: False)
    _check_figures(_report(ops))


def test_channel_and_period_narrow_the_figures(ops: dict[str, Any]) -> None:
    Channel.objects.create(code="JD", name="京东自营", platform="jd", classification="online")
    jd = _report(ops, channel="JD")
    assert sum(s.count for s in jd.stages) == 0 and jd.paid_orders == 0 and jd.interceptions == []
    today = timezone.localdate(ops["now"])
    wide = _report(ops, **{"from": (today - timedelta(days=45)).isoformat()})
    assert wide.paid_orders == 4 and wide.timings[0].orders == 3
    assert wide.interceptions[0].raised == 4 and wide.interceptions[0].median_release_s == pytest.approx(600)


def test_split_counts_operations_and_orders_made(world: World) -> None:
    world.receive(world.hz, "TEA-001", 10)
    world.receive(world.hz, "NUT-002", 10)
    order = world.order([("TEA-001", 2), ("NUT-002", 1)])
    order_split(order=order, groups=[{1: 2}, {2: 1}], actor=world.actor)
    r = operations_report(filters=operations_filters_parse({}))
    assert r.split_merge["split"] == {"operations": 1, "orders": 2}
    assert r.split_merge["merge"] == {"operations": 0, "orders": 0}
    # The split order (paid 15 Jan 2026) is replaced: its two successors are counted, not it.
    assert order.paid_at is not None
    day = timezone.localdate(order.paid_at).isoformat()
    assert operations_report(filters=operations_filters_parse({"from": day, "to": day})).paid_orders == 2


def test_bad_filters_console_and_api(ops: dict[str, Any], make_operator: Any, api_client: Any) -> None:
    for params, field in (
        ({"from": "2026-01-16", "to": "2026-01-15"}, "from"),
        ({"channel": "NOPE"}, "channel"),
        ({"sku": "TEA-001"}, "query"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            operations_filters_parse(params)
        assert field in [d.field for d in caught.value.details], params
    today = timezone.localdate(ops["now"])
    period = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}
    client = Client()
    client.force_login(make_operator("order_reviewer"))
    html = client.get("/reports/operations/", period).content.decode()
    assert 'data-chart="ops-stage-chart-data"' in html
    assert 'href="/orders/?status=pending_shipment"' in html
    assert 'href="/interceptions/?reason=REMARK&amp;state=open"' in html
    assert (
        f'href="/orders/?type=sale&amp;living_only=1&amp;paid_from={period["from"]}&amp;paid_to={period["to"]}"' in html
    )
    listed = client.get(
        "/orders/", {"type": "sale", "living_only": "1", **{"paid_from": period["from"], "paid_to": period["to"]}}
    )
    for order in ops["orders"][:3]:
        assert order.number in listed.content.decode()
    assert client.get("/reports/operations/", {"channel": "NOPE"}).status_code == 400
    api = api_client(make_operator("order_reviewer"))
    body = api.get("/api/v1/reports/operations", period).json()
    assert body["paid_orders"] == 3 and body["payment_to_dispatch"]["p50_seconds"] == pytest.approx(5400)
    assert body["stages"][1]["status"] == "pending_payment"
    assert [s["ages"] for s in body["stages"] if s["status"] == "pending_shipment"] == [
        {"lt1h": 0, "1to4h": 1, "4to24h": 1, "1to3d": 0, "ge3d": 0}
    ]
    assert body["interceptions"][0]["median_release_seconds"] == pytest.approx(1200)
    assert api.get("/api/v1/reports/operations", {"to": "2020-01-01", "from": "2020-02-01"}).status_code == 422
    assert api_client(make_operator("finance")).get("/api/v1/reports/operations").status_code == 403
