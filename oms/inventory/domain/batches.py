"""Which batches (批次) units leave from: first expiry first out, then first in; unbatched units last."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class BatchLevel:
    batch_id: int
    on_hand: int
    expiry_date: dt.date | None
    received_order: int  # smaller is older


def plan_batch_issue(batches: Sequence[BatchLevel], quantity: int) -> list[tuple[int | None, int]]:
    """(batch id or None for unbatched units, units) taking ``quantity`` units FEFO then FIFO."""
    order = sorted(batches, key=lambda b: (b.expiry_date is None, b.expiry_date or dt.date.max, b.received_order))
    plan: list[tuple[int | None, int]] = []
    left = quantity
    for batch in order:
        if left <= 0:
            break
        take = min(batch.on_hand, left)
        if take > 0:
            plan.append((batch.batch_id, take))
            left -= take
    if left > 0:
        plan.append((None, left))
    return plan
