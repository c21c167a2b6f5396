"""抖店 open API signing (sign_method=hmac-sha256): HMAC-SHA256 keyed by the app secret over
secret + app_key… + method… + param_json… + timestamp… + v… + secret, as lower-case hex. Pure."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any


def douyin_param_json(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def douyin_sign(*, app_key: str, secret: str, method: str, param_json: str, timestamp: str) -> str:
    text = f"{secret}app_key{app_key}method{method}param_json{param_json}timestamp{timestamp}v2{secret}"
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
