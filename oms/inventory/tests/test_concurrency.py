"""Real threads against PostgreSQL: no counter goes negative, no unit is sold twice, ledger equals counters."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from itertools import count

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from oms.channels.models import AllocationRule, ChannelStock
from oms.inventory.models import Reservation, ReservationScope, StockItem
from oms.inventory.services.documents import DocLine, stock_receipt_create
from oms.inventory.services.reservations import (
    ReserveRequest,
    WarehouseReserveRequest,
    channel_reserve,
    reservations_consume,
    reservations_release,
    warehouse_reserve,
)
from oms.inventory.services.verify import stock_verify
from oms.inventory.tests.factories import make_channel, make_sku, make_warehouse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 64


def run_threads(worker: Callable[[int], None], n: int = THREADS) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def target(i: int) -> None:
        try:
            barrier.wait()
            worker(i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_hot_sku_exactly_its_stock_is_granted(admin_operator):
    wh = make_warehouse()
    ch = make_channel(warehouses=[wh])
    AllocationRule.objects.create(channel=ch)
    sku = make_sku()
    stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, 1000)], actor=admin_operator)
    assert ChannelStock.objects.get(channel=ch, sku=sku).quota == 1000
    ids = count(1)
    lock = threading.Lock()
    granted: list[int] = []

    def worker(_i: int) -> None:
        for _ in range(5000 // THREADS + (1 if _i < 5000 % THREADS else 0)):
            with lock:
                ref = next(ids)
            with transaction.atomic():
                out = channel_reserve(requests=[ReserveRequest("order_line", ref, ch.pk, sku.pk, 1)])
            with lock:
                granted.append(out[0].reserved)

    assert run_threads(worker) == []
    assert len(granted) == 5000
    assert sum(granted) == 1000
    cs = ChannelStock.objects.get(channel=ch, sku=sku)
    assert (cs.sales_reserved, cs.available, cs.pushed) == (1000, 0, 0)
    assert Reservation.objects.filter(state="active").aggregate(q=Sum("quantity"))["q"] == 1000
    report = stock_verify()
    assert report.drift == []


def test_random_orders_on_small_stock_never_oversell(admin_operator):
    rng = random.Random(2026)
    wh1, wh2 = make_warehouse(), make_warehouse()
    channels = [make_channel(warehouses=[wh1, wh2]) for _ in range(3)]
    for ch, bp in zip(channels, (5000, 3000, 2000), strict=True):
        AllocationRule.objects.create(channel=ch, ratio_bp=bp)
    skus = [make_sku() for _ in range(20)]
    initial = {s.pk: rng.randint(3, 15) for s in skus}
    for wh in (wh1, wh2):
        stock_receipt_create(
            warehouse_id=wh.pk, lines=[DocLine(s.pk, initial[s.pk]) for s in skus], actor=admin_operator
        )
    ids = count(1)
    lock = threading.Lock()

    def worker(i: int) -> None:
        local = random.Random(i)
        for _ in range(25):
            with lock:
                refs = [next(ids) for _ in range(3)]
            ch = local.choice(channels)
            lines = [
                ReserveRequest("order_line", ref, ch.pk, sku.pk, local.randint(1, 3))
                for ref, sku in zip(refs, local.sample(skus, local.randint(1, 3)), strict=False)
            ]
            with transaction.atomic():
                out = channel_reserve(requests=lines)
            held = [o for o in out if o.reserved > 0]
            fate = local.random()
            if fate < 0.3 and held:
                with transaction.atomic():
                    reservations_release(ref_type="order_line", ref_ids=[o.ref_id for o in held], reason="cancel")
            elif fate < 0.7 and held:
                wh = local.choice((wh1, wh2))
                with transaction.atomic():
                    ok = warehouse_reserve(
                        requests=[
                            WarehouseReserveRequest("order_line", o.ref_id, wh.pk, o.sku_id, o.reserved) for o in held
                        ],
                        refuse_when_short=False,
                    )
                    if all(o.short == 0 for o in ok):
                        reservations_consume(ref_type="order_line", ref_ids=[o.ref_id for o in held])
                    else:
                        reservations_release(ref_type="order_line", ref_ids=[o.ref_id for o in held], reason="no stock")

    assert run_threads(worker) == []
    report = stock_verify()
    assert report.drift == []
    assert report.over_committed == []
    for sku in skus:
        sold = (
            Reservation.objects.filter(
                sku=sku, scope=ReservationScope.CHANNEL, state__in=["active", "consumed"]
            ).aggregate(q=Sum("quantity"))["q"]
            or 0
        )
        assert sold <= 2 * initial[sku.pk], sku.code
        items = StockItem.objects.filter(sku=sku)
        shipped = 2 * initial[sku.pk] - sum(i.on_hand for i in items)
        consumed = (
            Reservation.objects.filter(sku=sku, scope=ReservationScope.CHANNEL, state="consumed").aggregate(
                q=Sum("quantity")
            )["q"]
            or 0
        )
        assert shipped == consumed
        for i in items:
            assert 0 <= i.reserved <= i.on_hand
    for cs in ChannelStock.objects.all():
        assert 0 <= cs.sales_reserved <= cs.quota
