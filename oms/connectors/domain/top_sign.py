"""TOP request signing (sign_method=md5): MD5 of secret + every parameter as key then value, keys sorted,
+ secret, as upper-case hex. Pure; the adapter signs with it and the simulator checks with it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def top_sign(params: Mapping[str, str], secret: str) -> str:
    joined = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
    return hashlib.md5(f"{secret}{joined}{secret}".encode(), usedforsecurity=False).hexdigest().upper()
