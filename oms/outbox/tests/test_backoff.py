from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.outbox.domain.backoff import Backoff

schedules = st.builds(
    Backoff,
    base_s=st.floats(0.1, 100),
    cap_s=st.floats(100, 86_400),
    jitter=st.floats(0, 0.5),
    max_attempts=st.integers(1, 30),
)
draws = st.floats(0, 1, exclude_max=True)


@given(schedules, st.integers(1, 200), draws)
def test_delay_is_positive_and_capped(backoff: Backoff, attempt: int, draw: float) -> None:
    delay = backoff.delay_s(attempt, draw)
    assert 0 < delay <= backoff.cap_s
    assert delay >= min(backoff.cap_s, backoff.base_s) * (1 - backoff.jitter)


@given(schedules, st.integers(1, 200), draws)
def test_delay_is_monotone_in_the_attempt_for_a_given_draw(backoff: Backoff, attempt: int, draw: float) -> None:
    assert backoff.delay_s(attempt + 1, draw) >= backoff.delay_s(attempt, draw)


@given(schedules, st.integers(1, 200), draws, draws)
def test_below_the_cap_a_later_attempt_never_waits_less_whatever_the_draws(
    backoff: Backoff, attempt: int, draw_a: float, draw_b: float
) -> None:
    if backoff.base_s * 2 ** min(attempt, 60) <= backoff.cap_s:
        assert backoff.delay_s(attempt + 1, draw_b) >= backoff.delay_s(attempt, draw_a)


def test_the_default_schedule_doubles_then_stops_at_the_cap() -> None:
    backoff = Backoff(base_s=10, cap_s=3600, jitter=0.5, max_attempts=10)
    assert [backoff.delay_s(n, 0.0) for n in range(1, 11)] == [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]
    assert backoff.delay_s(3, 0.999) == pytest.approx(40 * 0.5005)
    assert not backoff.exhausted(9)
    assert backoff.exhausted(10)


@pytest.mark.parametrize("kwargs", [{"base_s": 0}, {"base_s": 10, "cap_s": 5}, {"jitter": 0.6}, {"max_attempts": 0}])
def test_nonsense_schedules_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must|needs"):
        Backoff(**kwargs)  # type: ignore[arg-type]
