"""Real threads against PostgreSQL: a set-based full re-allocation racing stock documents never leaves a quota
computed from stock that has changed since (the rows are locked before the shelves are read)."""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.db import transaction

from oms.channels.models import AllocationRule, ChannelStock
from oms.channels.services.allocation import allocation_context, channel_stock_reallocate
from oms.channels.services.allocation_sql import set_based_plan
from oms.fulfillment.tests.test_concurrency_pg import run_threads
from oms.inventory.models import StockItem
from oms.inventory.services.documents import DocLine, stock_count_create, stock_receipt_create
from oms.inventory.services.verify import stock_verify
from oms.inventory.tests.factories import make_channel, make_sku, make_warehouse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_full_run_racing_stock_counts_leaves_fresh_quotas(admin_operator):
    wh = make_warehouse()
    tmall, jd = make_channel(warehouses=[wh]), make_channel(warehouses=[wh])
    AllocationRule.objects.create(channel=tmall, ratio_bp=5000, priority=1)
    AllocationRule.objects.create(channel=jd, ratio_bp=5000, priority=2)
    skus = [make_sku() for _ in range(300)]
    stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(s.pk, 40) for s in skus], actor=admin_operator)
    assert set_based_plan(allocation_context()) is not None
    # New rules: the full runs rewrite every row while the counts below change the shelves under them.
    AllocationRule.objects.filter(channel=tmall).update(ratio_bp=7000, safety_stock=1)
    rng = random.Random(7)

    def counts() -> None:
        for _ in range(40):
            picked = rng.sample(skus, 5)
            stock_count_create(
                warehouse_id=wh.pk, lines=[DocLine(s.pk, rng.randint(0, 30)) for s in picked], actor=admin_operator
            )

    def full_runs() -> None:
        for _ in range(3):
            channel_stock_reallocate(chunk=50)

    errors = run_threads([counts, full_runs, full_runs])
    assert errors == []
    # Every quota matches the shelves and rules as they are now: the Python allocator finds nothing to change.
    assert channel_stock_reallocate(set_based=False).rows_changed == 0
    assert ChannelStock.objects.filter(channel=tmall).count() > 0
    report = stock_verify()
    assert report.drift == []


def test_full_run_waits_for_a_stock_document_holding_the_rows(admin_operator):
    """A count commits while the full run is re-allocating its SKU: the run must wait for the count's locks
    and then read the counted shelf, not overwrite the count's quotas with figures from before it."""
    wh = make_warehouse()
    tmall, jd = make_channel(warehouses=[wh]), make_channel(warehouses=[wh])
    AllocationRule.objects.create(channel=tmall, ratio_bp=5000, priority=1)
    AllocationRule.objects.create(channel=jd, ratio_bp=5000, priority=2)
    sku = make_sku()
    stock_receipt_create(warehouse_id=wh.pk, lines=[DocLine(sku.pk, 40)], actor=admin_operator)
    AllocationRule.objects.filter(channel=tmall).update(ratio_bp=7000)
    counted, started = threading.Event(), threading.Event()

    def count() -> None:
        # What a stock document does, held open: change the shelf under its lock, re-allocate the SKU.
        with transaction.atomic():
            StockItem.objects.select_for_update().filter(warehouse=wh, sku=sku).update(on_hand=10)
            channel_stock_reallocate(sku_ids=[sku.pk])
            counted.set()
            started.wait(10)
            time.sleep(1.0)  # the full run is under way meanwhile

    def full_run() -> None:
        counted.wait(10)
        started.set()
        channel_stock_reallocate()

    assert run_threads([count, full_run]) == []
    quotas = dict(ChannelStock.objects.filter(sku=sku).values_list("channel_id", "quota"))
    assert quotas == {tmall.pk: 7, jd.pk: 3}
    assert channel_stock_reallocate(set_based=False).rows_changed == 0
