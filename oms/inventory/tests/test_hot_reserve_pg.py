"""Batched reservations for designated hot SKUs (`hot_reserve`), on PostgreSQL with real threads.

The batch path must keep every guarantee of the per-call path: exactly the stock is granted, first come first
served as `plan_grants` plans it, counters equal the ledger, and lines it cannot take go the general way."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from itertools import count

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.catalog.models import Sku
from oms.channels.models import AllocationRule, AvailabilityChange, ChannelStock
from oms.inventory.domain.reservation import LineDemand, plan_grants
from oms.inventory.models import Reservation, ReservationRequest
from oms.inventory.services.documents import DocLine, stock_receipt_create
from oms.inventory.services.hot_reserve import hot_skus
from oms.inventory.services.reservations import ReserveRequest, channel_reserve, reservations_release
from oms.inventory.tasks import sweep_reservation_requests
from oms.inventory.tests.factories import make_channel, make_sku, make_warehouse
from oms.inventory.tests.test_concurrency import run_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

_refs = count(1)


def _hot_world(units: int) -> tuple[int, int, int]:
    wh = make_warehouse()
    ch = make_channel(warehouses=[wh])
    AllocationRule.objects.create(channel=ch)
    sku = make_sku()
    sku.is_hot = True
    sku.save(update_fields=["is_hot"])
    if units:
        stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, units)], actor=None)
    assert sku.pk in hot_skus(refresh=True)
    return ch.pk, sku.pk, wh.pk


def _active(sku: int) -> int:
    return int(Reservation.objects.filter(sku_id=sku, state="active").aggregate(q=Sum("quantity"))["q"] or 0)


@pytest.mark.parametrize("designated", [True, False], ids=["designated-hot", "busy-row"])
def test_64_callers_on_one_sku_are_granted_exactly_its_stock_in_batches(assert_no_drift, designated):
    ch, sku = _hot_world(1000)[:2] if designated else _plain_world(1000)
    lock = threading.Lock()
    granted: list[int] = []

    def worker(i: int) -> None:
        for k in range(5000 // 64 + (1 if i < 5000 % 64 else 0)):
            [out] = channel_reserve(requests=[ReserveRequest("order_line", i * 10_000 + k, ch, sku, 1)])
            with lock:
                granted.append(out.reserved)

    assert run_threads(worker) == []
    assert (len(granted), sum(granted)) == (5000, 1000)
    cs = ChannelStock.objects.get(channel_id=ch, sku_id=sku)
    assert (cs.sales_reserved, cs.available, cs.pushed) == (1000, 0, 0)
    assert _active(sku) == 1000
    assert not ReservationRequest.objects.exists()  # every caller took its request back
    # Undesignated, only the calls that found the row busy queued: fewer batches, still far fewer than turns.
    # One change-log row per batch that changed the pushed figure: batches of many requests, not 1,000 turns.
    assert AvailabilityChange.objects.filter(channel_id=ch, sku_id=sku).count() < 1000
    assert_no_drift()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stock=st.integers(0, 12),
    calls=st.lists(st.lists(st.integers(1, 4), min_size=1, max_size=3), min_size=1, max_size=6),
    designated=st.booleans(),
)
def test_calls_on_their_own_grant_what_the_pure_plan_grants(assert_no_drift, stock, calls, designated):
    """Designated: every call queues. Not: a call the row has room for is one statement; one it has room for
    in part goes through the queue; a sold-out one writes nothing — all equal to `plan_grants`."""
    ch, sku = _hot_world(stock)[:2] if designated else _plain_world(stock)
    free = {(ch, sku): stock}
    for quantities in calls:
        refs = [next(_refs) for _ in quantities]
        outcomes = channel_reserve(
            requests=[ReserveRequest("t", ref, ch, sku, q) for ref, q in zip(refs, quantities, strict=True)]
        )
        planned = plan_grants(free, [LineDemand(ch, ((sku, 1),), q) for q in quantities])
        assert [o.reserved for o in outcomes] == planned
        assert [o.short for o in outcomes] == [q - g for q, g in zip(quantities, planned, strict=True)]
        free[(ch, sku)] -= sum(planned)
    assert _active(sku) == stock - free[(ch, sku)]
    assert not ReservationRequest.objects.exists()
    assert_no_drift()


def test_lines_the_batch_cannot_take_go_the_general_way(assert_no_drift):
    ch, sku, _wh = _hot_world(10)
    # A top-up: the line holds 1 unit and now needs 3 in all.
    [first] = channel_reserve(requests=[ReserveRequest("t", 501, ch, sku, 1)])
    [again] = channel_reserve(requests=[ReserveRequest("t", 501, ch, sku, 3)])
    assert (first.reserved, again.reserved, again.short) == (1, 3, 0)
    # A request for the same line queued by another caller that never came back for it: the batch takes the
    # older one, this call goes the general way and finds the line already holds its units.
    ReservationRequest.objects.create(caller=1, channel_id=ch, sku_id=sku, ref_type="t", ref_id=502, quantity=2)
    [out] = channel_reserve(requests=[ReserveRequest("t", 502, ch, sku, 2)])
    assert (out.reserved, out.short) == (2, 0)
    assert Reservation.objects.filter(ref_type="t", ref_id=502, state="active").count() == 1
    assert list(ReservationRequest.objects.values_list("ref_id", "granted")) == [(502, 2)]
    # A channel with no stock row for the SKU yet.
    other = make_channel(warehouses=[make_warehouse()])
    AllocationRule.objects.create(channel=other)
    [none] = channel_reserve(requests=[ReserveRequest("t", 503, other.pk, sku, 1)])
    assert (none.reserved, none.short) == (0, 1)
    assert _active(sku) == 5
    assert_no_drift()


def test_inside_a_transaction_the_call_does_not_queue(assert_no_drift):
    ch, sku, _wh = _hot_world(5)
    table = ReservationRequest._meta.db_table
    with transaction.atomic():
        channel_reserve(requests=[ReserveRequest("t", 600, ch, sku, 1)])  # sets the session up (PREPAREs …)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        [out] = channel_reserve(requests=[ReserveRequest("t", 601, ch, sku, 2)])
    assert (out.reserved, out.short) == (2, 0)
    assert not any(table in q["sql"] for q in queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        [out] = channel_reserve(requests=[ReserveRequest("t", 602, ch, sku, 2)])
    assert (out.reserved, out.short) == (2, 0)
    assert any(table in q["sql"] for q in queries.captured_queries)
    assert _active(sku) == 5
    assert_no_drift()


def test_batches_race_releases_and_receipts_without_drift(assert_no_drift):
    ch, sku, wh = _hot_world(40)
    lock = threading.Lock()
    held: list[int] = []

    def worker(i: int) -> None:
        rng = random.Random(i)
        if i == 0:
            for _ in range(10):
                stock_receipt_create(warehouse_id=wh, lines=[DocLine(sku, 5)], actor=None)
            return
        for k in range(12):
            ref = i * 1000 + k
            [out] = channel_reserve(requests=[ReserveRequest("t", ref, ch, sku, rng.randint(1, 3))])
            if out.reserved and rng.random() < 0.4:
                with transaction.atomic():
                    reservations_release(ref_type="t", ref_ids=[ref], reason="cancel")
            elif out.reserved:
                with lock:
                    held.append(out.reserved)

    assert run_threads(worker, 32) == []
    cs = ChannelStock.objects.get(channel_id=ch, sku_id=sku)
    assert cs.quota == 90
    assert cs.sales_reserved == _active(sku) == sum(held) <= 90
    assert not ReservationRequest.objects.exists()
    assert_no_drift()


def test_requests_nobody_came_back_for_are_swept():
    ch, sku, _wh = _hot_world(3)
    old = ReservationRequest.objects.create(caller=1, channel_id=ch, sku_id=sku, ref_type="t", ref_id=701, quantity=1)
    ReservationRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    fresh = ReservationRequest.objects.create(caller=1, channel_id=ch, sku_id=sku, ref_type="t", ref_id=702, quantity=1)
    assert sweep_reservation_requests() == 1
    assert list(ReservationRequest.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert django_settings.CELERY_BEAT_SCHEDULE["inventory-sweep-reservation-requests"]["task"] == (
        "inventory.sweep_reservation_requests"
    )


def _plain_world(units: int) -> tuple[int, int]:
    ch, sku, _wh = _hot_world(units)
    Sku.objects.filter(pk=sku).update(is_hot=False)
    assert sku not in hot_skus(refresh=True)
    return ch, sku


def test_a_call_that_finds_the_row_busy_queues_instead_of_waiting_for_its_lock(assert_no_drift):
    ch, sku = _plain_world(5)
    locked, release = threading.Event(), threading.Event()

    def holder(i: int) -> None:
        if i == 0:
            with transaction.atomic():
                list(ChannelStock.objects.select_for_update(no_key=True).filter(channel_id=ch, sku_id=sku))
                locked.set()
                release.wait(10)

    thread = threading.Thread(target=run_threads, args=(holder, 1))
    thread.start()
    assert locked.wait(10)
    table = ReservationRequest._meta.db_table
    timer = threading.Timer(0.3, release.set)  # the holder commits while this call waits in the queue
    timer.start()
    with CaptureQueriesContext(connection) as queries:
        [out] = channel_reserve(requests=[ReserveRequest("t", 801, ch, sku, 2)])
    thread.join()
    assert (out.reserved, out.short) == (2, 0)
    assert any(f"INSERT INTO {table}" in q["sql"] for q in queries.captured_queries)
    [out] = channel_reserve(requests=[ReserveRequest("t", 802, ch, sku, 2)])  # row free: one statement, no queue
    assert (out.reserved, out.short) == (2, 0)
    assert not ReservationRequest.objects.exists()
    assert_no_drift()


def test_a_request_the_batch_cannot_write_does_not_fail_the_others(assert_no_drift):
    ch, sku, _wh = _hot_world(10)
    table = Reservation._meta.db_table
    with connection.cursor() as cursor:  # fault injection: the ledger refuses one line
        cursor.execute(
            "CREATE FUNCTION refuse_line_901() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.ref_id = 901 THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER refuse_line_901 BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_line_901()"
        )
    try:
        # Line 901 waits in the queue (its caller gone), so the next batch takes it with this call's line.
        ReservationRequest.objects.create(caller=1, channel_id=ch, sku_id=sku, ref_type="t", ref_id=901, quantity=1)
        [out] = channel_reserve(requests=[ReserveRequest("t", 902, ch, sku, 3)])
        assert (out.reserved, out.short) == (3, 0)
        assert list(ReservationRequest.objects.values_list("ref_id", "granted")) == [(901, -1)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER refuse_line_901 ON {table}")
            cursor.execute("DROP FUNCTION refuse_line_901()")
    assert _active(sku) == 3
    assert_no_drift()


def test_with_the_fast_paths_off_a_call_takes_the_general_path(assert_no_drift, settings):
    settings.OMS_STOCK_FAST_PATH = False
    ch, sku, _wh = _hot_world(3)
    with CaptureQueriesContext(connection) as queries:
        [one] = channel_reserve(requests=[ReserveRequest("t", 1001, ch, sku, 2)])
        [two] = channel_reserve(requests=[ReserveRequest("t", 1002, ch, sku, 2)])
    assert [(one.reserved, one.short), (two.reserved, two.short)] == [(2, 0), (1, 1)]
    sqls = " ".join(q["sql"] for q in queries.captured_queries)
    assert "EXECUTE" not in sqls and "PREPARE" not in sqls and ReservationRequest._meta.db_table not in sqls
    assert_no_drift()


def test_a_waiters_lock_left_behind_does_not_stop_the_batches(assert_no_drift):
    """A session cancelled in the instant it held the waiters' lock keeps it: batches must still run."""
    ch, sku, _wh = _hot_world(10)
    held, done = threading.Event(), threading.Event()

    def leftover(_i: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_lock_shared(hashtextextended('oms.hot_reserve:' || %s || ':' || %s, 1))",
                [ch, sku],
            )
        held.set()
        done.wait(60)

    thread = threading.Thread(target=run_threads, args=(leftover, 1))
    thread.start()
    assert held.wait(10)
    try:
        outcomes = [channel_reserve(requests=[ReserveRequest("t", 1100 + k, ch, sku, 2)])[0] for k in range(3)]
        with connection.cursor() as cursor:  # the leftover still holds it: the batches ran without it
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(hashtextextended('oms.hot_reserve:' || %s || ':' || %s, 1))",
                [ch, sku],
            )
            assert cursor.fetchone() == (False,)
    finally:
        done.set()
        thread.join()
    assert [(o.reserved, o.short) for o in outcomes] == [(2, 0)] * 3
    assert _active(sku) == 6
    assert_no_drift()
