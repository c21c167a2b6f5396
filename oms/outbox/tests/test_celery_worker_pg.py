"""A real Celery worker (a separate process) against Redis delivers what the outbox publishes, and
killing it mid-delivery loses nothing.

The worker is its own process with its own database connection, so these run on PostgreSQL (the
SQLite test database lives in this process's memory). CI starts Redis; without it they fail, not skip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from config.celery import app
from oms.outbox.models import MessageState, OutboxMessage
from oms.outbox.services import outbox_publish
from oms.outbox.tasks import relay
from oms.testing.outbox import Receiver

pytestmark = pytest.mark.postgres

BROKER_URL = os.environ.get("OMS_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(settings.BASE_DIR)
HTTP_TIMEOUT_S = 5  # the worker's lease is then (1 row + 1) x 5 s = 10 s; the kill comes well before the timeout


@pytest.fixture
def broker_queue() -> Iterator[str]:
    """Route this process's task messages to Redis, on a queue of its own, instead of running them eagerly."""
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is needed at {BROKER_URL} for the Celery worker tests: {exc}")
    queue = f"oms-test-{uuid.uuid4().hex[:8]}"
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "task_default_queue")}
    app.conf.update(broker_url=BROKER_URL, task_always_eager=False, task_default_queue=queue)
    _forget_connections()
    yield queue
    app.conf.update(saved)
    _forget_connections()
    # The killed worker's unacknowledged message would be restored to this queue in an hour; drop it now.
    client.delete(queue, "unacked", "unacked_index", "unacked_mutex")


def _forget_connections() -> None:
    """Drop the app's cached broker connections and routing, so a changed configuration takes effect."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    for cached in ("queues", "router"):
        app.amqp.__dict__.pop(cached, None)


@pytest.fixture
def start_worker(broker_queue: str) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    workers: list[subprocess.Popen[bytes]] = []
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )

    def start() -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": BROKER_URL,
            "CELERY_TASK_DEFAULT_QUEUE": broker_queue,
            "OMS_OUTBOX_HTTP_TIMEOUT_S": str(HTTP_TIMEOUT_S),
            "OMS_OUTBOX_LEASE_S": "1",
        }
        argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-Q", broker_queue]
        argv += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
        worker = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(5)


def _publish() -> str:
    with transaction.atomic():
        return outbox_publish(topic="order.shipped", aggregate=("orders.order", 7), payload={"number": "SO7"})


def _wait(predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _state(event_id: str) -> Any:
    return OutboxMessage.objects.get(event_id=event_id)


def test_a_worker_delivers_what_was_published_after_commit(
    transactional_db: Any, make_endpoint: Any, receiver: Receiver, start_worker: Any
) -> None:
    make_endpoint()
    start_worker()
    event_id = _publish()  # the commit sends outbox.relay to Redis; the worker process runs it

    assert _wait(lambda: _state(event_id).state == MessageState.DELIVERED), _state(event_id).last_error
    assert list(receiver.processed) == [event_id]
    assert _state(event_id).attempts == 1


def test_killing_the_worker_mid_delivery_loses_nothing(
    transactional_db: Any, make_endpoint: Any, receiver: Receiver, start_worker: Any
) -> None:
    make_endpoint()
    receiver.script = ["hang"]  # the first delivery reaches the receiver and never gets its answer
    first = start_worker()
    event_id = _publish()

    assert receiver.wait_for(receiver.arrived.is_set, timeout=60), "the worker never delivered"
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    receiver.release.set()
    row = _state(event_id)
    assert (row.state, row.attempts) == (MessageState.DELIVERING, 1)  # the claim outlives its worker
    assert row.next_attempt_at > timezone.now()

    # A second worker's periodic run takes the row over once the dead worker's lease has run out.
    start_worker()
    assert _wait(lambda: timezone.now() > row.next_attempt_at + timedelta(milliseconds=100), timeout=30)
    relay.delay()
    assert _wait(lambda: _state(event_id).state == MessageState.DELIVERED), _state(event_id).last_error

    assert receiver.received == [event_id, event_id]  # at least once: the receiver saw it twice
    assert list(receiver.processed) == [event_id]  # and applied it once, deduping on the event id
    assert _state(event_id).attempts == 2
