"""Channel-stock reads for the console."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from oms.channels.models import Channel, Classification, StockPushCursor
from oms.channels.services.push import stock_push_plan, stock_push_topic
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
