"""The retry schedule: exponential backoff with jitter, capped.

The delay after the n-th failed attempt is ``min(cap, base * 2**(n-1))`` scaled down by up to
``jitter`` of itself. Jitter spreads retries from many rows failing together (an endpoint that was
down) so they do not all come back in the same second; with ``jitter <= 0.5`` a later attempt never
waits less than an earlier one, until the cap.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    base_s: float = 10.0
    cap_s: float = 3600.0
    jitter: float = 0.5
    max_attempts: int = 10

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < self.base_s:
            raise ValueError("backoff needs 0 < base_s <= cap_s")
        if not 0.0 <= self.jitter <= 0.5:
            raise ValueError("jitter must be within [0, 0.5]")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay_s(self, attempt: int, draw: float) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based); ``draw`` in [0, 1) is
        the random part, passed in so the schedule is a pure function."""
        if attempt < 1:
            raise ValueError("attempts are counted from 1")
        if not 0.0 <= draw < 1.0:
            raise ValueError("draw must be within [0, 1)")
        # 2**60 is far past any cap; bounding the exponent keeps huge attempt numbers cheap.
        exponential = min(self.cap_s, self.base_s * 2.0 ** min(attempt - 1, 60))
        return exponential * (1.0 - self.jitter * draw)

    def exhausted(self, attempts: int) -> bool:
        """True when ``attempts`` deliveries have failed and the message goes to the dead letters."""
        return attempts >= self.max_attempts
