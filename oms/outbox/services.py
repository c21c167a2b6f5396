"""The outbox: publishing events with the change that caused them, relaying them, retrying dead letters.

Publishing writes rows in the caller's transaction, so an event exists exactly when its change
committed. The relay delivers them at least once: it claims due rows (marking them ``delivering``
with a lease), posts outside any transaction, then records the outcome only if it still owns the
claim. A relay that dies leaves its rows to be claimed again when the lease runs out, so a receiver
may see an event twice and must dedupe on the event id. The relay itself is `oms.outbox.relay`
(its names are importable from here too).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.actors import Actor
from oms.core.errors import Conflict
from oms.outbox import actions
from oms.outbox.domain.envelope import topic_matches
from oms.outbox.lock_objects import outbox_message_lock
from oms.outbox.models import MessageState, OutboxMessage, WebhookEndpoint

logger = logging.getLogger("oms.outbox")


class OutboxOutsideTransaction(RuntimeError):
    pass


def _schedule_relay(event_ids: list[str]) -> None:
    from oms.outbox.tasks import relay

    try:
        relay.delay(event_ids=event_ids)
    except Exception:
        # The rows are committed; the periodic relay delivers them even if the broker is down now.
        logger.warning("Could not schedule the outbox relay; the periodic run will deliver", exc_info=True)


def outbox_publish(*, topic: str, aggregate: models.Model | tuple[str, str | int], payload: dict[str, Any]) -> str:
    """Record an event for every active endpoint subscribed to ``topic``; returns the event id.

    Must be called inside the transaction of the change it announces. Delivery is scheduled for
    after the commit (never from inside the transaction), and nothing is sent if it rolls back.
    """
    if not transaction.get_connection().in_atomic_block:
        raise OutboxOutsideTransaction("outbox_publish must be called inside the transaction of the change")
    if isinstance(aggregate, models.Model):
        aggregate_type, aggregate_id = aggregate._meta.label_lower, str(aggregate.pk)
    else:
        aggregate_type, aggregate_id = aggregate[0], str(aggregate[1])
    event_id = uuid.uuid4()
    now = timezone.now()
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(is_active=True).order_by("id")
        if any(topic_matches(str(pattern), topic) for pattern in endpoint.topics or [])
    ]
    if not endpoints:
        return str(event_id)
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            event_id=event_id,
            topic=topic,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            payload=payload,
            endpoint=endpoint,
            created_at=now,
            next_attempt_at=now,
        )
        for endpoint in endpoints
    )
    transaction.on_commit(lambda: _schedule_relay([str(event_id)]))
    return str(event_id)


@transaction.atomic(durable=True)
def outbox_message_retry(*, message: OutboxMessage, actor: Actor, reason: str = "") -> OutboxMessage:
    """Give a dead-letter message a fresh set of attempts, now. 409 unless it is dead."""
    locked = outbox_message_lock(pk=message.pk)
    if locked.state != MessageState.DEAD:
        raise Conflict(f"Only dead-letter messages can be retried; this one is {locked.state}.", code="not_dead")
    before = {"state": locked.state, "attempts": locked.attempts, "last_error": locked.last_error}
    locked.state = MessageState.PENDING
    locked.attempts = 0
    locked.next_attempt_at = timezone.now()
    locked.save(update_fields=["state", "attempts", "next_attempt_at"])
    audit_record(
        actor=actor,
        action=actions.OUTBOXMESSAGE_RETRY,
        obj=locked,
        before=before,
        after={"state": locked.state, "attempts": 0},
        reason=reason,
    )
    event_id = str(locked.event_id)
    transaction.on_commit(lambda: _schedule_relay([event_id]))
    return locked


@transaction.atomic(savepoint=False)
def webhook_endpoint_ensure(*, name: str, url: str, topics: list[str], actor: Any) -> WebhookEndpoint:
    """Create (with a random secret) or update an endpoint another part of the system manages, e.g. a
    connected shop's write-back receiver. The secret is never logged; only that one was set."""
    endpoint = WebhookEndpoint.objects.select_for_update().filter(name=name).first()
    created = endpoint is None
    if endpoint is None:
        endpoint = WebhookEndpoint(name=name, secret=secrets.token_urlsafe(32))
    endpoint.url, endpoint.topics, endpoint.is_active = url, topics, True
    endpoint.full_clean()
    endpoint.save()
    audit_record(actor=actor, action=actions.WEBHOOK_ENDPOINT_ENSURE, obj=endpoint,
                 after={"url": url, "topics": topics, "secret_set": created})  # fmt: skip
    return endpoint
