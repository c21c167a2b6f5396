"""Pull windows: contiguous cover from the cursor minus the overlap to now, none longer than allowed."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from oms.connectors.domain.windows import backoff_seconds, page_order, plan_windows

BASE = datetime(2026, 1, 1, tzinfo=UTC)
minutes = st.integers(0, 60 * 24 * 5).map(lambda m: timedelta(minutes=m))


@given(
    cursor=st.none() | minutes,
    ahead=minutes,
    overlap=minutes,
    span=st.integers(1, 60 * 30).map(lambda m: timedelta(minutes=m)),
)
def test_windows_cover_from_the_cursor_less_the_overlap_to_now(
    cursor: timedelta | None, ahead: timedelta, overlap: timedelta, span: timedelta
) -> None:
    first = BASE - timedelta(days=1)
    at = None if cursor is None else BASE + cursor
    now = (at or first) + ahead
    windows = plan_windows(cursor=at, now=now, overlap=overlap, max_span=span, first_start=first)
    start = first if at is None else at - overlap
    if start >= now:
        assert windows == []
        return
    assert windows[0].start == start and windows[-1].end == now
    for before, after in itertools.pairwise(windows):
        assert before.end == after.start
    assert all(timedelta(0) < w.end - w.start <= span for w in windows)


@given(total=st.integers(0, 1000), size=st.integers(1, 100))
def test_pages_are_read_last_first_and_cover_every_order(total: int, size: int) -> None:
    pages = page_order(total, size)
    assert pages == sorted(pages, reverse=True)
    assert sum(min(size, total - (p - 1) * size) for p in pages) == total


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_seconds(n, base=1, cap=5) for n in range(1, 6)] == [1, 2, 4, 5, 5]
