"""Pushing available-to-sell figures to the platforms through the outbox: changed SKUs only, in batches, the
cursor moved in the transaction that writes the events, delivered by the relay to a real receiver."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from oms.channels.models import (
    AllocationRule,
    AvailabilityChange,
    Classification,
    Platform,
    PlatformStockFigure,
    StockPushCursor,
)
from oms.channels.services import push
from oms.channels.services.allocation import channel_stock_reallocate
from oms.channels.services.push import channel_stock_push, stock_push_all, stock_push_plan
from oms.inventory.tests.factories import make_bundle, make_channel, make_sku, make_warehouse, put_stock
from oms.outbox.models import OutboxMessage
from oms.outbox.relay import outbox_relay_until_idle

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    wh = make_warehouse()
    ch = make_channel("TMALL1", warehouses=[wh])
    AllocationRule.objects.create(channel=ch)
    return wh, ch


def _stock(wh, skus_and_units):
    for sku, units in skus_and_units:
        put_stock(wh, sku, units)
    channel_stock_reallocate(sku_ids=[s.pk for s, _u in skus_and_units])


def _items(message):
    return {i["sku"]: i["quantity"] for i in message.payload["items"]}


def _settle_all():
    AvailabilityChange.objects.update(created_at=timezone.now() - dt.timedelta(minutes=10))


def test_only_changed_skus_are_pushed_and_a_rerun_pushes_nothing(shop, make_endpoint):
    wh, ch = shop
    make_endpoint(topics=["platform.stock.*"])
    a, b, c = make_sku("A-1"), make_sku("B-1"), make_sku("C-1")
    _stock(wh, [(a, 5), (b, 7), (c, 9)])

    first = channel_stock_push(channel=ch)
    assert first.skus == 3 and len(first.event_ids) == 1
    message = OutboxMessage.objects.get()
    assert message.topic == "platform.stock.tmall"
    assert message.payload["channel"] == "TMALL1"
    assert _items(message) == {"A-1": 5, "B-1": 7, "C-1": 9}

    again = channel_stock_push(channel=ch)
    assert again.skus == 0 and again.event_ids == []
    assert OutboxMessage.objects.count() == 1

    _stock(wh, [(b, 3)])
    third = channel_stock_push(channel=ch)
    assert third.skus == 1
    assert _items(OutboxMessage.objects.order_by("-id").first()) == {"B-1": 10}
    assert dict(PlatformStockFigure.objects.values_list("sku__code", "quantity")) == {"A-1": 5, "B-1": 10, "C-1": 9}


def test_a_figure_that_changed_and_came_back_is_not_pushed(shop, make_endpoint):
    wh, ch = shop
    make_endpoint(topics=["platform.*"])
    a = make_sku("A-1")
    _stock(wh, [(a, 5)])
    channel_stock_push(channel=ch)
    rule = AllocationRule.objects.get()
    rule.ratio_bp = 5000
    rule.save()
    channel_stock_reallocate(sku_ids=[a.pk])
    rule.ratio_bp = 10_000
    rule.save()
    channel_stock_reallocate(sku_ids=[a.pk])
    assert AvailabilityChange.objects.filter(sku=a).count() == 3
    assert channel_stock_push(channel=ch).skus == 0


def test_batches_hold_at_most_push_batch_skus(shop, make_endpoint, monkeypatch):
    wh, ch = shop
    make_endpoint(topics=["platform.stock.tmall"])
    monkeypatch.setattr(push, "PUSH_BATCH", 2)
    skus = [make_sku(f"S-{i}") for i in range(5)]
    _stock(wh, [(s, 1 + i) for i, s in enumerate(skus)])

    result = channel_stock_push(channel=ch)
    assert result.skus == 5 and len(result.event_ids) == 3
    messages = list(OutboxMessage.objects.order_by("id"))
    assert [len(m.payload["items"]) for m in messages] == [2, 2, 1]
    assert [(m.payload["batch"], m.payload["batches"]) for m in messages] == [(1, 3), (2, 3), (3, 3)]
    assert len({m.event_id for m in messages}) == 3
    pushed = {}
    for m in messages:
        pushed.update(_items(m))
    assert pushed == {f"S-{i}": 1 + i for i in range(5)}


def test_cursor_and_figures_roll_back_with_the_outbox_rows(shop, make_endpoint, monkeypatch):
    wh, ch = shop
    make_endpoint(topics=["platform.stock.*"])
    monkeypatch.setattr(push, "PUSH_BATCH", 1)
    _stock(wh, [(make_sku("A-1"), 1), (make_sku("B-1"), 2)])
    _settle_all()
    calls = {"n": 0}
    real_publish = push.outbox_publish

    def publish_then_fail(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("broken after the first event")
        return real_publish(**kwargs)

    monkeypatch.setattr(push, "outbox_publish", publish_then_fail)
    with pytest.raises(RuntimeError):
        channel_stock_push(channel=ch)
    assert not OutboxMessage.objects.exists()
    assert not PlatformStockFigure.objects.exists()
    assert not StockPushCursor.objects.filter(channel=ch, last_change_id__gt=0).exists()

    monkeypatch.setattr(push, "outbox_publish", real_publish)
    result = channel_stock_push(channel=ch)
    assert result.skus == 2 and OutboxMessage.objects.count() == 2
    cursor = StockPushCursor.objects.get(channel=ch)
    assert cursor.last_change_id == AvailabilityChange.objects.filter(channel=ch).latest("id").pk
    assert cursor.last_skus == 2 and cursor.last_events == 2 and cursor.pushed_at is not None


def test_cursor_waits_for_changes_to_settle(shop, make_endpoint):
    wh, ch = shop
    make_endpoint(topics=["platform.stock.*"])
    a = make_sku("A-1")
    _stock(wh, [(a, 4)])
    channel_stock_push(channel=ch)
    # Fresh changes may still have older uncommitted neighbours: read again next time, but not re-sent.
    first_change = AvailabilityChange.objects.filter(channel=ch).earliest("id").pk
    assert StockPushCursor.objects.get(channel=ch).last_change_id < first_change
    assert channel_stock_push(channel=ch).skus == 0
    _settle_all()
    result = channel_stock_push(channel=ch)
    assert result.skus == 0 and result.cursor == AvailabilityChange.objects.latest("id").pk
    assert stock_push_plan(channel=ch, cursor=result.cursor).items == []


def test_bundles_are_pushed_when_a_component_changes(shop, make_endpoint):
    wh, ch = shop
    make_endpoint(topics=["platform.stock.*"])
    tea, cup = make_sku("TEA"), make_sku("CUP")
    make_bundle([(tea, 2), (cup, 1)], code="GIFT")
    _stock(wh, [(tea, 10), (cup, 3)])
    channel_stock_push(channel=ch)
    assert _items(OutboxMessage.objects.get()) == {"TEA": 10, "CUP": 3, "GIFT": 3}
    _stock(wh, [(cup, 5)])
    channel_stock_push(channel=ch)
    assert _items(OutboxMessage.objects.order_by("-id").first()) == {"CUP": 8, "GIFT": 5}


def test_no_subscriber_keeps_the_changes_for_later_and_offline_channels_are_not_pushed(shop, make_endpoint):
    wh, _ch = shop
    store = make_channel("STORE1", warehouses=[wh])
    store.platform, store.classification = Platform.STORE, Classification.OFFLINE
    store.save()
    AllocationRule.objects.create(channel=store)
    _stock(wh, [(make_sku("A-1"), 4)])
    results = stock_push_all()
    assert [(r.channel, r.skipped) for r in results] == [("TMALL1", "no_subscriber")]
    assert not StockPushCursor.objects.exists()

    make_endpoint(topics=["platform.stock.*"])
    assert [r.skus for r in stock_push_all()] == [1]
    assert OutboxMessage.objects.get().payload["channel"] == "TMALL1"


def test_full_push_compares_every_sku(shop, make_endpoint):
    wh, ch = shop
    make_endpoint(topics=["platform.stock.*"])
    a, b = make_sku("A-1"), make_sku("B-1")
    _stock(wh, [(a, 4), (b, 6)])
    _settle_all()
    channel_stock_push(channel=ch)  # the cursor moves past every change
    PlatformStockFigure.objects.filter(sku=b).update(quantity=99)  # as if the platform had been sent something else
    assert channel_stock_push(channel=ch).skus == 0  # nothing new in the change log
    result = channel_stock_push(channel=ch, full=True)
    assert result.skus == 1
    assert _items(OutboxMessage.objects.order_by("-id").first()) == {"B-1": 6}


def test_relay_delivers_the_push_to_the_platform_receiver(shop, make_endpoint, receiver, fast_outbox):
    wh, ch = shop
    make_endpoint(topics=["platform.stock.tmall"])
    _stock(wh, [(make_sku("A-1"), 5), (make_sku("B-1"), 2)])
    result = channel_stock_push(channel=ch)
    outcome = outbox_relay_until_idle()
    assert len(outcome.delivered) == 1
    assert receiver.wait_for(lambda: len(receiver.processed) == 1)
    body = receiver.processed[result.event_ids[0]]
    assert body["topic"] == "platform.stock.tmall"
    assert {i["sku"]: i["quantity"] for i in body["data"]["items"]} == {"A-1": 5, "B-1": 2}
    # A second push and relay send nothing new.
    channel_stock_push(channel=ch)
    assert outbox_relay_until_idle().claimed == 0
    assert receiver.received == result.event_ids


def test_command_task_and_schedule(shop, make_endpoint):
    from config.celery import app
    from oms.channels.tasks import stock_push

    wh, _ch = shop
    make_endpoint(topics=["platform.stock.*"])
    _stock(wh, [(make_sku("A-1"), 5)])
    out = StringIO()
    call_command("stock_push", stdout=out)
    assert "TMALL1: 1 SKU(s) in 1 event(s)" in out.getvalue()
    assert settings.CELERY_BEAT_SCHEDULE["channels-stock-push"]["task"] == "channels.stock_push"
    assert app.tasks["channels.stock_push"].name == stock_push.name
    assert stock_push.apply().get() == {"TMALL1": {"skus": 0, "events": 0, "skipped": ""}}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_pushes_of_one_channel_send_each_figure_once(make_endpoint):
    import threading

    from django.db import connection

    wh = make_warehouse()
    ch = make_channel("TMALL1", warehouses=[wh])
    AllocationRule.objects.create(channel=ch)
    make_endpoint(topics=["platform.stock.*"])
    _stock(wh, [(make_sku(f"S-{i}"), 1 + i) for i in range(30)])
    start = threading.Barrier(4, timeout=10)
    results, errors = [], []

    def run() -> None:
        try:
            start.wait()
            results.append(channel_stock_push(channel=ch))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(r.skus for r in results) == [0, 0, 0, 30]
    assert OutboxMessage.objects.count() == 1 and len(OutboxMessage.objects.get().payload["items"]) == 30
