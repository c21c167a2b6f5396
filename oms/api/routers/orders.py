"""Orders API: intake (one, bulk), list with keyset pagination, detail, cancel.

Intake bodies are read and checked by the intake itself rather than by the schema, so a bad order
is answered with every problem at once (422, each with its field path), and a bad order in a bulk
batch never blocks the good ones.
"""

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from ninja.responses import NinjaJSONEncoder

from oms.api.auth import require_perm
from oms.api.contract import answers
from oms.api.fields import hidden_keys, redact
from oms.api.guard import per_item_validation
from oms.api.routers.order_schemas import (
    BulkIn,
    InvoiceIn,
    OrderCancelIn,
    OrderIn,
    OrderPageOut,
    json_body,
    order_detail,
    order_summary,
)
from oms.api.types import Day, PageSize
from oms.core.errors import ApplicationError, FieldError, ValidationFailed
from oms.orders.selectors import OrderFilters, order_get, order_list
from oms.orders.services.cancel import order_cancel
from oms.orders.services.idempotency import (
    StoredResponse,
    idempotency_begin,
    idempotency_finish,
    request_fingerprint,
)
from oms.orders.services.intake import IntakeOutcome, order_intake, order_intake_bulk
from oms.orders.services.remarks import order_remarks_update

router = Router(tags=["orders"])


def _json(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            "The body is not valid JSON.", details=[FieldError("body", "Not valid JSON.", "bad_json")]
        ) from None


def _respond(status: int, body: Any, *, replayed: bool = False) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, cls=NinjaJSONEncoder, ensure_ascii=False), status=status, content_type="application/json"
    )
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def with_idempotency(request: HttpRequest, handle: Callable[[], tuple[int, Any]]) -> HttpResponse:
    """Run ``handle`` once per Idempotency-Key (when the client sends one), replaying its stored answer."""
    key = request.headers.get("Idempotency-Key", "")
    hidden = hidden_keys(request.user)
    if not key:
        status, body = _call(handle)
        return _respond(status, redact(body, hidden))
    claim = idempotency_begin(
        operator=request.user,
        key=key,
        method=request.method or "POST",
        path=request.path,
        fingerprint=request_fingerprint(method=request.method or "POST", path=request.path, body=request.body),
    )
    if isinstance(claim, StoredResponse):
        return _respond(claim.status, claim.body, replayed=True)
    try:
        status, body = _call(handle)
    except BaseException:
        idempotency_finish(record=claim, status=500, body=None)
        raise
    stored = json.loads(_respond(status, redact(body, hidden)).content)
    idempotency_finish(record=claim, status=status, body=stored)
    return _respond(status, stored)


def _call(handle: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    try:
        return handle()
    except ApplicationError as exc:
        return exc.status, {"error": exc.as_dict()}


def _outcome_out(outcome: IntakeOutcome) -> dict[str, Any]:
    if outcome.error is not None:
        return {
            "index": outcome.index,
            "result": "error",
            "status": outcome.error.status,
            "error": outcome.error.as_dict(),
        }
    assert outcome.order is not None
    if outcome.return_case:
        return {
            "index": outcome.index,
            "result": "created" if outcome.created else "existing",
            "status": 201 if outcome.created else 200,
            "order_number": outcome.order.number,
            "order_status": outcome.order.status,
            "aftersales_case": outcome.return_case,
        }
    if outcome.successors:
        first = outcome.successors[0]
        return {
            "index": outcome.index,
            "result": "existing",
            "status": 200,
            "order_number": first.number,
            "order_status": first.status,
            "replaced": True,
            "original_number": outcome.order.number,
            "order_numbers": [o.number for o in outcome.successors],
        }
    return {
        "index": outcome.index,
        "result": "created" if outcome.created else "existing",
        "status": 201 if outcome.created else 200,
        "order_number": outcome.order.number,
        "order_status": outcome.order.status,
    }


@router.post("/orders", openapi_extra=json_body(OrderIn), summary="Take in one order")
@require_perm("orders.add_order")
@answers(201)
def order_create(request: HttpRequest, refuse_when_short: bool = False) -> HttpResponse:
    """201 with the new order; 200 with the existing one for an identical replay of the same platform
    order; 409 when that platform order was taken in with other content (listing the differences) or,
    with ``refuse_when_short`` on a store/distributor/manual channel, when stock is short; 422 with every
    invalid field. A replay of a platform order whose order was since split or merged answers 200 with the
    living orders that replaced it: ``{"replaced": true, "original_number", "order_numbers", "orders"}``. An
    order of type return is an after-sales return on its original order (found by ``original_platform_order_id``,
    else ``platform_order_id``): 201 ``{"result": "aftersales_return", "aftersales_case", "original_number"}``,
    422 when there is no such original."""

    def handle() -> tuple[int, Any]:
        outcome = order_intake(payload=_json(request), actor=request.user, refuse_when_short=refuse_when_short)
        assert outcome.order is not None
        if outcome.return_case:
            # An order of type return became an after-sales return on its original order.
            return (201 if outcome.created else 200), {
                "result": "aftersales_return",
                "aftersales_case": outcome.return_case,
                "original_number": outcome.order.number,
            }
        if outcome.successors:
            return 200, {
                "result": "existing",
                "replaced": True,
                "original_number": outcome.order.number,
                "order_numbers": [o.number for o in outcome.successors],
                "orders": [order_detail(order_get(number=o.number)) for o in outcome.successors],
            }
        return (201 if outcome.created else 200), order_detail(order_get(number=outcome.order.number))

    return with_idempotency(request, handle)


@router.post("/orders/bulk", openapi_extra=json_body(BulkIn), summary="Take in up to 1,000 orders")
@require_perm("orders.add_order")
@per_item_validation
def order_create_bulk(request: HttpRequest) -> HttpResponse:
    """One result per order, in order: created, existing (identical replay) or error (with the same body
    a single intake would answer). The batch itself answers 200 unless the envelope is malformed."""

    def handle() -> tuple[int, Any]:
        body = _json(request)
        orders = body.get("orders") if isinstance(body, dict) else None
        limit = settings.OMS["BULK_INTAKE_MAX"]
        if not isinstance(orders, list) or not orders:
            raise ValidationFailed(
                'Send {"orders": [...]} with at least one order.',
                details=[FieldError("orders", "A non-empty list is required.", "required")],
            )
        if len(orders) > limit:
            raise ValidationFailed(
                f"At most {limit} orders per batch.",
                details=[FieldError("orders", f"{len(orders)} orders; at most {limit}.", "too_many")],
            )
        refuse = bool(body.get("refuse_when_short", False))
        outcomes = order_intake_bulk(payloads=orders, actor=request.user, refuse_when_short=refuse)
        results = [_outcome_out(o) for o in outcomes]
        counts = {k: sum(1 for r in results if r["result"] == k) for k in ("created", "existing", "error")}
        return 200, {"results": results, "counts": counts}

    return with_idempotency(request, handle)


class OrderListQuery(Schema):
    status: str = ""
    channel: str = ""
    type: str = ""
    created_from: Day | None = None
    created_to: Day | None = None
    paid_from: Day | None = None
    paid_to: Day | None = None
    platform_order_id: str = ""
    buyer_phone: str = ""
    sku: str = ""
    q: str = ""
    living_only: bool = False
    cursor: str = ""
    limit: PageSize = 50


@router.get("/orders", response=OrderPageOut, summary="List orders (keyset pagination)")
@require_perm("orders.view_order")
def order_index(request: HttpRequest, query: Query[OrderListQuery]) -> dict[str, Any]:
    """Newest first. A look-up by ``platform_order_id`` or ``q`` finds an order and the orders a split or
    merge made of it: living orders first, replaced ones after them (``retired: true``);
    ``living_only=true`` leaves the replaced ones out."""
    page = order_list(
        filters=OrderFilters(
            status=query.status,
            channel=query.channel,
            order_type=query.type,
            created_from=query.created_from,
            created_to=query.created_to,
            paid_from=query.paid_from,
            paid_to=query.paid_to,
            platform_order_id=query.platform_order_id,
            buyer_phone=query.buyer_phone,
            sku=query.sku,
            q=query.q,
            living_only=query.living_only,
        ),
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": [order_summary(o) for o in page.items], "next_cursor": page.next_cursor}


@router.get("/orders/{number}", summary="One order with lines, money, payments and timeline")
@require_perm("orders.view_order")
def order_show(request: HttpRequest, number: str) -> dict[str, Any]:
    return order_detail(order_get(number=number))


@router.post("/orders/{number}/cancel", summary="Cancel an order with a reason")
@require_perm("orders.cancel_order")
def order_cancel_endpoint(request: HttpRequest, number: str, payload: OrderCancelIn) -> dict[str, Any]:
    """409 naming the current status and the allowed next ones when the order can no longer be cancelled."""
    order_cancel(order=order_get(number=number), actor=request.user, reason=payload.reason)
    return order_detail(order_get(number=number))


class RemarksIn(Schema):
    seller_remark: str | None = None
    invoice: InvoiceIn | None = None


@router.patch("/orders/{number}/remarks", summary="Change the seller remark and/or the invoice request")
@require_perm("orders.edit_remarks")
def order_remarks(request: HttpRequest, number: str, payload: RemarksIn) -> dict[str, Any]:
    order_remarks_update(
        order=order_get(number=number),
        actor=request.user,
        seller_remark=payload.seller_remark,
        invoice=payload.invoice.model_dump() if payload.invoice is not None else None,
    )
    return order_detail(order_get(number=number))
