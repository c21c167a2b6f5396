"""After-sales API (售后): preview and open a case on an order, the queue, a case, and each step of it."""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from oms.aftersales.domain import states
from oms.aftersales.domain.exchange import Exchange
from oms.aftersales.explain import explain_render
from oms.aftersales.models import Case
from oms.aftersales.selectors import MAX_AGE_DAYS, CaseFilters, case_counts, case_get, case_list
from oms.aftersales.services.cases import (
    CaseRequest,
    case_act,
    case_create,
    case_inspect,
    case_preview,
    case_receive,
    case_refund,
)
from oms.aftersales.services.exchange import ReplacementRequest
from oms.api.auth import require_perm
from oms.api.types import OrderUnitsByLine
from oms.core.domain.limits import MAX_ORDER_LINE_QUANTITY
from oms.core.domain.money import format_minor, parse_minor
from oms.orders.models import Order
from oms.orders.selectors import order_get

router = Router(tags=["aftersales"])


class ReplacementIn(Schema):
    replaces: int = Field(..., description="The order line no (returned by this case) it takes the place of.")
    sku: str = Field(..., max_length=64, description="The replacement's SKU code.")
    quantity: int = Field(..., ge=1, le=MAX_ORDER_LINE_QUANTITY)
    unit_price: str | None = Field(
        None, description='Its list price ("130.00"); default: the replaced line\'s, for the same SKU.'
    )


class CaseIn(Schema):
    kind: str = Field(..., description="refund_only, return_refund, exchange, reissue, rejected")
    reason_code: str = Field(..., description=", ".join(states.REASONS))
    units: OrderUnitsByLine = Field(..., description="Order line no → units.", examples=[{"2": 1}])
    note: str = Field("", max_length=500)
    evidence: list[str] = Field([], max_length=20, description="References to photos or documents.")
    request_key: str = Field("", max_length=64, description="A replay of the same key returns the same case.")
    method: str = Field("", description="Override the channel's refund policy: recalculate or proportional.")
    override_reason: str = Field("", max_length=300)
    refund_request_id: int | None = Field(None, description="The platform refund request this case answers.")
    replacements: list[ReplacementIn] = Field(
        [], max_length=20, description="An exchange's replacements (换货): what is sent instead of returned units."
    )


class NoteIn(Schema):
    note: str = Field("", max_length=500)


class UnitsIn(Schema):
    units: OrderUnitsByLine = Field(..., description="Order line no → units received.")
    note: str = Field("", max_length=500)


class InspectIn(Schema):
    good: OrderUnitsByLine = Field({}, description="Order line no → good units (back to sellable stock).")
    defective: OrderUnitsByLine = Field({}, description="Order line no → defective units.")


class RefundIn(Schema):
    method: str = Field(..., examples=["alipay"])
    transaction_id: str = Field(..., min_length=1, max_length=64)


def _order(number: str) -> Order:
    return order_get(number=number)


def _replacements(body: CaseIn, currency: str) -> tuple[ReplacementRequest, ...]:
    return tuple(
        ReplacementRequest(
            replaces=r.replaces,
            sku_code=r.sku,
            quantity=r.quantity,
            unit_price_minor=None
            if r.unit_price is None
            else parse_minor(r.unit_price, currency, field=f"replacements[{i}].unit_price"),
        )
        for i, r in enumerate(body.replacements)
    )


def _request(body: CaseIn, order: Order) -> CaseRequest:
    return CaseRequest(
        kind=body.kind,
        reason_code=body.reason_code,
        units=body.units,
        note=body.note,
        evidence=tuple(body.evidence),
        request_key=body.request_key,
        method=body.method,
        override_reason=body.override_reason,
        refund_request_id=body.refund_request_id,
        replacements=_replacements(body, order.currency),
    )


def case_out(case: Case) -> dict[str, Any]:
    c = case.currency
    return {
        "number": case.number,
        "order": case.order.number,
        "channel": case.channel.code,
        "kind": case.kind,
        "status": case.status,
        "reason_code": case.reason_code,
        "note": case.note,
        "evidence": list(case.evidence),
        "policy": {"method": case.method, "shipping": case.shipping_rule, "gift": case.gift_rule},
        "override_reason": case.override_reason,
        "refund": format_minor(case.refund_minor, c),
        "refund_settled": format_minor(case.settled_minor, c),
        "buyer_pays": format_minor(case.owed_minor, c),
        "kept_charge": format_minor(case.kept_charge_minor, c),
        "explanation": explain_render(case.explanation, c),
        "explanation_steps": list(case.explanation),
        "blocking": explain_render(case.blocking, c),
        "allowed_actions": states.actions_allowed(case.kind, case.status),
        "lines": [
            {
                "line_no": cl.line.line_no,
                "units": cl.quantity,
                "received": cl.received_quantity,
                "good": cl.good_quantity,
                "defective": cl.defective_quantity,
            }
            for cl in case.lines.select_related("line").order_by("line__line_no")
        ],
        "timeline": [
            {
                "at": e.at.isoformat(),
                "kind": e.kind,
                "from": e.from_status,
                "to": e.to_status,
                "actor": e.actor_name,
                "note": e.note,
                "data": e.data,
            }
            for e in case.events.all()
        ],
        "replacements": [
            {
                "replaces": r.replaces.line_no,
                "sku": r.sku.code,
                "quantity": r.quantity,
                "unit_price": format_minor(r.unit_price_minor, c),
                "priced_at": format_minor(r.paid_minor, c),
            }
            for r in case.replacements.select_related("replaces", "sku").order_by("pk")
        ],
        "linked_order": case.linked_order.number if case.linked_order else None,
        "created_at": case.created_at.isoformat(),
    }


@router.post("/orders/{number}/aftersales/preview", response=dict[str, Any])
@require_perm("aftersales.add_case", "orders.view_order")
def aftersales_preview(request: HttpRequest, number: str, body: CaseIn) -> dict[str, Any]:
    order = _order(number)
    result = case_preview(order=order, req=_request(body, order), actor=request.user)
    steps = [{"code": s.code, "params": dict(s.params)} for s in result.steps]
    blocking = [{"code": s.code, "params": dict(s.params)} for s in result.blocking]
    return {
        "refund": format_minor(result.refund_minor, order.currency),
        "buyer_pays": format_minor(result.owed_minor if isinstance(result, Exchange) else 0, order.currency),
        "kept_charge": format_minor(result.kept_charge_minor, order.currency),
        "explanation": explain_render(steps, order.currency),
        "explanation_steps": steps,
        "blocking": explain_render(blocking, order.currency),
    }


@router.post("/orders/{number}/aftersales", response={200: dict[str, Any], 201: dict[str, Any]})
@require_perm("aftersales.add_case", "orders.view_order")
def aftersales_create(request: HttpRequest, number: str, body: CaseIn) -> Status[dict[str, Any]]:
    order = _order(number)
    case, created = case_create(order=order, req=_request(body, order), actor=request.user)
    return Status(201 if created else 200, case_out(case))


@router.get("/aftersales", response=dict[str, Any])
@require_perm("aftersales.view_case")
def aftersales_list(
    request: HttpRequest,
    kind: str = "",
    status: str = "",
    channel: str = "",
    reason: str = "",
    older_than_days: int | None = Query(None, ge=0, le=MAX_AGE_DAYS),
    order: str = "",
    limit: int = Query(100, ge=1, le=500),
) -> dict[str, Any]:
    filters = CaseFilters(kind, status, channel, reason, older_than_days, order)
    cases = case_list(filters=filters, limit=limit)
    return {
        "counts": case_counts(filters=filters),
        "items": [
            {
                "number": c.number,
                "order": c.order.number,
                "channel": c.channel.code,
                "kind": c.kind,
                "status": c.status,
                "reason_code": c.reason_code,
                "refund": format_minor(c.refund_minor, c.currency),
                "created_at": c.created_at.isoformat(),
            }
            for c in cases
        ],
    }


@router.get("/aftersales/{number}", response=dict[str, Any])
@require_perm("aftersales.view_case")
def aftersales_get(request: HttpRequest, number: str) -> dict[str, Any]:
    return case_out(case_get(number=number))


@router.post("/aftersales/{number}/approve", response=dict[str, Any])
@require_perm("aftersales.approve_case")
def aftersales_approve(request: HttpRequest, number: str, body: NoteIn) -> dict[str, Any]:
    return case_out(case_act(case_get(number=number), states.APPROVE, actor=request.user, note=body.note))


@router.post("/aftersales/{number}/refuse", response=dict[str, Any])
@require_perm("aftersales.approve_case")
def aftersales_refuse(request: HttpRequest, number: str, body: NoteIn) -> dict[str, Any]:
    return case_out(case_act(case_get(number=number), states.REFUSE, actor=request.user, note=body.note))


@router.post("/aftersales/{number}/close", response=dict[str, Any])
@require_perm("aftersales.approve_case")
def aftersales_close(request: HttpRequest, number: str, body: NoteIn) -> dict[str, Any]:
    return case_out(case_act(case_get(number=number), states.CLOSE, actor=request.user, note=body.note))


@router.post("/aftersales/{number}/receive", response=dict[str, Any])
@require_perm("aftersales.receive_return")
def aftersales_receive(request: HttpRequest, number: str, body: UnitsIn) -> dict[str, Any]:
    return case_out(case_receive(case_get(number=number), units=body.units, actor=request.user, note=body.note))


@router.post("/aftersales/{number}/inspect", response=dict[str, Any])
@require_perm("aftersales.inspect_return")
def aftersales_inspect(request: HttpRequest, number: str, body: InspectIn) -> dict[str, Any]:
    case = case_inspect(case_get(number=number), good=body.good, defective=body.defective, actor=request.user)
    return case_out(case)


@router.post("/aftersales/{number}/refund", response=dict[str, Any])
@require_perm("aftersales.refund_case")
def aftersales_refund(request: HttpRequest, number: str, body: RefundIn) -> dict[str, Any]:
    case = case_refund(
        case_get(number=number), method=body.method, transaction_id=body.transaction_id, actor=request.user
    )
    return case_out(case)
