"""Channel-stock reads for the console."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet, Sum

from oms.catalog.models import Category, Sku
from oms.channels.models import AllocationRule, Channel, Classification, RuleMethod, RuleScope, StockPushCursor
from oms.channels.services.allocation import allocation_preview
from oms.channels.services.push import stock_push_plan, stock_push_topic
from oms.inventory.models import StockItem
from oms.outbox.selectors import outbox_has_subscriber


@dataclass(frozen=True)
class PushStatus:
    channel: Channel
    cursor: int
    pushed_at: dt.datetime | None
    last_skus: int
    pending: int  # SKUs whose figure differs from the one the platform was last sent
    subscribed: bool  # an active webhook endpoint receives the channel's stock topic


def stock_push_status_list() -> list[PushStatus]:
    """Each active online channel's push cursor, last push and pending changes (read-only)."""
    channels = list(Channel.objects.filter(is_active=True, classification=Classification.ONLINE).order_by("code"))
    cursors = {c.channel_id: c for c in StockPushCursor.objects.filter(channel__in=channels)}
    out = []
    for channel in channels:
        cursor = cursors.get(channel.pk)
        last = cursor.last_change_id if cursor else 0
        out.append(
            PushStatus(
                channel=channel,
                cursor=last,
                pushed_at=cursor.pushed_at if cursor else None,
                last_skus=cursor.last_skus if cursor else 0,
                pending=len(stock_push_plan(channel=channel, cursor=last).items),
                subscribed=outbox_has_subscriber(stock_push_topic(channel)),
            )
        )
    return out


def allocation_rule_list() -> QuerySet[AllocationRule]:
    return AllocationRule.objects.select_related("channel", "category", "sku").order_by("channel__code", "priority")


def allocation_rule_get(*, pk: int) -> AllocationRule | None:
    return AllocationRule.objects.select_related("channel", "category", "sku").filter(pk=pk).first()


def allocation_rule_choices() -> dict[str, Any]:
    """What the rule form offers: active channels, categories, scopes and methods."""
    return {
        "channels": Channel.objects.filter(is_active=True).order_by("code"),
        "categories": Category.objects.order_by("code"),
        "scopes": RuleScope.choices,
        "methods": RuleMethod.choices,
    }


def allocation_rule_preview(*, rule: AllocationRule) -> list[dict[str, Any]]:
    """Quotas now and with ``rule`` (unsaved; inactive to preview its removal) for its SKU or the 20 most
    stocked, by channel and SKU code. Reads only."""
    skus = list(
        StockItem.objects.values("sku_id")
        .annotate(n=Sum("on_hand"))
        .order_by("-n")
        .values_list("sku_id", flat=True)[:20]
    )
    if rule.sku_id:
        skus = [rule.sku_id]
    rows = allocation_preview(rule=rule, sku_ids=skus)
    names = dict(Channel.objects.values_list("id", "code"))
    codes = dict(Sku.objects.filter(id__in={r.sku_id for r in rows}).values_list("id", "code"))
    return [
        {
            "sku": codes.get(r.sku_id, r.sku_id),
            "channel": names.get(r.channel_id, r.channel_id),
            "reserved": r.reserved,
            "current": r.current,
            "proposed": r.proposed,
        }
        for r in rows
    ]
