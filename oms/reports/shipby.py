"""Ship-by deadlines (发货超时) over the orders: which paid, unshipped orders are at risk or overdue.

A channel's ``ShipByPolicy`` (or the default one, channel left empty; or the built-in 48 h / warn 6 h /
presale 15 days) sets the deadline from the payment time. One query per list or count: the deadline
conditions are written per channel into the WHERE clause, so the database filters on ``paid_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from oms.orders.domain.status import Status
from oms.orders.models import Order
from oms.reports.domain.shipby import ShipByRule, ship_by, ship_by_state
from oms.reports.models import ShipByPolicy

OPEN = (
    Status.PENDING_REVIEW,
    Status.PENDING_SPLIT,
    Status.PENDING_DISPATCH,
    Status.PENDING_SHIPMENT,
    Status.PARTIALLY_SHIPPED,
)
STATES = ("at_risk", "overdue")


@dataclass(frozen=True)
class Rules:
    default: ShipByRule
    by_channel: dict[int, ShipByRule]

    def rule(self, channel_id: int) -> ShipByRule:
        return self.by_channel.get(channel_id, self.default)


def ship_by_rules() -> Rules:
    default, by_channel = ShipByRule(), {}
    for p in ShipByPolicy.objects.all():
        rule = ShipByRule(hours=p.hours, warn_hours=p.warn_hours, presale_days=p.presale_days)
        if p.channel_id is None:
            default = rule
        else:
            by_channel[p.channel_id] = rule
    return Rules(default=default, by_channel=by_channel)


def _window(rule: ShipByRule, *, presale: bool, state: str, now: datetime) -> Q:
    """Orders of one presale kind whose deadline (paid_at + allowance) puts them in ``state`` at ``now``."""
    overdue_paid_before = now - rule.allowance(presale=presale)
    q = Q(is_presale=presale)
    if state == "overdue":
        return q & Q(paid_at__lte=overdue_paid_before)
    return q & Q(paid_at__gt=overdue_paid_before, paid_at__lte=overdue_paid_before + timedelta(hours=rule.warn_hours))


def _state_q(rules: Rules, state: str, now: datetime) -> Q:
    q = Q(pk__in=[])
    for channel_id, rule in rules.by_channel.items():
        for presale in (False, True):
            q |= Q(channel_id=channel_id) & _window(rule, presale=presale, state=state, now=now)
    others = ~Q(channel_id__in=list(rules.by_channel))
    for presale in (False, True):
        q |= others & _window(rules.default, presale=presale, state=state, now=now)
    return q


def ship_by_queryset(*, state: str, now: datetime | None = None, rules: Rules | None = None) -> QuerySet[Order]:
    now = now or timezone.now()
    rules = rules or ship_by_rules()
    return Order.objects.filter(status__in=[s.value for s in OPEN], paid_at__isnull=False).filter(
        _state_q(rules, state, now)
    )


def ship_by_counts(*, now: datetime | None = None) -> dict[str, int]:
    """{"at_risk": n, "overdue": n}: two counts (the dashboard's counters)."""
    now, rules = now or timezone.now(), ship_by_rules()
    return {state: ship_by_queryset(state=state, now=now, rules=rules).count() for state in STATES}


@dataclass(frozen=True)
class ShipByRow:
    order: Order
    deadline: datetime
    state: str


def ship_by_list(*, state: str, now: datetime | None = None, limit: int = 200) -> list[ShipByRow]:
    """The orders in ``state``, the most urgent (earliest paid) first."""
    now, rules = now or timezone.now(), ship_by_rules()
    orders = (
        ship_by_queryset(state=state, now=now, rules=rules)
        .select_related("channel")
        .only("number", "status", "paid_at", "is_presale", "channel__name", "channel_id", "receiver_name")
        .order_by("paid_at", "id")[:limit]
    )
    rows = []
    for o in orders:
        rule = rules.rule(o.channel_id)
        assert o.paid_at is not None
        deadline = ship_by(paid_at=o.paid_at, presale=o.is_presale, rule=rule)
        rows.append(ShipByRow(order=o, deadline=deadline, state=ship_by_state(deadline=deadline, now=now, rule=rule)))
    return rows


def ship_by_unalerted(*, state: str, now: datetime, limit: int) -> list[Any]:
    from django.db.models import Exists, OuterRef

    from oms.reports.models import ShipByAlert

    alerted = ShipByAlert.objects.filter(order=OuterRef("pk"), kind=state)
    return list(
        ship_by_queryset(state=state, now=now)
        .filter(~Exists(alerted))
        .select_related("channel")
        .order_by("paid_at", "id")[:limit]
    )
