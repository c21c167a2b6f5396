"""Pulling a shop: windows of modified time from its cursor, pages last first, paced, retried, recorded.

One pull at a time per shop (a lease on the shop row, so "pull now" and the schedule never run the same
shop together). The cursor advances only past windows read completely; a window that failed is read again
next time. A back-fill reads the range it is given and leaves the cursor alone. Every pull leaves a
`PullRun`; the shop shows the last error as a code with parameters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from oms.connectors.adapters import adapter_for
from oms.connectors.adapters.base import AuthExpired, Connection, OrdersPage, PlatformAdapter, PlatformError
from oms.connectors.crypto import CredentialsUnreadable
from oms.connectors.domain.windows import Window, backoff_seconds, page_order, plan_windows
from oms.connectors.models import PullKind, PullRun, Shop, ShopStatus
from oms.connectors.services.shops import shop_connection
from oms.connectors.services.take import Tally, pulled_orders_take
from oms.core.errors import Conflict, ValidationFailed

T = TypeVar("T")
LEASE = timedelta(minutes=10)
FIRST_PULL_DAYS = 3
# A back-fill reaches at most this far: platforms keep three months of modified-time history.
BACKFILL_MAX = timedelta(days=92)


class Pacer:
    """At most `rate` calls per second for one shop, across threads of this process."""

    _last: dict[int, float] = {}
    _lock = threading.Lock()

    def __init__(self, shop_id: int, rate: float) -> None:
        self.shop_id, self.interval = shop_id, 1.0 / rate if rate > 0 else 0.0

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            due = self._last.get(self.shop_id, 0.0) + self.interval
            self._last[self.shop_id] = max(now, due)
        if due > now:
            time.sleep(due - now)


def connector_actor(shop: Shop) -> str:
    """The named system actor of a shop's pulls, as the timeline and the operation log show it."""
    return f"connector:{shop.platform}:{shop.channel.code}"


def _lease(shop: Shop) -> bool:
    now = timezone.now()
    taken = Shop.objects.filter(Q(pk=shop.pk) & (Q(pulling_until__isnull=True) | Q(pulling_until__lt=now))).update(
        pulling_until=now + LEASE
    )
    return taken == 1


def _release(shop: Shop) -> None:
    Shop.objects.filter(pk=shop.pk).update(pulling_until=None)


class _Puller:
    def __init__(self, shop: Shop, run: PullRun, adapter: PlatformAdapter, conn: Connection) -> None:
        self.shop, self.run, self.adapter, self.conn = shop, run, adapter, conn
        self.pacer = Pacer(shop.pk, adapter.calls_per_second)
        self.tally = Tally()
        self.actor = connector_actor(shop)
        cfg = settings.OMS_CONNECTORS
        self.retries, self.base, self.cap = (
            int(cfg["RETRIES"]),
            float(cfg["BACKOFF_BASE_S"]),
            float(cfg["BACKOFF_CAP_S"]),
        )

    def call(self, fn: Callable[[], T]) -> T:
        """One platform call, paced; retryable failures (rate limit, timeout, 5xx) retried with backoff."""
        attempt = 0
        while True:
            self.pacer.wait()
            self.run.calls += 1
            try:
                return fn()
            except PlatformError as exc:
                attempt += 1
                if not exc.retryable or attempt > self.retries:
                    raise
                self.run.retries += 1
                time.sleep(backoff_seconds(attempt, base=self.base, cap=self.cap))

    def page(self, window: Window, number: int, cursor: str = "") -> OrdersPage:
        return self.call(
            lambda: self.adapter.orders_page(self.conn, start=window.start, end=window.end, page=number, cursor=cursor)
        )

    def take(self, page: OrdersPage) -> None:
        self.run.fetched += len(page.orders)
        self.tally.add(pulled_orders_take(shop=self.shop, adapter=self.adapter, natives=page.orders, actor=self.actor))

    def window(self, window: Window) -> None:
        """Every order of the window: page 1 for the total, then the pages last first, page 1 read again last
        (an order that moved out of the window while we paged shifts the rest into a page still to be read)."""
        first = self.page(window, 1)
        if getattr(self.adapter, "cursor_paging", False):
            self.take(first)
            # Cursor pages (since_id) do not shift when orders leave the window: read them forward.
            page, number = first, 1
            while page.next_cursor:
                number += 1
                page = self.page(window, number, page.next_cursor)
                self.take(page)
            return
        numbers = page_order(first.total, self.adapter.page_size)
        if len(numbers) <= 1:
            self.take(first)
            return
        for number in numbers:
            self.take(self.page(window, number))


def _windows(shop: Shop, adapter: PlatformAdapter, now: datetime, start: datetime | None,
             end: datetime | None) -> list[Window]:  # fmt: skip
    span = timedelta(seconds=adapter.max_window_s)
    if start is not None:
        return plan_windows(cursor=None, now=end or now, overlap=timedelta(0), max_span=span, first_start=start)
    first = shop.pull_from or now - timedelta(days=FIRST_PULL_DAYS)
    return plan_windows(cursor=shop.cursor_at, now=now, overlap=timedelta(seconds=shop.overlap_s), max_span=span,
                        first_start=first)  # fmt: skip


def _finish(shop: Shop, run: PullRun, tally: Tally, error: PlatformError | CredentialsUnreadable | None) -> None:
    now = timezone.now()
    run.created, run.updated, run.unchanged, run.failed = tally.created, tally.updated, tally.unchanged, tally.failed
    run.finished_at = now
    fields: dict[str, Any] = {"last_pull_at": now}
    if error is None:
        fields |= {"status": ShopStatus.OK, "last_success_at": now, "last_error_code": "", "last_error_params": {}}
    else:
        code = error.code
        params = {"message": error.message, **getattr(error, "params", {})}
        run.error_code, run.error_params = code, params
        status = ShopStatus.AUTH_EXPIRED if isinstance(error, AuthExpired | CredentialsUnreadable) else ShopStatus.ERROR
        fields |= {"status": status, "last_error_code": code, "last_error_params": params}
    with transaction.atomic():
        run.save()
        Shop.objects.filter(pk=shop.pk).update(**fields)


def _aware(value: datetime | None) -> datetime | None:
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value)


def shop_pull(
    *, shop: Shop, kind: str = PullKind.SCHEDULED, start: datetime | None = None, end: datetime | None = None,
    now: datetime | None = None,
) -> PullRun:  # fmt: skip
    """Pull the shop's changed orders (or back-fill [start, end)). 409 when a pull of the shop is running."""
    now = now or timezone.now()
    start, end = _aware(start), _aware(end)
    if end is not None and end > now:
        end = now  # the platform has nothing modified in the future
    if start is not None and (start >= (end or now) or now - start > BACKFILL_MAX):
        raise ValidationFailed("A back-fill needs a start before its end, within the last 92 days.",
                               code="bad_range", extra={"field": "start"})  # fmt: skip
    if not _lease(shop):
        raise Conflict(f"Shop {shop.pk} is being pulled already.", code="pull_running")
    adapter = adapter_for(shop.platform)
    windows = _windows(shop, adapter, now, start, end)
    run = PullRun.objects.create(shop=shop, kind=kind, started_at=timezone.now(),
                                 window_from=windows[0].start if windows else None,
                                 window_to=windows[-1].end if windows else None)  # fmt: skip
    puller: _Puller | None = None
    error: PlatformError | CredentialsUnreadable | None = None
    try:
        puller = _Puller(shop, run, adapter, shop_connection(shop))
        for window in windows:
            puller.window(window)
            if start is None:
                Shop.objects.filter(pk=shop.pk).update(cursor_at=window.end)
    except (PlatformError, CredentialsUnreadable) as exc:
        error = exc
    finally:
        _finish(shop, run, puller.tally if puller else Tally(), error)
        _release(shop)
    return run


def shops_pull_due(*, now: datetime | None = None) -> list[int]:
    """Pull every enabled shop whose interval has passed (the scheduled task); the runs' ids."""
    now = now or timezone.now()
    runs = []
    for shop in Shop.objects.filter(enabled=True).exclude(status=ShopStatus.AUTH_EXPIRED).select_related("channel"):
        if shop.last_pull_at is not None and shop.last_pull_at + timedelta(seconds=shop.pull_interval_s) > now:
            continue
        try:
            runs.append(shop_pull(shop=shop, kind=PullKind.SCHEDULED, now=now).pk)
        except Conflict:
            continue
    return runs
