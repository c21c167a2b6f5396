"""A real webhook receiver on 127.0.0.1 (random port) in a thread, and endpoints pointing at it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from oms.outbox.domain.signing import SignatureInvalid, verify_signature

SECRET = "test-secret-0123456789abcdef"


@dataclass
class Receiver:
    """Verifies every request like a real consumer and dedupes on the event id.

    ``script`` is a list of behaviours for the next requests, one each: an HTTP status to answer,
    "hang" (hold the request until ``release`` is set), or "slow" (sleep ``slow_s`` then 200).
    When it is empty, requests get 200.
    """

    url: str = ""
    secret: str = SECRET
    script: list[int | str] = field(default_factory=list)
    slow_s: float = 2.0
    received: list[str] = field(default_factory=list)  # every verified request's event id, in order
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id -> body, once
    rejected: list[str] = field(default_factory=list)
    in_flight: set[str] = field(default_factory=set)
    overlaps: list[str] = field(default_factory=list)  # event ids seen twice at the same moment
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                verified = verify_signature(receiver.secret, dict(self.headers.items()), body, now=time.time())
            except SignatureInvalid as exc:
                receiver.rejected.append(exc.code)
                self._answer(401)
                return
            event = json.loads(body)
            assert event["id"] == verified.event_id
            with receiver.lock:
                behaviour = receiver.script.pop(0) if receiver.script else 200
                receiver.received.append(verified.event_id)
                if verified.event_id in receiver.in_flight:
                    receiver.overlaps.append(verified.event_id)
                receiver.in_flight.add(verified.event_id)
            try:
                if behaviour == "hang":
                    receiver.arrived.set()
                    receiver.release.wait(60)
                    return  # close without answering, like a receiver whose sender vanished
                if behaviour == "slow":
                    time.sleep(receiver.slow_s)
                    behaviour = 200
                status = int(behaviour)
                if 200 <= status < 300:
                    with receiver.lock:
                        # The consumer's dedupe: an event it already has is acknowledged, not applied again.
                        receiver.processed.setdefault(verified.event_id, event)
                self._answer(status)
            finally:
                with receiver.lock:
                    receiver.in_flight.discard(verified.event_id)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a sender that gave up (timeout, killed worker) breaks the pipe; that is the point of those tests


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    recv = Receiver()
    server = _QuietServer(("127.0.0.1", 0), _handler(recv))
    recv.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/oms"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield recv
    recv.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_endpoint(db: Any, receiver: Receiver) -> Callable[..., Any]:
    from oms.outbox.models import WebhookEndpoint

    def make(topics: list[str] | None = None, **fields: Any) -> WebhookEndpoint:
        defaults = {"name": f"wms-{WebhookEndpoint.objects.count() + 1}", "url": receiver.url, "secret": SECRET}
        return WebhookEndpoint.objects.create(topics=topics or ["*"], **{**defaults, **fields})

    return make


@pytest.fixture
def fast_outbox(settings: Any) -> dict[str, Any]:
    """Short timeouts and no backoff wait, so retry paths run in milliseconds."""
    settings.OMS_OUTBOX = {
        **settings.OMS_OUTBOX,
        "HTTP_TIMEOUT_S": 0.5,
        "LEASE_S": 60,
        "MAX_ATTEMPTS": 3,
        "BACKOFF_BASE_S": 0.001,
        "BACKOFF_CAP_S": 0.001,
    }
    return dict(settings.OMS_OUTBOX)
