"""Status transitions and timeline events: every status change goes through `order_transition` (one
order) or `orders_transition` (many at once); every timeline row is written here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record, audit_record_many
from oms.core.actors import Actor, actor_name, actor_user
from oms.core.bulk import bulk_insert_columns, ids_in
from oms.orders import actions
from oms.orders.domain.status import Status, transition_check
from oms.orders.models import Order, OrderEvent
from oms.orders.services.updates import orders_update_grouped


def order_event_build(
    *,
    order: Order,
    kind: str,
    actor: Actor,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> OrderEvent:
    """An unsaved timeline event: bulk intake saves many at once, single changes save one."""
    return OrderEvent(
        order=order,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor_user(actor),
        actor_name=actor_name(actor),
        reason=reason[:500],
        data=data,
    )


def order_event_record(
    *,
    order: Order,
    kind: str,
    actor: Actor,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> OrderEvent:
    """Write one timeline event (something happened to the order that is not a status change)."""
    event = order_event_build(
        order=order, kind=kind, actor=actor, from_status=from_status, to_status=to_status, reason=reason, data=data
    )
    event.save()
    return event


def order_events_save(events: Sequence[OrderEvent]) -> None:
    """Write events made by `order_event_build` in one statement."""
    if events:
        OrderEvent.objects.bulk_create(events)


@transaction.atomic(savepoint=False)
def order_transition(
    *, order: Order, to_status: str, actor: Actor, reason: str = "", data: dict[str, Any] | None = None
) -> Order:
    """Move the order to ``to_status`` if the transition table allows it (409 otherwise), writing the
    timeline event and the operation-log row in the same transaction.

    The caller must hold the order's row lock (`order_lock`), so the status it checks is current.
    """
    transition_check(order.status, to_status)
    before = order.status
    order.status = to_status
    order.updated_at = timezone.now()
    order.save(update_fields=["status", "updated_at"])
    order_event_build(
        order=order,
        kind="status_changed",
        actor=actor,
        from_status=before,
        to_status=to_status,
        reason=reason,
        data=data,
    ).save()
    audit_record(
        actor=actor,
        action=actions.ORDER_TRANSITION,
        obj=order,
        before={"status": before},
        after={"status": to_status},
        reason=reason,
    )
    return order


# (order id, kind, from status, to status, reason, data): one timeline event, as `order_events_insert` takes it.
EventRow = tuple[int, str, str, str, str, dict[str, Any] | None]


def order_events_insert(*, rows: Sequence[EventRow], actor: Actor) -> None:
    """Write many timeline events at once, the same rows `order_event_build` makes, without an instance
    each (batch services: the fulfilment pipeline writes thousands)."""
    if not rows:
        return
    user = actor_user(actor)
    bulk_insert_columns(
        OrderEvent,
        len(rows),
        {
            "order_id": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "from_status": [r[2] for r in rows],
            "to_status": [r[3] for r in rows],
            "reason": [r[4][:500] for r in rows],
            "data": [r[5] for r in rows],
            "actor_id": user.pk if user is not None else None,
            "actor_name": actor_name(actor),
        },
    )


@transaction.atomic(savepoint=False)
def orders_transition(
    *,
    orders: Sequence[Order],
    to_status: str,
    actor: Actor,
    reason: str = "",
    data: dict[int, dict[str, Any]] | None = None,
    fields: Sequence[str] = (),
) -> None:
    """`order_transition` for many orders in a constant number of statements plus one audit row each: the
    same transition table check, timeline event and operation-log row. The caller holds the row locks.
    ``fields`` the caller changed on the orders are written in the same UPDATE (one per distinct value)."""
    if not orders:
        return
    for order in orders:
        transition_check(order.status, to_status)
    now = timezone.now()
    events: list[EventRow] = []
    befores: dict[int, str] = {}
    for order in orders:
        befores[order.pk] = order.status
        events.append((order.pk, "status_changed", order.status, to_status, reason, (data or {}).get(order.pk)))
        order.status = to_status
        order.updated_at = now
    if fields:
        orders_update_grouped(orders, [*fields, "status", "updated_at"])
    else:
        Order.objects.filter(ids_in("pk", [o.pk for o in orders])).update(status=to_status, updated_at=now)
    order_events_insert(rows=events, actor=actor)
    audit_record_many(
        actor=actor,
        action=actions.ORDER_TRANSITION,
        entries=[(o, {"status": befores[o.pk]}, {"status": to_status}, reason) for o in orders],
    )


def orders_retire(*, orders: Sequence[Order], actor: Actor, reason: str, data: dict[str, Any] | None = None) -> None:
    """Close orders that others replace (split, merge, un-merge): each keeps its history and says why.
    The caller holds the row locks and has moved what the orders held (stock, holds, stockouts)."""
    for order in orders:
        order_transition(order=order, to_status=Status.CLOSED.value, actor=actor, reason=reason, data=data)
