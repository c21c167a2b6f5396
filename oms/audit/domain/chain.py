"""The operation log's hash chain (tamper evidence, P3/P6): pure functions, the one definition of what a
row's hash covers.

Every row gets ``content_hash``, a SHA-256 over its content in a canonical form (`content_digest`), when it
is written. When its transaction commits it is linked into one chain: it gets the next ``seq`` and
``row_hash = SHA-256("<seq>|<previous row_hash>|<content_hash>")`` (`link_hash`), and the chain head (last
seq and hash) moves on. Changing a row's content breaks its content hash; removing a row leaves a gap in
seq; inserting one, or re-computing hashes after a change, breaks every link after it or the head; a row
whose ``at`` is far before the moment it was linked was back-dated.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
# What a row's content hash covers, in this order.
CONTENT_FIELDS = (
    "at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "reason",
    "request_id",
    "client_address",
    "via",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def content_digest(row: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the row's content: the CONTENT_FIELDS as canonical JSON (sorted keys, no spaces,
    times in UTC to the microsecond)."""
    payload = [_canonical(row.get(name)) for name in CONTENT_FIELDS]
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def link_hash(seq: int, prev_hash: str, content_hash: str) -> str:
    """The row's link in the chain; PostgreSQL's trigger computes exactly this (``sha256(convert_to(...))``)."""
    return hashlib.sha256(f"{seq}|{prev_hash}|{content_hash}".encode()).hexdigest()
