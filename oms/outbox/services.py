"""The outbox: publishing events with the change that caused them, relaying them, retrying dead letters.

Publishing writes rows in the caller's transaction, so an event exists exactly when its change
committed. The relay delivers them at least once: it claims due rows (marking them ``delivering``
with a lease), posts outside any transaction, then records the outcome only if it still owns the
claim. A relay that dies leaves its rows to be claimed again when the lease runs out, so a receiver
may see an event twice and must dedupe on the event id.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.actors import Actor
from oms.core.errors import Conflict
from oms.outbox import actions
from oms.outbox.delivery import DeliveryOutcome, http_post
from oms.outbox.domain.backoff import Backoff
from oms.outbox.domain.envelope import Event, envelope_body, topic_matches
from oms.outbox.domain.signing import signature_headers
from oms.outbox.lock_objects import outbox_due_lock, outbox_message_lock
from oms.outbox.models import MessageState, OutboxMessage, WebhookEndpoint

logger = logging.getLogger("oms.outbox")


class OutboxOutsideTransaction(RuntimeError):
    pass


def _config() -> dict[str, Any]:
    return dict(settings.OMS_OUTBOX)


def outbox_backoff() -> Backoff:
    config = _config()
    return Backoff(base_s=config["BACKOFF_BASE_S"], cap_s=config["BACKOFF_CAP_S"], max_attempts=config["MAX_ATTEMPTS"])


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


@dataclass
class RelayResult:
    claimed: int = 0
    delivered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)


def _claim(*, now: datetime, limit: int, event_ids: list[str] | None) -> tuple[list[OutboxMessage], list[int]]:
    """Claim due rows for this relay in one short transaction; rows whose lease ran out after the
    last allowed attempt are dead-lettered instead (a message that keeps killing workers stops)."""
    config = _config()
    backoff = outbox_backoff()
    claimed: list[OutboxMessage] = []
    dead: list[int] = []
    with transaction.atomic():
        rows = outbox_due_lock(now=now, limit=limit, event_ids=event_ids)
        # The lease must outlast delivering the whole batch, one HTTP timeout per row plus one spare.
        lease = timedelta(seconds=max(config["LEASE_S"], config["HTTP_TIMEOUT_S"] * (len(rows) + 1)))
        for row in rows:
            if row.state == MessageState.DELIVERING and backoff.exhausted(row.attempts):
                row.state = MessageState.DEAD
                row.last_error = f"relay lost during attempt {row.attempts} (lease expired); no attempts left"
                row.save(update_fields=["state", "last_error"])
                dead.append(row.pk)
                continue
            row.state = MessageState.DELIVERING
            row.attempts += 1
            row.next_attempt_at = now + lease
            row.save(update_fields=["state", "attempts", "next_attempt_at"])
            claimed.append(row)
    return claimed, dead


def _deliver(row: OutboxMessage, *, timeout_s: float) -> DeliveryOutcome:
    event = Event(
        event_id=str(row.event_id),
        topic=row.topic,
        occurred_at=row.created_at.isoformat(),
        aggregate_type=row.aggregate_type,
        aggregate_id=row.aggregate_id,
        data=row.payload,
    )
    body = envelope_body(event)
    headers = signature_headers(
        secret=row.endpoint.secret, event_id=event.event_id, timestamp=int(time.time()), body=body
    )
    headers["X-OMS-Topic"] = row.topic
    headers["X-OMS-Attempt"] = str(row.attempts)
    return http_post(url=row.endpoint.url, body=body, headers=headers, timeout_s=timeout_s)


def _record(row: OutboxMessage, outcome: DeliveryOutcome, result: RelayResult) -> None:
    """Store the outcome, fenced on (state, attempts): if our lease ran out and another relay
    re-claimed the row, that relay owns it now and this outcome is dropped."""
    now = timezone.now()
    owned = OutboxMessage.objects.filter(pk=row.pk, state=MessageState.DELIVERING, attempts=row.attempts)
    if outcome.ok:
        if owned.update(
            state=MessageState.DELIVERED, delivered_at=now, last_status_code=outcome.status_code, last_error=""
        ):
            result.delivered.append(row.pk)
        return
    backoff = outbox_backoff()
    if backoff.exhausted(row.attempts):
        if owned.update(state=MessageState.DEAD, last_status_code=outcome.status_code, last_error=outcome.error):
            result.dead.append(row.pk)
            logger.warning("Outbox message %s is dead after %s attempts: %s", row.pk, row.attempts, outcome.error)
        return
    retry_at = now + timedelta(seconds=backoff.delay_s(row.attempts, random.random()))
    if owned.update(
        state=MessageState.PENDING,
        next_attempt_at=retry_at,
        last_status_code=outcome.status_code,
        last_error=outcome.error[:2000],
    ):
        result.retrying.append(row.pk)


def outbox_relay(*, limit: int | None = None, event_ids: list[str] | None = None) -> RelayResult:
    """Deliver one batch of due messages (only those of ``event_ids`` when given). Safe to run in
    many processes at once and to repeat: a row is claimed by one relay at a time."""
    config = _config()
    result = RelayResult()
    claimed, result.dead = _claim(now=timezone.now(), limit=limit or config["BATCH_SIZE"], event_ids=event_ids)
    result.claimed = len(claimed)
    for row in claimed:
        outcome = _deliver(row, timeout_s=config["HTTP_TIMEOUT_S"])
        _record(row, outcome, result)
    return result


def outbox_relay_until_idle(*, max_batches: int = 100) -> RelayResult:
    """Run batches until nothing is due (or ``max_batches``); what the relay loop and eager mode use."""
    total = RelayResult()
    for _ in range(max_batches):
        batch = outbox_relay()
        total.claimed += batch.claimed
        total.delivered += batch.delivered
        total.retrying += batch.retrying
        total.dead += batch.dead
        if batch.claimed == 0 and not batch.dead:
            break
    return total


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
    audit_record(actor=actor, action="webhook_endpoint.ensure", obj=endpoint,
                 after={"url": url, "topics": topics, "secret_set": created})  # fmt: skip
    return endpoint
