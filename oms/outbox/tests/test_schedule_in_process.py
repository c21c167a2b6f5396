"""Without a broker, `oms serve` runs the periodic schedule in a thread: retries still get delivered."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import transaction

from config.celery import app, run_schedule_in_process
from oms.outbox.models import MessageState, OutboxMessage
from oms.outbox.services import outbox_publish
from oms.testing.outbox import Receiver


def test_the_in_process_schedule_relays_due_messages(
    transactional_db: Any, make_endpoint: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_endpoint()
    monkeypatch.setattr("oms.outbox.services._schedule_relay", lambda event_ids: None)  # as if the first try failed
    monkeypatch.setitem(app.conf, "beat_schedule", {"outbox-relay": {"task": "outbox.relay", "schedule": 0.2}})
    with transaction.atomic():
        event_id = outbox_publish(topic="order.shipped", aggregate=("orders.order", 3), payload={})

    stop = threading.Event()
    thread = threading.Thread(target=run_schedule_in_process, args=(stop,), daemon=True)
    thread.start()
    try:
        assert receiver.wait_for(lambda: event_id in receiver.processed, timeout=20)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert OutboxMessage.objects.get(event_id=event_id).state == MessageState.DELIVERED
