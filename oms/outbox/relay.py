"""The relay: claims due outbox rows under a lease, posts them outside any transaction, then records the
outcome only if it still owns the claim (see `oms.outbox.services` for publishing). The Celery task and
the `outbox_relay` command run it."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oms.outbox.delivery import DeliveryOutcome, http_post
from oms.outbox.domain.backoff import Backoff
from oms.outbox.domain.envelope import Event, envelope_body
from oms.outbox.domain.signing import signature_headers
from oms.outbox.lock_objects import outbox_due_lock
from oms.outbox.models import MessageState, OutboxMessage

logger = logging.getLogger("oms.outbox")


def _config() -> dict[str, Any]:
    return dict(settings.OMS_OUTBOX)


def outbox_backoff() -> Backoff:
    config = _config()
    return Backoff(base_s=config["BACKOFF_BASE_S"], cap_s=config["BACKOFF_CAP_S"], max_attempts=config["MAX_ATTEMPTS"])


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
