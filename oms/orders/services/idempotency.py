"""The Idempotency-Key header, as Stripe does it: the first response to a key is stored and replayed.

A retry with the same key and body gets the stored answer; the same key with a different body is
refused; a retry while the first request is still running is a 409, so the client backs off.

A claim is a lease (``OMS["IDEMPOTENCY_LEASE_S"]``, tens of seconds): the claim is committed before the
work, so a request that dies in between (process killed, database restarted) leaves it without an answer.
Once its lease has run out, a retry takes the claim over and runs the request again. That is safe because
the work is idempotent on its own (intake dedupes on the platform order id): a re-run of an order that was
written answers with that order. Only the latest claimant stores its answer, so a slow first request that
finishes after being taken over changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
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


def lease_seconds() -> float:
    return float(settings.OMS.get("IDEMPOTENCY_LEASE_S", 30))


def idempotency_begin(
    *, operator: Any, key: str, method: str, path: str, fingerprint: str
) -> IdempotencyKey | StoredResponse:
    """Claim the key (committed at once, outside any request transaction, so concurrent duplicates see
    it), take over a claim whose lease ran out, or return the stored response of the request that
    answered first."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} characters.", code="bad_idempotency_key")
    now = timezone.now()
    IdempotencyKey.objects.filter(operator=operator, key=key, created_at__lt=now - KEY_TTL).delete()
    lease_until = now + timedelta(seconds=lease_seconds())
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                operator=operator,
                key=key,
                method=method,
                path=path,
                request_fingerprint=fingerprint,
                lease_until=lease_until,
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
    if existing.response_status is not None:
        return StoredResponse(existing.response_status, existing.response_body)
    taken = _take_over(existing, now=now, lease_until=lease_until)
    if taken is None:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            code="idempotency_key_in_use",
            extra={"retry_after_s": _seconds_left(existing, now)},
        )
    return taken


def _take_over(existing: IdempotencyKey, *, now: datetime, lease_until: datetime) -> IdempotencyKey | None:
    """Claim a key whose claimant's lease ran out, in one conditional UPDATE: of concurrent retries exactly
    one wins (the others see the new lease). None while the lease holds or when another retry won."""
    expired = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    won = IdempotencyKey.objects.filter(
        expired, pk=existing.pk, attempt=existing.attempt, response_status__isnull=True
    ).update(lease_until=lease_until, attempt=F("attempt") + 1)
    if not won:
        return None
    existing.lease_until = lease_until
    existing.attempt += 1
    return existing


def _seconds_left(record: IdempotencyKey, now: datetime) -> int:
    if record.lease_until is None:
        return 0
    return max(0, int((record.lease_until - now).total_seconds()) + 1)


def idempotency_finish(*, record: IdempotencyKey, status: int, body: Any) -> None:
    """Store the answer, if this request still holds the claim. A server error is not stored: the key is
    freed so the client can retry."""
    mine = IdempotencyKey.objects.filter(pk=record.pk, attempt=record.attempt, response_status__isnull=True)
    if status >= 500:
        mine.delete()
        return
    mine.update(response_status=status, response_body=body, completed_at=timezone.now())
