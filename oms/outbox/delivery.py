"""One HTTP POST of a signed webhook. Never raises: every outcome is a ``DeliveryOutcome``."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

USER_AGENT = "OMS-Webhooks/1"


@dataclass(frozen=True)
class DeliveryOutcome:
    ok: bool
    status_code: int | None = None
    error: str = ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would re-send (or drop) a signed body somewhere nobody configured: treat it as a failure.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http_post(*, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> DeliveryOutcome:
    """POST ``body``; any 2xx answer is a delivery, everything else (other status, refused
    connection, timeout) a failure the relay retries."""
    if not url.startswith(("http://", "https://")):
        return DeliveryOutcome(ok=False, error=f"unsupported URL scheme: {url[:40]}")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with _opener.open(request, timeout=timeout_s) as response:
            status = int(response.status)
            ok = 200 <= status < 300
            return DeliveryOutcome(ok=ok, status_code=status, error="" if ok else f"HTTP {status}")
    except urllib.error.HTTPError as exc:
        detail = exc.read(500).decode("utf-8", "replace") if exc.fp is not None else ""
        return DeliveryOutcome(ok=False, status_code=exc.code, error=f"HTTP {exc.code}: {detail}".strip())
    except TimeoutError:
        return DeliveryOutcome(ok=False, error=f"timed out after {timeout_s:g}s")
    except urllib.error.URLError as exc:
        return DeliveryOutcome(ok=False, error=f"connection failed: {exc.reason}")
    except (OSError, ValueError) as exc:
        return DeliveryOutcome(ok=False, error=f"{type(exc).__name__}: {exc}")
