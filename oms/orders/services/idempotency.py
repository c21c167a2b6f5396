"""The Idempotency-Key header, as Stripe does it: the first response to a key is stored and replayed.

A retry with the same key and body gets the stored answer; the same key with a different body is
refused; a retry while the first request is still running is a 409, so the client backs off.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from oms.core.errors import Conflict, ValidationFailed
from oms.orders.models import IdempotencyKey

KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def idempotency_begin(
    *, operator: Any, key: str, method: str, path: str, fingerprint: str
) -> IdempotencyKey | StoredResponse:
    """Claim the key (committed at once, outside any request transaction, so concurrent duplicates see
    it), or return the stored response of the request that claimed it first."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} characters.", code="bad_idempotency_key")
    IdempotencyKey.objects.filter(operator=operator, key=key, created_at__lt=timezone.now() - KEY_TTL).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                operator=operator, key=key, method=method, path=path, request_fingerprint=fingerprint
            )
    except IntegrityError:
        pass
    existing = IdempotencyKey.objects.filter(operator=operator, key=key).first()
    if existing is None:  # expired and removed between the two statements: the caller may retry
        raise Conflict("This Idempotency-Key is being reset; retry the request.", code="idempotency_key_in_use")
    if existing.request_fingerprint != fingerprint:
        raise ValidationFailed(
            "This Idempotency-Key was used with a different request; use a new key for a new request.",
            code="idempotency_key_reused",
            extra={"first_used_for": f"{existing.method} {existing.path}"},
        )
    if existing.response_status is None:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            code="idempotency_key_in_use",
        )
    return StoredResponse(existing.response_status, existing.response_body)


def idempotency_finish(*, record: IdempotencyKey, status: int, body: Any) -> None:
    """Store the answer. A server error is not stored: the key is freed so the client can retry."""
    if status >= 500:
        IdempotencyKey.objects.filter(pk=record.pk).delete()
        return
    IdempotencyKey.objects.filter(pk=record.pk).update(
        response_status=status, response_body=body, completed_at=timezone.now()
    )
