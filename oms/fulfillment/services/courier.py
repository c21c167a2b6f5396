"""Courier assignment (分配快递): choose a courier for allocated orders, record why, and hand them on to
pending_dispatch; an order no courier can carry is held with a ``no_courier`` interception."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record, audit_record_many
from oms.core.actors import Actor, actor_name
from oms.core.bulk import ids_in
from oms.core.errors import Conflict, NotFound, ValidationFailed
from oms.core.rules import ConditionMemo
from oms.fulfillment import actions
from oms.fulfillment.domain.courier import CourierChoice, CourierOption, CourierRequest, Rate, choose_courier
from oms.fulfillment.domain.courier import capable as courier_capable
from oms.fulfillment.domain.rule_params import courier_directive
from oms.fulfillment.models import (
    AllocationDecision,
    Courier,
    CourierRate,
    DecisionKind,
    Shipment,
    ShipmentState,
    Stockout,
    StockoutState,
)
from oms.fulfillment.services.common import (
    DecisionRows,
    enabled_rules,
    facts_when_needed,
    lock_orders,
    matching_rules,
    open_holds,
    order_lines,
)
from oms.inventory.models import Warehouse
from oms.orders.domain.payments import refunded_in_full
from oms.orders.domain.status import Status
from oms.orders.models import Order
from oms.orders.services.timeline import EventRow, order_event_record, order_events_insert, orders_transition
from oms.orders.services.updates import order_courier_save
from oms.review.models import RuleKind
from oms.review.services import order_intercept


@dataclass
class CourierResult:
    order: Order
    choice: CourierChoice


def courier_options() -> list[CourierOption]:
    return [
        CourierOption(
            id=c.pk,
            code=c.code,
            coverage_provinces=tuple(c.coverage_provinces or ()),
            supports_cod=c.supports_cod,
            max_weight_g=c.max_weight_g,
            remark_keywords=tuple(c.remark_keywords or ()),
        )
        for c in Courier.objects.filter(is_active=True).order_by("code")
    ]


def rate_table() -> list[Rate]:
    return [
        Rate(r.courier_id, r.warehouse_id, r.province, r.first_weight_g, r.first_minor, r.extra_per_kg_minor)
        for r in CourierRate.objects.all()
    ]


def courier_due(order: Order) -> bool:
    """Allocated to one warehouse, reviewed, still before dispatch, not refunded in full."""
    return (
        order.status == Status.PENDING_REVIEW
        and order.reviewed_at is not None
        and order.final_warehouse_id is not None
        and not refunded_in_full(order.payment_status)
    )


def orders_short(order_ids: Sequence[int]) -> set[int]:
    if not order_ids:
        return set()
    return set(
        Stockout.objects.filter(ids_in("order_id", order_ids), state=StockoutState.OPEN).values_list(
            "order_id", flat=True
        )
    )


def order_weights(order_ids: Sequence[int]) -> dict[int, int]:
    return {
        order_id: sum((ln.sku.weight_g if ln.sku else 0) * ln.quantity for ln in lines)
        for order_id, lines in order_lines(order_ids).items()
    }


@transaction.atomic(savepoint=False)
def assign_couriers_locked(
    *,
    orders: Sequence[Order],
    actor: Actor,
    facts: dict[int, dict[str, Any]] | None = None,
    fields: Sequence[str] = (),
) -> list[CourierResult]:
    """Choose couriers for orders the caller locked and checked (`courier_due`, no hold, no stockout); the
    chosen ones move to pending_dispatch. Other ``fields`` the caller changed on them are written with the
    courier and the status, in the same UPDATE."""
    if not orders:
        return []
    rules = enabled_rules(RuleKind.COURIER)
    facts = facts_when_needed(orders, rules, facts)
    weights = (
        {pk: int(f["weight_g"]) for pk, f in facts.items()}
        if rules and all(o.pk in facts for o in orders)
        else order_weights([o.pk for o in orders])
    )
    couriers = courier_options()
    rates = rate_table()
    codes = dict(Warehouse.objects.values_list("id", "code"))
    now = timezone.now()
    memo = ConditionMemo()
    results: list[CourierResult] = []
    decisions = DecisionRows(DecisionKind.COURIER, actor)
    events: list[EventRow] = []
    assigned: list[Order] = []
    audits: list[tuple[Order, dict[str, Any] | None, dict[str, Any] | None, str]] = []
    for order in orders:
        assert order.final_warehouse_id is not None
        request = CourierRequest(
            order_id=order.pk,
            warehouse_id=order.final_warehouse_id,
            warehouse_code=codes.get(order.final_warehouse_id, ""),
            province=order.receiver_province,
            weight_g=weights.get(order.pk, 0),
            cod=order.is_cod,
            remarks=f"{order.buyer_remark} {order.seller_remark}",
            directives=tuple(
                courier_directive(r.pk, r.code, r.params or {})
                for r in matching_rules(rules, facts.get(order.pk, {}), memo)
            ),
        )
        if order.courier_id is not None:
            # An operator already picked it by hand (say, after a no_courier hold): keep that choice.
            choice = CourierChoice(order.courier_id, "chosen by an operator")
            results.append(CourierResult(order, choice))
            assigned.append(order)
            continue
        choice = choose_courier(request, couriers, rates)
        results.append(CourierResult(order, choice))
        decisions.add(
            order_id=order.pk,
            outcome="assigned" if choice.courier_id else "no_match",
            courier_id=choice.courier_id,
            warehouse_id=order.final_warehouse_id,
            rule_id=choice.rule_id,
            rule_code=choice.rule_code,
            reason=choice.reason,
            cost_minor=choice.cost_minor,
            plan={"weight_g": request.weight_g, "cod": request.cod},
        )
        if choice.courier_id is None:
            continue
        order.courier_id = choice.courier_id
        order.updated_at = now
        assigned.append(order)
        events.append(
            (
                order.pk,
                "courier_assigned",
                "",
                "",
                choice.reason,
                {"courier_id": choice.courier_id, "rule": choice.rule_code, "cost_minor": choice.cost_minor},
            )
        )
        audits.append((order, None, {"courier_id": choice.courier_id, "rule": choice.rule_code}, choice.reason))
    decisions.insert(now)
    audit_record_many(actor=actor, action=actions.ORDER_ASSIGN_COURIER, entries=audits)
    order_events_insert(rows=events, actor=actor)
    # The courier and the new status in one UPDATE per courier.
    orders_transition(
        orders=assigned,
        to_status=Status.PENDING_DISPATCH.value,
        actor=actor,
        reason="warehouse and courier assigned",
        fields=["courier_id", *fields],
    )
    for result in results:
        if result.choice.courier_id is None:
            order_intercept(order=result.order, reason_code="no_courier", reason=result.choice.reason, actor=actor)
    return results


@transaction.atomic(durable=True)
def orders_courier_assign(*, orders: Sequence[Order], actor: Actor) -> list[CourierResult]:
    """Assign couriers to every due order (allocated, no hold, no open stockout); others are left alone."""
    locked = lock_orders(o.pk for o in orders)
    ids = list(locked)
    blocked = open_holds(ids) | orders_short(ids)
    due = [o for o in locked.values() if courier_due(o) and o.pk not in blocked]
    return assign_couriers_locked(orders=due, actor=actor)


@transaction.atomic(durable=True)
def order_courier_set(*, order: Order, courier_code: str, actor: Actor, reason: str) -> Order:
    """An operator picks the courier by hand (before the WMS has the order). The courier must be able to
    carry the parcel; the reason is required and logged."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the courier is changed.", extra={"field": "reason"})
    courier = Courier.objects.filter(code=courier_code, is_active=True).first()
    if courier is None:
        raise NotFound(f"No active courier {courier_code}.", code="unknown_courier")
    locked = lock_orders([order.pk])[order.pk]
    if locked.status not in (Status.PENDING_REVIEW, Status.PENDING_DISPATCH) or locked.final_warehouse_id is None:
        raise Conflict(
            f"Order {locked.number} cannot change courier now (status {locked.status}).", code="courier_locked"
        )
    if locked.status == Status.PENDING_DISPATCH and _has_live_shipment(locked):
        raise Conflict(f"Order {locked.number} is already with the warehouse system.", code="already_dispatched")
    (option,) = [o for o in courier_options() if o.id == courier.pk]
    request = CourierRequest(
        order_id=locked.pk,
        warehouse_id=locked.final_warehouse_id,
        warehouse_code="",
        province=locked.receiver_province,
        weight_g=order_weights([locked.pk]).get(locked.pk, 0),
        cod=locked.is_cod,
        remarks="",
    )
    if not courier_capable(option, request):
        raise Conflict(
            f"{courier.name} cannot carry this parcel (region, weight or cash on delivery).", code="courier_incapable"
        )
    before = locked.courier_id
    order_courier_save(locked, courier=courier)
    AllocationDecision.objects.create(
        order=locked,
        kind=DecisionKind.COURIER,
        outcome="manual",
        courier=courier,
        warehouse_id=locked.final_warehouse_id,
        reason=reason[:300],
        actor_name=actor_name(actor),
    )
    order_event_record(
        order=locked,
        kind="courier_assigned",
        actor=actor,
        reason=reason,
        data={"courier_id": courier.pk, "manual": True},
    )
    audit_record(
        actor=actor,
        action=actions.ORDER_SET_COURIER,
        obj=locked,
        before={"courier_id": before},
        after={"courier_id": courier.pk},
        reason=reason,
    )
    return locked


def _has_live_shipment(order: Order) -> bool:
    return Shipment.objects.filter(order=order).exclude(state=ShipmentState.CANCELLED).exists()
