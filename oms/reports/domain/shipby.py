"""Ship-by deadlines (发货超时): when a paid order must have left the warehouse, and whether it is at risk.

Pure. A channel's rule gives hours after payment (presale orders: days after payment, as no presale ship
date is recorded at intake); an order is at risk from ``warn_hours`` before its deadline and overdue after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_HOURS = 48
DEFAULT_WARN_HOURS = 6
DEFAULT_PRESALE_DAYS = 15


@dataclass(frozen=True)
class ShipByRule:
    hours: int = DEFAULT_HOURS
    warn_hours: int = DEFAULT_WARN_HOURS
    presale_days: int = DEFAULT_PRESALE_DAYS

    def allowance(self, *, presale: bool) -> timedelta:
        return timedelta(days=self.presale_days) if presale else timedelta(hours=self.hours)


def ship_by(*, paid_at: datetime, presale: bool, rule: ShipByRule) -> datetime:
    return paid_at + rule.allowance(presale=presale)


def ship_by_state(*, deadline: datetime, now: datetime, rule: ShipByRule) -> str:
    """ "overdue", "at_risk" or "ok"."""
    if now >= deadline:
        return "overdue"
    if now >= deadline - timedelta(hours=rule.warn_hours):
        return "at_risk"
    return "ok"
