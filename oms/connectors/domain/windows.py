"""Pull windows: which modified-time ranges to ask a platform for, and in which page order.

Pure. A shop's cursor is the end of the last window pulled completely. The next pull starts an overlap
before it (platforms index changes late, and clocks differ), and long gaps are cut into windows no longer
than the platform allows (TOP: one day per call). Pages are read last page first: an order that changes
while we page moves out of our window, and reading backwards turns that shift into a duplicate (harmless:
intake is idempotent) instead of a skipped order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def plan_windows(
    *, cursor: datetime | None, now: datetime, overlap: timedelta, max_span: timedelta, first_start: datetime
) -> list[Window]:
    """Consecutive windows from (cursor − overlap) up to `now`, each at most `max_span` long.

    A shop never pulled starts at `first_start`. Nothing to pull (cursor at or after now) gives no window.
    """
    if max_span <= timedelta(0):
        raise ValueError("max_span must be positive")
    start = first_start if cursor is None else cursor - overlap
    windows: list[Window] = []
    while start < now:
        end = min(start + max_span, now)
        windows.append(Window(start, end))
        start = end
    return windows


def page_order(total: int, page_size: int) -> list[int]:
    """Page numbers (1-based) to read, last first."""
    if total <= 0:
        return []
    pages = (total + page_size - 1) // page_size
    return list(range(pages, 0, -1))


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """Exponential backoff for the n-th retry (1-based), capped."""
    return float(min(cap, base * (2 ** (attempt - 1))))
