"""The periodic full re-allocation: catches stock that moved without a document, writes only what changes."""

from __future__ import annotations

import pytest
from django.conf import settings

from oms.channels.models import AllocationRule, ChannelStock
from oms.inventory.tests.factories import make_channel, make_sku, make_warehouse, put_stock

pytestmark = pytest.mark.django_db


def test_reallocate_task_is_scheduled_and_writes_only_changes():
    from config.celery import app
    from oms.channels.tasks import reallocate

    assert settings.CELERY_BEAT_SCHEDULE["channels-reallocate"]["task"] == "channels.reallocate"
    assert app.tasks["channels.reallocate"].name == reallocate.name
    wh = make_warehouse()
    ch = make_channel(warehouses=[wh])
    AllocationRule.objects.create(channel=ch, ratio_bp=5000)
    sku = make_sku()
    put_stock(wh, sku, 10)  # on the shelf without a document: no quota yet
    assert not ChannelStock.objects.filter(channel=ch, sku=sku, quota__gt=0).exists()
    first = reallocate.apply().get()
    assert first["rows_changed"] >= 1 and first["over_committed"] == 0
    assert ChannelStock.objects.get(channel=ch, sku=sku).quota == 5
    assert reallocate.apply().get()["rows_changed"] == 0


def test_full_stock_push_is_scheduled_hourly_and_runs():
    from oms.channels.tasks import stock_push

    entry = settings.CELERY_BEAT_SCHEDULE["channels-stock-push-full"]
    assert entry["task"] == "channels.stock_push" and entry["kwargs"] == {"full": True}
    assert entry["schedule"] == 3600
    wh = make_warehouse()
    make_channel(warehouses=[wh])
    assert isinstance(stock_push.apply(kwargs={"full": True}).get(), dict)
