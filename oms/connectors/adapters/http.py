"""A small JSON-over-HTTP client on the standard library, turning transport failures into platform errors."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from oms.connectors.adapters.base import AuthExpired, PlatformUnavailable, RateLimited


def _decode(raw: bytes, status: int) -> dict[str, Any]:
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        message = f"The platform answered HTTP {status} with a page that is not JSON."
        raise PlatformUnavailable("error_page", message) from None
    if not isinstance(body, dict):
        raise PlatformUnavailable("error_page", "The platform answered with JSON that is not an object.")
    return body


def call_json(
    url: str,
    *,
    timeout_s: float,
    form: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
) -> dict[str, Any]:
    """POST a form or a JSON body (or GET with neither); the decoded JSON object. Transport failures,
    HTTP 429/401/5xx and non-JSON answers raise the matching `PlatformError`."""
    data: bytes | None = None
    all_headers = {"Accept": "application/json", **(headers or {})}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded;charset=utf-8"
    elif body is not None:
        data = json.dumps(body, ensure_ascii=False).encode()
        all_headers["Content-Type"] = "application/json"
    if not url.startswith(("http://", "https://")):
        raise PlatformUnavailable("bad_address", "The platform address must be http:// or https://.")
    request = urllib.request.Request(url, data=data, headers=all_headers, method=method)  # noqa: S310 - checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - checked above
            return _decode(response.read(), response.status)
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        if exc.code == 429:
            raise RateLimited("http_429", "The platform asked us to slow down (HTTP 429).") from exc
        if exc.code in (401, 403):
            raise AuthExpired("http_unauthorised", f"The platform refused the credentials (HTTP {exc.code}).") from exc
        if exc.code >= 500:
            raise PlatformUnavailable("http_5xx", f"The platform failed (HTTP {exc.code}).") from exc
        return _decode(raw, exc.code)
    except TimeoutError as exc:
        raise PlatformUnavailable("timeout", f"No answer within {timeout_s:g} s.") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            raise PlatformUnavailable("timeout", f"No answer within {timeout_s:g} s.") from exc
        raise PlatformUnavailable("unreachable", f"The platform could not be reached: {exc.reason}.") from exc
    except (ConnectionError, OSError) as exc:
        raise PlatformUnavailable("unreachable", f"The platform could not be reached: {exc}.") from exc
