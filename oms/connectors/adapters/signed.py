"""Shared by the adapters whose platforms sign a flat parameter list (TOP-style MD5 of secret + sorted
key/value pairs + secret): JD and Pinduoduo. Each names its gateway path, parameter names and error codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oms.connectors.adapters.base import AuthExpired, Connection, PlatformError, PlatformUnavailable, RateLimited
from oms.connectors.adapters.http import call_json
from oms.connectors.domain.mapped import CHINA_TZ
from oms.connectors.domain.top_sign import top_sign


def china_time(value: datetime) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def signed_call(
    conn: Connection,
    path: str,
    params: dict[str, str],
    *,
    rate_codes: set[str],
    auth_codes: set[str],
    code_keys: tuple[str, ...] = ("code", "error_code"),
) -> dict[str, Any]:
    """POST the signed form; the decoded body, or the matching PlatformError for an error_response."""
    form = dict(params)
    form["sign"] = top_sign(form, conn.app_secret)
    body = call_json(f"{conn.base_url.rstrip('/')}{path}", form=form, timeout_s=conn.timeout_s)
    error = body.get("error_response")
    if isinstance(error, dict):
        code = next((str(error[k]) for k in code_keys if k in error), "")
        message = str(error.get("error_msg") or error.get("zh_desc") or error.get("msg") or "platform error")
        if code in rate_codes:
            raise RateLimited(f"{path.strip('/')}_{code}", message)
        if code in auth_codes:
            raise AuthExpired(f"{path.strip('/')}_{code}", message)
        raise PlatformError(f"{path.strip('/')}_{code}", message)
    return body


def answer_of(body: dict[str, Any], key: str) -> dict[str, Any]:
    answer = body.get(key)
    if not isinstance(answer, dict):
        raise PlatformUnavailable("bad_response", f"The answer has no {key}.")
    return answer
