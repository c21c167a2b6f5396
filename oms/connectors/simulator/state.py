"""The simulator's memory: shops, every version of every native order, write-backs received, and faults.

Plain Python behind one lock, shared by the HTTP handler threads. Orders change over time by adding a
version (a native dict with a later modified time); a window query sees each order's current version.
Faults are switched on per shop: rate-limit answers, slow answers (timeouts), pages that repeat or overlap
their neighbours, stale (out-of-order) versions, error pages, a refused token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Faults:
    rate_limit_next: int = 0  # the next N calls answer "call limit exceeded"
    rate_limit_every: int = 0  # every N-th call answers it (0: never)
    timeout_next: int = 0  # the next N calls answer only after `slow_s`
    slow_s: float = 0.0
    error_page_next: int = 0  # the next N calls answer an HTML error page (HTTP 502)
    overlap_items: int = 0  # each page after the first also repeats the last N orders of the page before
    duplicate_pages: bool = False  # each page lists its orders twice
    stale_versions: bool = False  # orders with history also come at their previous version, delivered last


@dataclass
class SimOrder:
    order_id: str
    versions: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)

    @property
    def current(self) -> tuple[datetime, dict[str, Any]]:
        return self.versions[-1]


@dataclass
class SimShop:
    platform: str
    app_key: str
    app_secret: str
    access_token: str
    token_valid: bool = True
    orders: dict[str, SimOrder] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    calls: int = 0
    write_backs: list[dict[str, Any]] = field(default_factory=list)


class SimulatorState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.shops: dict[tuple[str, str], SimShop] = {}

    def shop_add(self, platform: str, app_key: str, app_secret: str, access_token: str) -> SimShop:
        with self.lock:
            shop = SimShop(platform, app_key, app_secret, access_token)
            self.shops[(platform, app_key)] = shop
            return shop

    def shop(self, platform: str, app_key: str) -> SimShop | None:
        with self.lock:
            return self.shops.get((platform, app_key))

    def order_put(self, shop: SimShop, order_id: str, modified: datetime, native: dict[str, Any]) -> None:
        """Add a version of an order (the platform changed it at `modified`)."""
        with self.lock:
            shop.orders.setdefault(order_id, SimOrder(order_id)).versions.append((modified, native))

    def window(self, shop: SimShop, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Orders whose current version was modified in [start, end], oldest change first."""
        with self.lock:
            hits, stale = [], []
            for order in shop.orders.values():
                modified, native = order.current
                if start <= modified <= end:
                    hits.append((modified, order.order_id, native))
                    if shop.faults.stale_versions and len(order.versions) > 1:
                        stale.append(order.versions[-2][1])
            hits.sort(key=lambda h: (h[0], h[1]))
            # Out-of-order delivery: an older version listed on the first page, which is read last.
            return stale + [h[2] for h in hits]

    def page(self, shop: SimShop, items: list[dict[str, Any]], page_no: int, page_size: int) -> list[dict[str, Any]]:
        with self.lock:
            begin = (page_no - 1) * page_size
            if page_no > 1:
                begin = max(0, begin - shop.faults.overlap_items)
            chunk = items[begin : page_no * page_size]
            return chunk + chunk if shop.faults.duplicate_pages else chunk

    def fault_for_call(self, shop: SimShop) -> str:
        """Count the call and say which fault (if any) answers it: "", "rate_limit", "slow", "error_page"."""
        with self.lock:
            shop.calls += 1
            f = shop.faults
            if f.rate_limit_next > 0:
                f.rate_limit_next -= 1
                return "rate_limit"
            if f.rate_limit_every and shop.calls % f.rate_limit_every == 0:
                return "rate_limit"
            if f.timeout_next > 0:
                f.timeout_next -= 1
                return "slow"
            if f.error_page_next > 0:
                f.error_page_next -= 1
                return "error_page"
            return ""

    def write_back(self, shop: SimShop, record: dict[str, Any]) -> None:
        with self.lock:
            shop.write_backs.append(record)

    def mutate(self, fn: Callable[[], Any]) -> Any:
        with self.lock:
            return fn()
