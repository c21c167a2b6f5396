"""Pushing available-to-sell figures to the platforms (可用库存回传) through the outbox.

A push reads a channel's change log past its cursor, keeps the SKUs (and the bundles made of them) whose
figure differs from what the platform was last sent, and writes one outbox event per batch of at most
``PUSH_BATCH`` SKUs, in the same transaction that records the figures sent and advances the cursor. The relay
then delivers the events at least once (receivers dedupe on the event id). A SKU is never pushed twice for
the same figure; it is pushed again when its figure changes again.

Why the cursor lags: change-log ids are taken when a row is inserted, not when its transaction commits, so
a run may see id 101 while id 100 is still uncommitted. The cursor therefore only moves past changes older
than ``SETTLE`` (the longest a stock transaction is expected to stay open); newer ones are read again next
run and skipped if their figure was already sent. ``full=True`` compares every SKU of the channel instead.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from oms.audit.services import audit_record
from oms.catalog.models import BundleComponent, Sku
from oms.channels import actions
from oms.channels.models import (
    AvailabilityChange,
    Channel,
    ChannelStock,
    Classification,
    PlatformStockFigure,
    StockPushCursor,
)
from oms.core.actors import SYSTEM, Actor
from oms.inventory.domain.reservation import bundle_units
from oms.outbox.selectors import outbox_has_subscriber
from oms.outbox.services import outbox_publish

PUSH_BATCH = 500
SETTLE = dt.timedelta(seconds=120)
_IN_CHUNK = 5000  # ids per IN (...) list: under SQLite's variable limit, cheap on PostgreSQL


def stock_push_topic(channel: Channel) -> str:
    """Same family as the tracking write-back (``platform.tracking.<platform>``): a platform adapter
    subscribes to ``platform.*`` or to its own topics."""
    return f"platform.stock.{channel.platform}"


@dataclass(frozen=True)
class PushItem:
    sku_id: int
    sku_code: str
    quantity: int
    available: int


@dataclass
class PushPlan:
    items: list[PushItem]
    new_cursor: int


@dataclass
class ChannelPushResult:
    channel: str
    skus: int = 0
    event_ids: list[str] = field(default_factory=list)
    cursor: int = 0
    skipped: str = ""  # why nothing was written: "no_subscriber"


def _chunks(ids: list[int], size: int = _IN_CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _changed_skus(channel: Channel, cursor: int, *, now: dt.datetime) -> tuple[set[int], int]:
    """SKUs with a change-log row past ``cursor``, and how far the cursor may move: past every change
    older than the settle window, never past one newer than it."""
    since = AvailabilityChange.objects.filter(channel=channel, id__gt=cursor)
    settled_before = now - SETTLE
    bounds = since.aggregate(top=Max("id"), first_unsettled=Min("id", filter=Q(created_at__gt=settled_before)))
    if bounds["top"] is None:
        return set(), cursor
    new_cursor = bounds["top"] if bounds["first_unsettled"] is None else bounds["first_unsettled"] - 1
    skus = set(since.order_by().values_list("sku_id", flat=True).distinct())
    return skus, max(new_cursor, cursor)


def _figures(channel: Channel, sku_ids: set[int] | None) -> dict[int, tuple[int, int]]:
    """sku id → (pushed figure, available) for these SKUs (all of the channel when None), plus every active
    bundle with a component among them, derived as the feed derives it."""
    rows = ChannelStock.objects.filter(channel=channel)
    stock: dict[int, tuple[int, int]] = {}
    if sku_ids is None:
        stock = {s: (p, a) for s, p, a in _stock_values(rows)}
    else:
        for part in _chunks(sorted(sku_ids)):
            stock.update({s: (p, a) for s, p, a in _stock_values(rows.filter(sku_id__in=part))})
    recipes = BundleComponent.objects.filter(bundle__is_active=True)
    if sku_ids is not None:
        bundle_ids: set[int] = set()
        for part in _chunks(sorted(sku_ids)):
            bundle_ids.update(recipes.filter(component_id__in=part).values_list("bundle_id", flat=True))
        recipes = recipes.filter(bundle_id__in=bundle_ids)
    parts: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for bundle_id, component_id, quantity in recipes.values_list("bundle_id", "component_id", "quantity"):
        parts[bundle_id].append((component_id, quantity))
    missing = {c for recipe in parts.values() for c, _q in recipe} - stock.keys()
    if missing:
        stock.update({s: (p, a) for s, p, a in _stock_values(rows.filter(sku_id__in=missing))})
    out = {s: v for s, v in stock.items() if sku_ids is None or s in sku_ids}
    for bundle_id, recipe in parts.items():
        pushed = bundle_units({c: v[0] for c, v in stock.items()}, recipe)
        available = bundle_units({c: v[1] for c, v in stock.items()}, recipe)
        out[bundle_id] = (pushed, available)
    return out


def _stock_values(rows: Any) -> Iterable[tuple[int, int, int]]:
    for sku_id, pushed, quota, sales, ret in rows.values_list(
        "sku_id", "pushed", "quota", "sales_reserved", "return_reserved"
    ):
        yield sku_id, pushed, quota - sales - ret


def stock_push_plan(*, channel: Channel, cursor: int, full: bool = False, now: dt.datetime | None = None) -> PushPlan:
    """What a push of ``channel`` would send now: SKUs whose figure differs from the one last sent,
    ordered by SKU code. Read-only (the console shows its size as the pending changes)."""
    now = now or timezone.now()
    if full:
        top = AvailabilityChange.objects.filter(channel=channel, created_at__lte=now - SETTLE).aggregate(m=Max("id"))
        candidates, new_cursor = None, max(top["m"] or 0, cursor)
    else:
        changed, new_cursor = _changed_skus(channel, cursor, now=now)
        if not changed:
            return PushPlan([], new_cursor)
        candidates = changed
    figures = _figures(channel, candidates)
    sent: dict[int, int] = {}
    sent_rows = PlatformStockFigure.objects.filter(channel=channel)
    for part in _chunks(sorted(figures)):
        sent.update(sent_rows.filter(sku_id__in=part).values_list("sku_id", "quantity"))
    due = [s for s, (pushed, _a) in figures.items() if sent.get(s) != pushed]
    codes: dict[int, str] = {}
    for part in _chunks(sorted(due)):
        codes.update(Sku.objects.filter(id__in=part).values_list("id", "code"))
    items = [PushItem(s, codes[s], figures[s][0], figures[s][1]) for s in due if s in codes]
    items.sort(key=lambda i: i.sku_code)
    return PushPlan(items, new_cursor)


def _cursor_for_update(channel: Channel) -> StockPushCursor:
    StockPushCursor.objects.get_or_create(channel=channel)
    return StockPushCursor.objects.select_for_update().get(channel=channel)


@transaction.atomic(durable=True)
def channel_stock_push(*, channel: Channel, actor: Actor = SYSTEM, full: bool = False) -> ChannelPushResult:
    """Push one channel's changed figures: outbox events, figures sent and the cursor in one transaction.

    Holds the channel's cursor row lock for the transaction, so two pushes of one channel run one after the
    other and the second finds nothing left to send. A channel whose topic no endpoint subscribes to is
    skipped without moving its cursor, so nothing is marked sent that nobody could receive."""
    result = ChannelPushResult(channel=channel.code)
    topic = stock_push_topic(channel)
    if not outbox_has_subscriber(topic):
        result.skipped = "no_subscriber"
        return result
    cursor = _cursor_for_update(channel)
    now = timezone.now()
    plan = stock_push_plan(channel=channel, cursor=cursor.last_change_id, full=full, now=now)
    sent: list[PlatformStockFigure] = []
    batches = [plan.items[i : i + PUSH_BATCH] for i in range(0, len(plan.items), PUSH_BATCH)]
    for number, batch in enumerate(batches, start=1):
        event_id = outbox_publish(
            topic=topic,
            aggregate=channel,
            payload={
                "channel": channel.code,
                "platform": channel.platform,
                "batch": number,
                "batches": len(batches),
                "items": [{"sku": i.sku_code, "quantity": i.quantity, "available": i.available} for i in batch],
            },
        )
        result.event_ids.append(event_id)
        sent += [
            PlatformStockFigure(
                channel=channel, sku_id=i.sku_id, quantity=i.quantity, event_id=uuid.UUID(event_id), sent_at=now
            )
            for i in batch
        ]
    if sent:
        PlatformStockFigure.objects.bulk_create(
            sent,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["channel", "sku"],
            update_fields=["quantity", "event_id", "sent_at"],
        )
    before = {"cursor": cursor.last_change_id}
    cursor.last_change_id = plan.new_cursor
    cursor.pushed_at = now
    cursor.last_skus = len(plan.items)
    cursor.last_events = len(batches)
    cursor.save()
    result.skus, result.cursor = len(plan.items), plan.new_cursor
    if plan.items or actor != "system":
        audit_record(
            actor=actor,
            action=actions.CHANNELS_STOCK_PUSH,
            obj=channel,
            before=before,
            after={"cursor": plan.new_cursor, "skus": len(plan.items), "events": len(batches)},
        )
    return result


def stock_push_all(
    *, actor: Actor = SYSTEM, channel_codes: list[str] | None = None, full: bool = False
) -> list[ChannelPushResult]:
    """Push every active online channel (or the named ones), one transaction per channel."""
    channels = Channel.objects.filter(is_active=True, classification=Classification.ONLINE).order_by("code")
    if channel_codes:
        channels = channels.filter(code__in=channel_codes)
    return [channel_stock_push(channel=channel, actor=actor, full=full) for channel in channels]
