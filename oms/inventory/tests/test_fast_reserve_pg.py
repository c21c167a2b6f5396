"""The PostgreSQL hot path of `channel_reserve` against the general path: same grants, same ledger.

`fast_reserve` answers a one-row call with one conditional UPDATE and falls back to lock-and-plan when it
cannot grant everything; each way must give exactly what the pure `plan_grants` gives, first come first
served, and leave counters equal to the ledger.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.catalog.models import Sku
from oms.channels.models import AllocationRule, ChannelStock
from oms.inventory.domain.reservation import LineDemand, plan_grants
from oms.inventory.models import Reservation, Warehouse
from oms.inventory.services.documents import DocLine, stock_receipt_create
from oms.inventory.services.reservations import ReserveRequest, channel_reserve
from oms.inventory.tests.factories import make_channel, make_sku, make_warehouse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _setup(units: list[int]) -> tuple[int, list[int]]:
    ch, skus, _wh = _world(units)
    return ch, [s.pk for s in skus]


def _world(units: list[int]) -> tuple[int, list[Sku], Warehouse]:
    wh = make_warehouse()
    ch = make_channel(warehouses=[wh])
    AllocationRule.objects.create(channel=ch)
    skus = [make_sku() for _ in units]
    stock_receipt_create(
        warehouse_id=wh.pk, lines=[DocLine(sku.pk, n) for sku, n in zip(skus, units, strict=True)], actor=None
    )
    return ch.pk, skus, wh


def _held(ref_id: int) -> int:
    return sum(
        Reservation.objects.filter(ref_type="t", ref_id=ref_id, state="active", scope="channel").values_list(
            "quantity", flat=True
        )
    )


def test_one_line_in_stock_is_one_statement(assert_no_drift):
    ch, [sku] = _setup([10])
    with transaction.atomic():
        channel_reserve(requests=[ReserveRequest("t", 1, ch, sku, 1)])  # prepares the statements
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        [out] = channel_reserve(requests=[ReserveRequest("t", 2, ch, sku, 4)])
    assert (out.reserved, out.short) == (4, 0)
    assert [q["sql"].split()[0] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")] == [
        "EXECUTE"  # the prepared conditional UPDATE with the ledger and change-log rows
    ]
    assert ChannelStock.objects.get(channel_id=ch, sku_id=sku).sales_reserved == 5
    assert_no_drift()


def test_partial_grant_top_up_and_sold_out(assert_no_drift):
    ch, [sku_obj], wh = _world([3])
    sku = sku_obj.pk
    with transaction.atomic():
        [out] = channel_reserve(requests=[ReserveRequest("t", 1, ch, sku, 5)])
    assert (out.reserved, out.short) == (3, 2)  # not all of it: the lock-and-plan path grants what is free
    with transaction.atomic():
        [out] = channel_reserve(requests=[ReserveRequest("t", 2, ch, sku, 1)])
    assert (out.reserved, out.short) == (0, 1)  # sold out: nothing granted, nothing locked
    stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(sku, 4)], actor=None)
    with transaction.atomic():
        [out] = channel_reserve(requests=[ReserveRequest("t", 1, ch, sku, 5)])
    assert (out.reserved, out.short) == (5, 0)  # the line already holds 3: it asks for 2 more, never twice
    assert _held(1) == 5 and _held(2) == 0
    assert_no_drift()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stock=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    lines=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 4)), min_size=1, max_size=5),
)
def test_grants_equal_the_pure_plan(assert_no_drift, stock, lines):
    ch, skus = _setup(stock)  # a new channel per example: examples do not see each other's reservations
    requests = [ReserveRequest("t", 1000 + i, ch, skus[k % len(skus)], qty) for i, (k, qty) in enumerate(lines)]
    free = {(ch, s): ChannelStock.objects.get(channel_id=ch, sku_id=s).available for s in skus}
    expected = plan_grants(free, [LineDemand(ch, ((r.sku_id, 1),), r.quantity) for r in requests])
    with transaction.atomic():
        outcomes = channel_reserve(requests=requests)
    assert [o.reserved for o in outcomes] == expected
    assert [o.short for o in outcomes] == [r.quantity - g for r, g in zip(requests, expected, strict=True)]
    held = dict(
        Reservation.objects.filter(channel_id=ch, state="active", scope="channel").values_list("ref_id", "quantity")
    )
    assert {r.ref_id: g for r, g in zip(requests, expected, strict=True) if g} == held
    assert_no_drift()
