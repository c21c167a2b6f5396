"""Row-lock querysets for the outbox."""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from oms.outbox.models import MessageState, OutboxMessage


def outbox_due_lock(*, now: datetime, limit: int, event_ids: list[str] | None = None) -> list[OutboxMessage]:
    """Lock up to ``limit`` due rows (pending, or delivering with an expired lease), oldest first.

    Must run inside a transaction. On PostgreSQL rows another relay holds are skipped
    (FOR UPDATE SKIP LOCKED), so relays share the work without waiting or double-delivering. SQLite
    has no row locks; there the IMMEDIATE transaction already serialises claimers.
    """
    qs = OutboxMessage.objects.filter(
        state__in=[MessageState.PENDING, MessageState.DELIVERING], next_attempt_at__lte=now
    ).order_by("id")
    if event_ids is not None:
        qs = qs.filter(event_id__in=event_ids)
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(qs.select_related("endpoint")[:limit])


def outbox_message_lock(*, pk: int) -> OutboxMessage:
    """Lock one message (waits for a relay that holds it). Raises DoesNotExist."""
    return OutboxMessage.objects.select_for_update(of=("self",)).get(pk=pk)
