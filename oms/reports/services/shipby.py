"""Ship-by alerts: an outbox event for each order as it becomes at risk, and again when it is overdue.

``ship_by_alerts_send`` runs on a schedule (every 5 minutes). Each order gets at most one event of each kind:
the ``ShipByAlert`` row (unique per order and kind) is written in the same transaction as the event, so a
second run, or two at once, never send it twice. Topics ``order.ship_by_at_risk`` and
``order.ship_by_overdue``: a chat-robot or e-mail webhook subscribes to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from oms.outbox.services import outbox_publish
from oms.reports.domain.shipby import ship_by
from oms.reports.models import ShipByAlert
from oms.reports.shipby import STATES, ship_by_rules, ship_by_unalerted

BATCH = 500


@dataclass(frozen=True)
class AlertsSent:
    at_risk: int
    overdue: int


def ship_by_alerts_send(*, now: datetime | None = None, limit: int = BATCH) -> AlertsSent:
    now = now or timezone.now()
    rules = ship_by_rules()
    sent = dict.fromkeys(STATES, 0)
    for state in STATES:
        for order in ship_by_unalerted(state=state, now=now, limit=limit):
            assert order.paid_at is not None
            deadline = ship_by(paid_at=order.paid_at, presale=order.is_presale, rule=rules.rule(order.channel_id))
            try:
                with transaction.atomic():
                    ShipByAlert.objects.create(order=order, kind=state, at=now)
                    outbox_publish(
                        topic=f"order.ship_by_{state}",
                        aggregate=order,
                        payload={
                            "order": order.number,
                            "channel": order.channel.code,
                            "status": order.status,
                            "paid_at": order.paid_at.isoformat(),
                            "ship_by": deadline.isoformat(),
                            "state": state,
                        },
                    )
            except IntegrityError:
                continue  # another run alerted it first
            sent[state] += 1
    return AlertsSent(at_risk=sent["at_risk"], overdue=sent["overdue"])
