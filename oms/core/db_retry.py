"""Re-running a whole transaction that PostgreSQL rolled back to break a deadlock or a serialization conflict.

Stock services lock rows in one global order (``oms.inventory.lock_objects``), but a transaction that makes
several stock calls can still take its locks out of order with a concurrent one; PostgreSQL then aborts one
side (SQLSTATE 40P01 deadlock_detected; 40001 serialization_failure under stricter isolation). Nothing of the
aborted transaction was written, so the only correct reaction is to run it again from its start — which only
the code that opened the outermost transaction can do. ``retry_on_deadlock`` wraps such a function (put it
above ``@transaction.atomic(durable=True)``); called inside another transaction it runs once and lets the
error reach the outermost caller, since a retry there would re-run only half a transaction.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar, overload

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

logger = logging.getLogger("oms.db_retry")

RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
ATTEMPTS = 4
BASE_DELAY_S = 0.01
MAX_DELAY_S = 0.25

P = ParamSpec("P")
R = TypeVar("R")


def is_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` (or the driver error it wraps) is a deadlock or serialization failure."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "sqlstate", None) in RETRYABLE_SQLSTATES:
            return True
        current = current.__cause__ or current.__context__
    return False


def _outermost(using: str) -> bool:
    """No transaction is open yet on ``using`` (the test case's own wrapping transaction does not count,
    as for ``atomic(durable=True)``)."""
    connection = connections[using]
    return not connection.in_atomic_block or all(
        getattr(block, "_from_testcase", False) for block in connection.atomic_blocks
    )


def backoff_s(attempt: int, draw: float) -> float:
    """Full jitter: a uniform share (``draw`` in [0, 1)) of an exponentially growing cap, so two transactions
    that deadlocked do not collide again in step."""
    return draw * min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (attempt - 1))


def retry(
    fn: Callable[[], R],
    *,
    attempts: int,
    when: Callable[[BaseException], bool],
    before_retry: Callable[[int, BaseException], None] | None = None,
) -> R:
    """The one retry idiom: run ``fn``; when it raises an exception that ``when`` accepts and runs are left
    (``attempts`` in all), call ``before_retry(attempt, exc)`` (a pause, fresh numbers…) and run it again.
    Any other exception, and the last attempt's, propagates."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts or not when(exc):
                raise
            if before_retry is not None:
                before_retry(attempt, exc)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def deadlocked(exc: BaseException) -> bool:
    """The database rolled the transaction back to break a deadlock or a serialization conflict."""
    return isinstance(exc, DatabaseError) and is_retryable(exc)


@overload
def retry_on_deadlock(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def retry_on_deadlock(
    *, attempts: int = ATTEMPTS, using: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def retry_on_deadlock(
    func: Callable[P, R] | None = None, /, *, attempts: int = ATTEMPTS, using: str | None = None
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Run ``func`` again (at most ``attempts`` runs in all, with a short random pause between them) when the
    database aborted its transaction to break a deadlock or a serialization conflict; any other error, and the
    last attempt's, propagates. ``func`` must open the outermost transaction and have no effect outside it."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        def pause(attempt: int, exc: BaseException) -> None:
            wait = backoff_s(attempt, random.random())
            logger.info("%s: %s on attempt %s; retrying in %.3fs", fn.__qualname__, exc, attempt, wait)
            time.sleep(wait)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if not _outermost(using or DEFAULT_DB_ALIAS):
                return fn(*args, **kwargs)
            return retry(lambda: fn(*args, **kwargs), attempts=attempts, when=deadlocked, before_retry=pause)

        return wrapper

    if func is not None:
        return decorate(func)
    return decorate


def run_atomic(fn: Callable[[], R], *, attempts: int = ATTEMPTS, using: str | None = None) -> R:
    """Run ``fn`` in its own outermost transaction, re-run whole on a deadlock: the form for a service whose
    transaction is a ``with`` block with work after it (``run_atomic(lambda: ...)``)."""

    @retry_on_deadlock(attempts=attempts, using=using)
    def once() -> R:
        with transaction.atomic(using=using, durable=True):
            return fn()

    return once()
