"""Review API: rules (list, save, validate, facts), review and force review, dry run, interceptions."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from oms.api.auth import require_perm
from oms.api.types import Id, PageSize
from oms.core.domain.money import parse_minor
from oms.core.errors import NotFound
from oms.core.rules import RuleParseError, compile_condition
from oms.orders.models import Order
from oms.review.domain.facts import ORDER_FACTS
from oms.review.models import Interception, Rule, RuleKind
from oms.review.selectors import interception_list
from oms.review.services import (
    ReviewOutcome,
    interceptions_release,
    order_force_review,
    order_review,
    order_review_dry_run,
    refund_request_close,
    refund_request_receive,
    rule_save,
)

router = Router(tags=["review"])


class RuleOut(Schema):
    id: int
    kind: str
    code: str
    name: str
    condition: str
    reason: str
    params: dict[str, Any]
    priority: int
    enabled: bool


class RuleIn(Schema):
    kind: RuleKind = RuleKind.REVIEW
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    condition: str = Field(min_length=1, max_length=2000)
    reason: str = Field("", max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)
    priority: int = Field(100, ge=0, le=1_000_000)
    enabled: bool = True


class ConditionIn(Schema):
    condition: str = Field(max_length=2000)


class ConditionCheckOut(Schema):
    valid: bool
    message: str = ""
    position: int | None = None


class FactOut(Schema):
    name: str
    type: str
    description: str


class InterceptionOut(Schema):
    id: int
    order: str
    reason_code: str
    reason: str
    state: str
    after_review: bool
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str


class ReleaseIn(Schema):
    ids: list[Id] = Field(min_length=1, max_length=500)
    note: str = Field(min_length=1, max_length=300)


class ForceReviewIn(Schema):
    reason: str = Field(min_length=1, max_length=300)


class ReviewOut(Schema):
    order: str
    passed: bool
    open_interceptions: list[str]


class HitOut(Schema):
    code: str
    name: str
    reason: str
    matched: bool


class DryRunOut(Schema):
    facts: dict[str, Any]
    hits: list[HitOut]
    draft_matches: bool | None = None


class RefundRequestCloseIn(Schema):
    note: str = Field(min_length=1, max_length=300, description="Why it is closed (withdrawn, refused, paid out).")


class RefundRequestIn(Schema):
    platform_refund_id: str = Field(min_length=1, max_length=64)
    amount: str
    reason: str = Field("", max_length=300)


def _order(number: str) -> Order:
    order = Order.objects.filter(number=number).first()
    if order is None:
        raise NotFound(f"No order {number}.")
    return order


def _interception_out(i: Interception) -> InterceptionOut:
    return InterceptionOut(
        id=i.pk,
        order=i.order.number,
        reason_code=i.reason_code,
        reason=i.reason,
        state=i.state,
        after_review=i.after_review,
        created_at=i.created_at,
        resolved_at=i.resolved_at,
        resolved_by=i.resolved_by.get_username() if i.resolved_by else None,
        resolution_note=i.resolution_note,
    )


def _review_out(o: ReviewOutcome) -> ReviewOut:
    return ReviewOut(order=o.order.number, passed=o.passed, open_interceptions=o.open_codes)


@router.get("/rules", response=list[RuleOut])
@require_perm("review.view_rule")
def rule_index(request: HttpRequest, kind: RuleKind | None = None) -> list[Rule]:
    qs = Rule.objects.order_by("kind", "priority", "id")
    return list(qs.filter(kind=kind) if kind else qs)


@router.get("/rules/facts", response=list[FactOut])
@require_perm("review.view_rule")
def rule_facts(request: HttpRequest) -> list[FactOut]:
    return [FactOut(name=f.name, type=f.type.value, description=f.description) for f in ORDER_FACTS]


@router.post("/rules/validate", response=ConditionCheckOut)
@require_perm("review.view_rule")
def rule_validate(request: HttpRequest, body: ConditionIn) -> ConditionCheckOut:
    try:
        compile_condition(body.condition, ORDER_FACTS)
    except RuleParseError as exc:
        return ConditionCheckOut(valid=False, message=exc.message, position=exc.position)
    return ConditionCheckOut(valid=True)


@router.post("/rules", response={201: RuleOut})
@require_perm("review.edit_rules")
def rule_create(request: HttpRequest, body: RuleIn) -> Status[Rule]:
    return Status(201, rule_save(rule=None, data=body.dict(), actor=request.user))


@router.put("/rules/{rule_id}", response=RuleOut)
@require_perm("review.edit_rules")
def rule_update(request: HttpRequest, rule_id: Id, body: RuleIn) -> Rule:
    rule = Rule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(f"No rule {rule_id}.")
    return rule_save(rule=rule, data=body.dict(), actor=request.user)


@router.get("/interceptions", response=list[InterceptionOut])
@require_perm("review.view_interception")
def interception_index(
    request: HttpRequest, state: str = "open", reason_code: str = "", order: str = "", limit: PageSize = 100
) -> list[InterceptionOut]:
    qs = interception_list(state=state, reason_code=reason_code, order_number=order)[: max(1, min(limit, 500))]
    return [_interception_out(i) for i in qs]


@router.post("/interceptions/release", response=list[ReviewOut])
@require_perm("review.release_interception")
def interception_release(request: HttpRequest, body: ReleaseIn) -> list[ReviewOut]:
    return [
        _review_out(o) for o in interceptions_release(interception_ids=body.ids, actor=request.user, note=body.note)
    ]


@router.post("/orders/{number}/review", response=ReviewOut)
@require_perm("orders.review")
def order_review_now(request: HttpRequest, number: str) -> ReviewOut:
    return _review_out(order_review(order=_order(number), actor=request.user))


@router.post("/orders/{number}/force-review", response=ReviewOut)
@require_perm("orders.review", "review.release_interception")
def order_review_force(request: HttpRequest, number: str, body: ForceReviewIn) -> ReviewOut:
    order = order_force_review(order=_order(number), actor=request.user, reason=body.reason)
    return ReviewOut(order=order.number, passed=True, open_interceptions=[])


@router.get("/orders/{number}/review/dry-run", response=DryRunOut)
@require_perm("review.view_rule", "orders.view_order")
def order_review_preview(request: HttpRequest, number: str, condition: str | None = None) -> DryRunOut:
    result = order_review_dry_run(order=_order(number), condition=condition)
    return DryRunOut(
        facts={k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in result["facts"].items()},
        hits=[HitOut(code=h.code, name=h.name, reason=h.reason, matched=h.matched) for h in result["hits"]],
        draft_matches=result.get("draft_matches"),
    )


@router.post("/orders/{number}/refund-requests", response={201: dict[str, Any]})
@require_perm("review.add_refundrequest")
def order_refund_request(request: HttpRequest, number: str, body: RefundRequestIn) -> Status[dict[str, Any]]:
    order = _order(number)
    amount = parse_minor(body.amount, order.currency, field="amount")
    refund = refund_request_receive(
        order=order,
        platform_refund_id=body.platform_refund_id,
        amount_minor=amount,
        reason=body.reason,
        actor=request.user,
    )
    return Status(201, {"id": refund.pk, "order": order.number, "platform_refund_id": refund.platform_refund_id})


@router.post("/orders/{number}/refund-requests/{platform_refund_id}/close", response=dict[str, Any])
@require_perm("review.change_refundrequest")
def order_refund_request_close(
    request: HttpRequest, number: str, platform_refund_id: str, body: RefundRequestCloseIn
) -> dict[str, Any]:
    """The platform closed a refund request: close it here; the order's refund hold is released with the last
    open one. 404 when the order has no open request of that id."""
    order = _order(number)
    closed = refund_request_close(
        order=order, platform_refund_id=platform_refund_id, actor=request.user, note=body.note
    )
    if closed is None:
        raise NotFound(f"No open refund request {platform_refund_id} on {number}.", code="refund_request_not_found")
    return {"id": closed.pk, "order": order.number, "platform_refund_id": closed.platform_refund_id, "open": False}
