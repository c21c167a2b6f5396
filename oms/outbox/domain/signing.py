"""Webhook signatures: HMAC-SHA256 over ``timestamp + "." + body``.

Outgoing webhooks carry three headers::

    X-OMS-Event-Id:  the event's UUID (receivers dedupe on it)
    X-OMS-Timestamp: Unix seconds when this attempt was signed
    X-OMS-Signature: v1=<hex digest>[,v1=<hex digest>...]

Signing the timestamp with the body lets a receiver refuse a captured request replayed later
(outside the tolerance window); inside the window the event id makes a replay a harmless duplicate.
Several ``v1=`` values are accepted so a secret can be rotated without downtime. The same check
verifies signed callbacks coming in (e.g. from a warehouse system).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from oms.core.errors import ApplicationError

SIGNATURE_VERSION = "v1"
HEADER_EVENT_ID = "X-OMS-Event-Id"
HEADER_TIMESTAMP = "X-OMS-Timestamp"
HEADER_SIGNATURE = "X-OMS-Signature"
DEFAULT_TOLERANCE_S = 300


@dataclass
class SignatureInvalid(ApplicationError):
    """A signed request that is missing its headers, tampered with, or outside the time window."""

    code: str = "invalid_signature"
    status: ClassVar[int] = 401


@dataclass(frozen=True)
class VerifiedRequest:
    event_id: str
    timestamp: int


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_headers(*, secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        HEADER_EVENT_ID: event_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: f"{SIGNATURE_VERSION}={compute_signature(secret, timestamp, body)}",
    }


def verify_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    *,
    now: float,
) -> VerifiedRequest:
    """Check a signed request; raise ``SignatureInvalid`` unless the signature matches and the
    timestamp is within ``tolerance_s`` of ``now`` (Unix seconds), either side."""
    lowered = {key.lower(): value for key, value in headers.items()}
    raw_timestamp = lowered.get(HEADER_TIMESTAMP.lower(), "").strip()
    raw_signature = lowered.get(HEADER_SIGNATURE.lower(), "").strip()
    if not raw_timestamp or not raw_signature:
        raise SignatureInvalid("The request is not signed.", code="signature_missing")
    # Unix seconds in ASCII digits; anything longer than 12 digits is no time this side of the year 33658.
    if not (raw_timestamp.isascii() and raw_timestamp.isdigit() and len(raw_timestamp) <= 12):
        raise SignatureInvalid("The signature timestamp is not a number of Unix seconds.")
    timestamp = int(raw_timestamp)
    if abs(now - timestamp) > tolerance_s:
        raise SignatureInvalid("The signature timestamp is too old or in the future.", code="signature_stale")
    expected = compute_signature(secret, timestamp, body)
    offered = [
        part.split("=", 1)[1].strip()
        for part in raw_signature.split(",")
        if part.strip().startswith(f"{SIGNATURE_VERSION}=")
    ]
    # compare_digest on every candidate: the time taken does not reveal how much of a guess matched.
    if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
        raise SignatureInvalid("The signature does not match the body.")
    return VerifiedRequest(event_id=lowered.get(HEADER_EVENT_ID.lower(), ""), timestamp=timestamp)
