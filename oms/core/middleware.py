from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from oms.core.context import request_context

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Gives every request an id (kept from X-Request-ID when well formed) and records its address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else ""
        channel = "api" if request.path.startswith("/api/") else "web"
        with request_context(
            channel=channel, client_address=request.META.get("REMOTE_ADDR", ""), request_id=request_id
        ) as ctx:
            response = self.get_response(request)
        response["X-Request-ID"] = ctx.request_id
        return response
