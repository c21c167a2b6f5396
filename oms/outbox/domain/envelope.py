"""The JSON body every webhook carries. Serialised the same way every time, so it can be signed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    event_id: str
    topic: str
    occurred_at: str  # ISO 8601 with offset
    aggregate_type: str
    aggregate_id: str
    data: dict[str, Any]


def envelope_body(event: Event) -> bytes:
    envelope = {
        "id": event.event_id,
        "topic": event.topic,
        "occurred_at": event.occurred_at,
        "aggregate": {"type": event.aggregate_type, "id": event.aggregate_id},
        "data": event.data,
    }
    return json.dumps(envelope, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def topic_matches(pattern: str, topic: str) -> bool:
    """``*`` matches every topic, ``order.*`` every topic under ``order.``, anything else itself."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return topic.startswith(pattern[:-1])
    return pattern == topic
