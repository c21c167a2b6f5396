"""Relays in real threads on PostgreSQL: SKIP LOCKED hands each row to exactly one of them."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from oms.outbox.models import MessageState, OutboxMessage
from oms.outbox.relay import outbox_relay
from oms.outbox.services import outbox_publish
from oms.testing.outbox import Receiver

pytestmark = pytest.mark.postgres


def test_two_relays_never_deliver_the_same_row(
    transactional_db: Any, make_endpoint: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_endpoint()
    # Leave the rows to the two relays below instead of delivering them in process on commit.
    monkeypatch.setattr("oms.outbox.services._schedule_relay", lambda event_ids: None)
    with transaction.atomic():
        event_ids = [
            outbox_publish(topic="order.shipped", aggregate=("orders.order", n), payload={"n": n}) for n in range(40)
        ]
    receiver.slow_s = 0.02  # long enough that the two relays' batches overlap in time
    receiver.script = ["slow"] * len(event_ids)
    delivered_by: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def relay(name: str) -> None:
        try:
            start.wait()
            while True:
                result = outbox_relay(limit=3)
                delivered_by[name] += result.delivered
                if result.claimed == 0:
                    return
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=relay, args=(name,)) for name in delivered_by]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert delivered_by["a"] and delivered_by["b"], "both relays should have had a share of the work"
    assert not set(delivered_by["a"]) & set(delivered_by["b"])
    assert receiver.overlaps == []
    assert sorted(receiver.received) == sorted(event_ids)  # each exactly once
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {MessageState.DELIVERED}
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
