"""The relay against a real HTTP receiver on 127.0.0.1: delivery, retries, dead letters, leases."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from oms.audit.models import OperationLog
from oms.core.errors import Conflict
from oms.outbox.models import MessageState, OutboxMessage
from oms.outbox.relay import RelayResult, outbox_relay, outbox_relay_until_idle
from oms.outbox.services import OutboxOutsideTransaction, outbox_message_retry, outbox_publish
from oms.testing.outbox import Receiver


def _publish(topic: str = "order.shipped", **payload: Any) -> str:
    with transaction.atomic():
        return outbox_publish(topic=topic, aggregate=("orders.order", 42), payload=payload or {"number": "SO42"})


def _relay_until_settled(rounds: int = 10) -> RelayResult:
    """Relay repeatedly, waiting out the (millisecond) backoff between runs."""
    total = RelayResult()
    for _ in range(rounds):
        time.sleep(0.01)
        batch = outbox_relay_until_idle()
        total.delivered += batch.delivered
        total.dead += batch.dead
        if not OutboxMessage.objects.filter(state=MessageState.PENDING).exists():
            break
    return total


def test_publish_fans_out_to_each_subscribed_active_endpoint(make_endpoint: Any) -> None:
    all_events = make_endpoint(["*"])
    orders_only = make_endpoint(["order.*"])
    make_endpoint(["stock.available_changed"])
    make_endpoint(["*"], is_active=False)

    event_id = _publish("order.shipped")

    rows = OutboxMessage.objects.filter(event_id=event_id).order_by("endpoint_id")
    assert [r.endpoint_id for r in rows] == [all_events.pk, orders_only.pk]
    assert {r.state for r in rows} == {MessageState.PENDING}
    assert rows[0].aggregate_type == "orders.order"
    assert rows[0].aggregate_id == "42"


def test_publish_names_a_model_aggregate_by_its_label_and_key(make_endpoint: Any) -> None:
    endpoint = make_endpoint()
    with transaction.atomic():
        event_id = outbox_publish(topic="webhook.tested", aggregate=endpoint, payload={})
    row = OutboxMessage.objects.get(event_id=event_id)
    assert (row.aggregate_type, row.aggregate_id) == ("outbox.webhookendpoint", str(endpoint.pk))


def test_nothing_is_written_when_no_endpoint_subscribes(make_endpoint: Any) -> None:
    make_endpoint(["stock.*"])
    event_id = _publish("order.shipped")
    assert event_id
    assert not OutboxMessage.objects.exists()


def test_publish_outside_a_transaction_is_refused(transactional_db: Any, make_endpoint: Any) -> None:
    make_endpoint()
    with pytest.raises(OutboxOutsideTransaction):
        outbox_publish(topic="order.shipped", aggregate=("orders.order", 1), payload={})


def test_relay_is_scheduled_on_commit_and_not_on_rollback(
    make_endpoint: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    make_endpoint()
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        outbox_publish(topic="order.shipped", aggregate=("orders.order", 1), payload={})
    assert len(callbacks) == 1

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                outbox_publish(topic="order.shipped", aggregate=("orders.order", 2), payload={})
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert OutboxMessage.objects.filter(aggregate_id="2").count() == 0


def test_committed_event_is_delivered_signed_with_no_broker(
    make_endpoint: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    make_endpoint()
    # With no broker the task runs in process, right after the commit.
    with django_capture_on_commit_callbacks(execute=True):
        event_id = _publish(number="SO-1001")

    row = OutboxMessage.objects.get(event_id=event_id)
    assert row.state == MessageState.DELIVERED
    assert row.attempts == 1
    assert row.last_status_code == 200
    assert row.delivered_at is not None
    assert receiver.received == [event_id]
    body = receiver.processed[event_id]
    assert body["topic"] == "order.shipped"
    assert body["data"] == {"number": "SO-1001"}
    assert body["aggregate"] == {"type": "orders.order", "id": "42"}


def test_delivering_twice_is_harmless_the_receiver_dedupes(make_endpoint: Any, receiver: Receiver) -> None:
    make_endpoint()
    event_id = _publish()
    outbox_relay()
    # A second relay run finds nothing due; forcing a redelivery (as a lost lease would) is absorbed.
    assert outbox_relay().claimed == 0
    OutboxMessage.objects.filter(event_id=event_id).update(state=MessageState.PENDING, next_attempt_at=timezone.now())
    outbox_relay()
    assert receiver.received == [event_id, event_id]
    assert list(receiver.processed) == [event_id]


def test_server_errors_are_retried_with_backoff_then_delivered(
    make_endpoint: Any, receiver: Receiver, fast_outbox: dict[str, Any]
) -> None:
    make_endpoint()
    receiver.script = [500, 503]
    event_id = _publish()

    outbox_relay()
    row = OutboxMessage.objects.get(event_id=event_id)
    assert row.state == MessageState.PENDING
    assert row.attempts == 1
    assert row.last_status_code == 500
    assert "HTTP 500" in row.last_error
    assert row.next_attempt_at > row.created_at

    result = _relay_until_settled()
    row.refresh_from_db()
    assert result.delivered == [row.pk]
    assert row.state == MessageState.DELIVERED
    assert row.attempts == 3
    assert list(receiver.processed) == [event_id]


def test_a_retry_waits_for_its_backoff(make_endpoint: Any, receiver: Receiver, settings: Any) -> None:
    settings.OMS_OUTBOX = {**settings.OMS_OUTBOX, "BACKOFF_BASE_S": 60, "BACKOFF_CAP_S": 600}
    make_endpoint()
    receiver.script = [502]
    _publish()
    outbox_relay()
    assert outbox_relay().claimed == 0  # not due for 30-60 s
    row = OutboxMessage.objects.get()
    assert timedelta(seconds=29) < row.next_attempt_at - timezone.now() <= timedelta(seconds=60)


def test_timeouts_and_refused_connections_end_in_the_dead_letters(
    make_endpoint: Any, receiver: Receiver, fast_outbox: dict[str, Any]
) -> None:
    make_endpoint()
    make_endpoint(url="http://127.0.0.1:9/nobody-listens")
    receiver.slow_s = 2.0
    receiver.script = ["slow", "slow", "slow"]
    event_id = _publish()

    result = _relay_until_settled()

    rows = {r.endpoint.url: r for r in OutboxMessage.objects.select_related("endpoint")}
    timed_out, refused = rows[receiver.url], rows["http://127.0.0.1:9/nobody-listens"]
    assert sorted(result.dead) == sorted([timed_out.pk, refused.pk])
    assert timed_out.state == refused.state == MessageState.DEAD
    assert timed_out.attempts == refused.attempts == 3
    assert "timed out" in timed_out.last_error
    assert "connection failed" in refused.last_error
    assert outbox_relay().claimed == 0  # dead letters are left alone
    assert receiver.received == [event_id] * 3


def test_a_relay_that_died_mid_delivery_is_taken_over_after_its_lease(make_endpoint: Any, receiver: Receiver) -> None:
    make_endpoint()
    event_id = _publish()
    # What a crashed relay leaves behind: claimed, attempt counted, lease still running.
    now = timezone.now()
    OutboxMessage.objects.update(state=MessageState.DELIVERING, attempts=1, next_attempt_at=now + timedelta(minutes=5))
    assert outbox_relay().claimed == 0

    OutboxMessage.objects.update(next_attempt_at=now - timedelta(seconds=1))  # the lease ran out
    result = outbox_relay()

    row = OutboxMessage.objects.get()
    assert result.delivered == [row.pk]
    assert row.state == MessageState.DELIVERED
    assert row.attempts == 2
    assert list(receiver.processed) == [event_id]


def test_a_message_that_keeps_killing_relays_is_dead_lettered(
    make_endpoint: Any, receiver: Receiver, fast_outbox: dict[str, Any]
) -> None:
    make_endpoint()
    _publish()
    OutboxMessage.objects.update(
        state=MessageState.DELIVERING, attempts=3, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    result = outbox_relay()
    row = OutboxMessage.objects.get()
    assert result.dead == [row.pk]
    assert row.state == MessageState.DEAD
    assert "lease expired" in row.last_error
    assert receiver.received == []


def test_a_late_outcome_from_a_relay_that_lost_its_lease_is_dropped(make_endpoint: Any, receiver: Receiver) -> None:
    """Fencing: relay A's lease ran out and relay B re-claimed the row; A's answer must not overwrite B's claim."""
    from oms.outbox.delivery import DeliveryOutcome
    from oms.outbox.relay import _claim, _record

    make_endpoint()
    _publish()
    (claim_a,), _ = _claim(now=timezone.now(), limit=10, event_ids=None)
    (claim_b,), _ = _claim(now=timezone.now() + timedelta(hours=1), limit=10, event_ids=None)
    assert claim_b.attempts == 2

    result = RelayResult()
    _record(claim_a, DeliveryOutcome(ok=False, status_code=500, error="HTTP 500"), result)
    assert result.retrying == []
    row = OutboxMessage.objects.get()
    assert (row.state, row.attempts) == (MessageState.DELIVERING, 2)

    _record(claim_b, DeliveryOutcome(ok=True, status_code=200), result)
    row.refresh_from_db()
    assert row.state == MessageState.DELIVERED


def test_retrying_a_dead_letter_is_logged_and_delivers(
    make_endpoint: Any, receiver: Receiver, admin_operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_endpoint()
    event_id = _publish()
    OutboxMessage.objects.update(state=MessageState.DEAD, attempts=10, last_error="HTTP 500")
    row = OutboxMessage.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        outbox_message_retry(message=row, actor=admin_operator, reason="receiver fixed")

    row.refresh_from_db()
    assert row.state == MessageState.DELIVERED
    assert row.attempts == 1
    log = OperationLog.objects.get(action="outboxmessage.retry")
    assert log.actor == admin_operator
    assert log.object_id == str(row.pk)
    assert log.before["state"] == "dead"
    assert log.reason == "receiver fixed"
    assert list(receiver.processed) == [event_id]


def test_only_dead_letters_can_be_retried(make_endpoint: Any, admin_operator: Any) -> None:
    make_endpoint()
    _publish()
    with pytest.raises(Conflict) as info:
        outbox_message_retry(message=OutboxMessage.objects.get(), actor=admin_operator)
    assert info.value.code == "not_dead"
    assert not OperationLog.objects.filter(action="outboxmessage.retry").exists()
