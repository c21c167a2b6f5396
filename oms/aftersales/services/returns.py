"""Goods coming back reported by the warehouse: a parcel the recipient refused (拒收) opens a refused-delivery case
by itself, and a signed WMS callback reports a return's receipt (``returned``) and inspection (``inspected``), as
shipments are reported today.

Fulfilment hands a rejected parcel to ``rejected_parcel_case`` (``fulfillment.services.delivery.
PARCEL_REJECTED_HOOKS``) and a return callback to ``RETURN_CALLBACKS`` (``fulfillment.services.wms``), both
registered in ``oms.wiring``; the callback's signature, event id (a repeat changes nothing) and shipment are checked
there. A return callback names its case, or the one case of the order's shipment awaiting (or, for an inspection,
having received) goods at that warehouse; lines are ``{"<order line no>": units}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oms.aftersales.domain import states
from oms.aftersales.models import Case
from oms.aftersales.services.cases import (
    CaseRequest,
    case_act,
    case_create,
    case_inspect,
    case_inspection_record,
    case_receive,
)
from oms.core.actors import Actor
from oms.core.errors import ApplicationError, FieldError, ValidationFailed
from oms.orders.models import Order


def rejected_parcel_case(
    *, order: Order, units: dict[int, int], reference: str, reason: str, actor: Actor
) -> Case | None:
    """A refused parcel is coming back: a refused-delivery case for its units, approved (awaiting the goods at the
    warehouse that shipped them), once per parcel. None when its units are already another case's."""
    req = CaseRequest(
        kind=states.REJECTED,
        reason_code="rejected",
        units=units,
        note=f"拒收 {reference}: {reason}"[:500],
        request_key=f"rejected:{reference}"[:64],
    )
    try:
        case, created = case_create(order=order, req=req, actor=actor)
    except ApplicationError:
        return None
    if created:
        case = case_act(case, states.APPROVE, actor=actor, note=f"拒收 {reference}")
    return case


def _counts(data: Mapping[str, Any], key: str, errors: list[FieldError]) -> dict[int, int]:
    raw = data.get(key) or {}
    if not isinstance(raw, Mapping):
        errors.append(FieldError(key, 'Units per order line no: {"2": 1}.', "invalid"))
        return {}
    out: dict[int, int] = {}
    for no, n in raw.items():
        try:
            out[int(no)] = int(n)
        except (TypeError, ValueError):
            errors.append(FieldError(f"{key}.{no}", "A whole number of units.", "invalid"))
    return out


def _case_of(order: Order, data: Mapping[str, Any], statuses: tuple[str, ...]) -> Case:
    number = str(data.get("case") or "").strip()
    cases = Case.objects.filter(order=order, kind__in=states.RETURNING_KINDS)
    found = list(cases.filter(number=number) if number else cases.filter(status__in=statuses).order_by("pk")[:2])
    if len(found) != 1:
        message = (
            f"Order {order.number} has no after-sales case {number}."
            if number
            else f"Name the case: order {order.number} has {'no' if not found else 'more than one'} return expected."
        )
        raise ValidationFailed(message, details=[FieldError("case", message, "unknown_case" if number else "case")])
    return found[0]


def wms_return_received(*, order: Order, shipment: Any, data: dict[str, Any], actor: Actor) -> str:
    """The warehouse received returned goods (partial receipts add up)."""
    errors: list[FieldError] = []
    units = _counts(data, "lines", errors)
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    case = _case_of(order, data, (states.AWAITING_RETURN,))
    case_receive(case, units=units, actor=actor, note=str(data.get("note") or "")[:500])
    return "applied"


def _inspection(order: Order, data: Mapping[str, Any]) -> tuple[Case, dict[int, int], dict[int, int]]:
    errors: list[FieldError] = []
    good, defective = _counts(data, "good", errors), _counts(data, "defective", errors)
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    case = _case_of(order, data, (states.RECEIVED, states.INSPECTED))
    return case, good, defective


def wms_return_inspected(*, order: Order, shipment: Any, data: dict[str, Any], actor: Actor) -> str:
    """The warehouse decided every received unit good or defective: recorded in the callback's transaction; the
    goods go into stock and the refund is fixed right after it (``wms_return_inspected_finish``)."""
    case, good, defective = _inspection(order, data)
    if case.status != states.RECEIVED:
        return "ignored"
    case_inspection_record(case, good=good, defective=defective, actor=actor)
    return "applied"


def wms_return_inspected_finish(*, order_number: str, data: dict[str, Any], actor: Actor) -> None:
    """After the callback committed (and for a repeat of it): the inspected goods into stock, the refund fixed —
    resumed from wherever an earlier call stopped, nothing done twice."""
    order = Order.objects.get(number=order_number)
    try:
        case, good, defective = _inspection(order, data)
    except ValidationFailed:
        return  # no case is being inspected any more: an earlier call finished it
    if case.status == states.INSPECTED:
        case_inspect(case, good=good, defective=defective, actor=actor)
