"""Who is acting and from where, for the operation log. Set per request or per task/command."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_address: str = ""
    channel: str = "system"  # web, api, cli, task, system


_current: ContextVar[RequestContext | None] = ContextVar("oms_request_context", default=None)


def current_context() -> RequestContext:
    ctx = _current.get()
    return ctx if ctx is not None else RequestContext(request_id="", channel="system")


@contextlib.contextmanager
def request_context(*, channel: str, client_address: str = "", request_id: str = "") -> Iterator[RequestContext]:
    ctx = RequestContext(request_id=request_id or uuid.uuid4().hex, client_address=client_address, channel=channel)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
