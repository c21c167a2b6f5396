"""Review (审单): run the review rules, hold orders with interceptions, release them, force review.

An order passes review when, after the rules ran, it has no open interception; ``reviewed_at``
then marks it reviewed (S6 reads it). A rule an operator already released on this order is not
raised again when review re-runs, so releasing the last hold lets the order through.

A refund recorded before the order leaves holds it (``refunded``, through `order_refund_intercept`,
registered on the orders' refund hook). An order refunded in full never passes: review holds it again
whatever was released, its ``refunded`` hold cannot be released and it cannot be forced through; it is
cancelled instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record, audit_record_many
from oms.core.actors import Actor, actor_user
from oms.core.bulk import ids_in
from oms.core.domain.money import format_minor
from oms.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from oms.core.rules import ConditionMemo, compile_condition, condition_matches, prepare_facts
from oms.orders.domain.payments import refunded_in_full
from oms.orders.domain.status import Status
from oms.orders.lock_objects import order_lock, orders_for_update
from oms.orders.models import Order, Payment
from oms.orders.services.timeline import EventRow, order_event_record, order_events_insert
from oms.orders.services.updates import order_reviewed_save, orders_mark_reviewed
from oms.review import actions
from oms.review.domain.facts import ORDER_FACTS
from oms.review.models import (
    BlacklistEntry,
    BlacklistKind,
    Interception,
    InterceptionState,
    RefundRequest,
    Rule,
    RuleKind,
)
from oms.review.selectors import order_facts_many

# Holds raised after review stop the order only until it is handed to the warehouse.
INTERCEPTABLE_AFTER_REVIEW = (Status.PENDING_REVIEW, Status.PENDING_SPLIT, Status.PENDING_DISPATCH)
# The hold a recorded refund raises (退款拦截); on an order refunded in full it cannot be released.
REFUNDED = "refunded"


class ReviewPassedHook(Protocol):
    """Orders an operator let through review (审单, 放行, 强制审核) move on at once instead of at the next
    pipeline run, so the console never shows 待审核 on an order that passed. Registered in `oms.wiring`
    (fulfilment advances them); called after the commit, each on its own."""

    def __call__(self, *, order_ids: Sequence[int], actor: Actor) -> None: ...


REVIEW_PASSED_HOOKS: list[ReviewPassedHook] = []


def _after_commit_advance(order_ids: Sequence[int], actor: Actor) -> None:
    ids = sorted(set(order_ids))
    if not ids:
        return
    for hook in REVIEW_PASSED_HOOKS:
        transaction.on_commit(lambda hook=hook: hook(order_ids=ids, actor=actor), robust=True)  # type: ignore[misc]


@dataclass(frozen=True)
class RuleHit:
    rule_id: int
    code: str
    name: str
    reason: str
    matched: bool


@dataclass
class ReviewOutcome:
    order: Order
    passed: bool
    raised: list[Interception] = field(default_factory=list)
    open_codes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # what the rules saw: the pipeline's later steps reuse it


def review_rules() -> list[Rule]:
    return list(Rule.objects.filter(kind=RuleKind.REVIEW, enabled=True).order_by("priority", "id"))


def rules_evaluate(*, rules: Sequence[Rule], facts: dict[str, Any]) -> list[RuleHit]:
    """Every rule's verdict on one order's facts, in rule order (the dry-run shows all of them)."""
    return _evaluate([(r, compile_condition(r.condition, ORDER_FACTS)) for r in rules], facts, None)


def _evaluate(compiled: Sequence[tuple[Rule, Any]], facts: dict[str, Any], memo: ConditionMemo | None) -> list[RuleHit]:
    prepared = prepare_facts(facts)
    check = memo.matches if memo is not None else condition_matches
    return [
        RuleHit(rule_id=r.pk, code=r.code, name=r.name, reason=r.reason or r.name, matched=check(condition, prepared))
        for r, condition in compiled
    ]


def order_review_dry_run(*, order: Order, condition: str | None = None) -> dict[str, Any]:
    """Which rules this order hits now, without changing anything; optionally a draft condition too."""
    order = Order.objects.select_related("channel", "customer").get(pk=order.pk)
    facts = order_facts_many(orders=[order])[order.pk]
    result: dict[str, Any] = {"facts": facts, "hits": rules_evaluate(rules=review_rules(), facts=facts)}
    if condition is not None:
        result["draft_matches"] = condition_matches(compile_condition(condition, ORDER_FACTS), facts)
    return result


@transaction.atomic(savepoint=False)
def _review_locked(*, orders: list[Order], actor: Actor) -> list[ReviewOutcome]:
    rules = review_rules()
    facts = order_facts_many(orders=orders)
    ids = [o.pk for o in orders]
    handled: dict[int, set[str]] = {o.pk: set() for o in orders}
    open_codes: dict[int, set[str]] = {o.pk: set() for o in orders}
    for order_id, code, state in Interception.objects.filter(ids_in("order_id", ids)).values_list(
        "order_id", "reason_code", "state"
    ):
        (open_codes if state == InterceptionState.OPEN else handled)[order_id].add(code)

    now = timezone.now()
    new_holds: list[Interception] = []
    outcomes: list[ReviewOutcome] = []
    # Each condition is compiled once for the batch, and run once per distinct set of facts it reads.
    compiled = [(r, compile_condition(r.condition, ORDER_FACTS)) for r in rules]
    memo = ConditionMemo()
    for order in orders:
        raised = [
            Interception(order=order, rule_id=hit.rule_id, reason_code=hit.code, reason=hit.reason[:300])
            for hit in _evaluate(compiled, facts[order.pk], memo)
            if hit.matched and hit.code not in handled[order.pk] and hit.code not in open_codes[order.pk]
        ]
        if refunded_in_full(order.payment_status) and REFUNDED not in open_codes[order.pk] | _codes(raised):
            raised.append(_refunded_hold(order))
        new_holds += raised
        still_open = sorted(open_codes[order.pk] | {h.reason_code for h in raised})
        outcomes.append(
            ReviewOutcome(
                order=order, passed=not still_open, raised=raised, open_codes=still_open, facts=facts[order.pk]
            )
        )
    Interception.objects.bulk_create(new_holds)

    events: list[EventRow] = []
    passed = [o.order for o in outcomes if o.passed]
    for outcome in outcomes:
        order = outcome.order
        if outcome.passed:
            order.reviewed_at = now
            order.updated_at = now
            events.append((order.pk, "reviewed", "", "", "", None))
        elif outcome.raised:
            events.append(
                (
                    order.pk,
                    "intercepted",
                    "",
                    "",
                    "; ".join(h.reason for h in outcome.raised)[:500],
                    {"codes": [h.reason_code for h in outcome.raised]},
                )
            )
    audit_record_many(
        actor=actor,
        action=actions.ORDER_REVIEW,
        entries=[(o.order, None, {"passed": o.passed, "open": o.open_codes}, "") for o in outcomes],
    )
    # Every order passed now gets the same time: one plain UPDATE, not a CASE per row.
    orders_mark_reviewed(orders=passed, at=now)
    order_events_insert(rows=events, actor=actor)
    return outcomes


def _codes(holds: Sequence[Interception]) -> set[str]:
    return {h.reason_code for h in holds}


def _refunded_hold(order: Order) -> Interception:
    reason = f"refunded {format_minor(order.refunded_minor, order.currency)} / received " + format_minor(
        order.received_minor, order.currency
    )
    return Interception(order=order, reason_code=REFUNDED, reason=reason)


def _refuse_if_refunded(order: Order) -> None:
    if refunded_in_full(order.payment_status):
        raise Conflict(
            f"Order {order.number} is refunded in full: cancel it instead of letting it through.",
            code="order_refunded",
            extra={"order": order.number},
        )


def _lock_with_relations(pks: list[int]) -> dict[int, Order]:
    """Lock the orders (pk order), then read them with channel and customer: FOR UPDATE cannot take
    the nullable side of the customer join, so the lock and the joined read are two statements."""
    list(orders_for_update(pks=pks).values_list("pk", flat=True))
    return {
        o.pk: o for o in Order.objects.filter(ids_in("pk", pks)).select_related("channel", "customer").order_by("pk")
    }


def orders_review(*, orders: Sequence[Order], actor: Actor) -> list[ReviewOutcome]:
    """Review many orders in one transaction (the automatic pipeline). Orders not pending review, or
    already reviewed, are left alone and not reported."""
    with transaction.atomic():
        locked = _lock_with_relations([o.pk for o in orders])
        due = [o for o in locked.values() if o.status == Status.PENDING_REVIEW and o.reviewed_at is None]
        return _review_locked(orders=due, actor=actor) if due else []


@transaction.atomic(durable=True)
def order_review(*, order: Order, actor: Actor) -> ReviewOutcome:
    """Review one order now (manual 审单). 409 unless it is pending review and not yet reviewed."""
    locked = order_lock(pk=order.pk)
    if locked.status != Status.PENDING_REVIEW or locked.reviewed_at is not None:
        raise Conflict(
            f"Order {locked.number} is not waiting for review (status {locked.status}).",
            code="not_pending_review",
            extra={"status": locked.status, "reviewed": locked.reviewed_at is not None},
        )
    locked = Order.objects.select_related("channel", "customer").get(pk=locked.pk)
    outcome = _review_locked(orders=[locked], actor=actor)[0]
    if outcome.passed:
        _after_commit_advance([locked.pk], actor)
    return outcome


@transaction.atomic(savepoint=False)
def _resolve(holds: Sequence[Interception], *, state: str, actor: Actor, note: str) -> None:
    now = timezone.now()
    for hold in holds:
        hold.state = state
        hold.resolved_at = now
        hold.resolved_by = actor_user(actor)
        hold.resolution_note = note[:300]
    Interception.objects.bulk_update(holds, ["state", "resolved_at", "resolved_by", "resolution_note"])
    for hold in holds:
        order_event_record(
            order=hold.order, kind="interception_released", actor=actor, reason=note, data={"code": hold.reason_code}
        )
        audit_record(
            actor=actor,
            action=actions.INTERCEPTION_RELEASE,
            obj=hold,
            object_repr=f"{hold.order.number} {hold.reason_code}",
            before={"state": InterceptionState.OPEN},
            after={"state": state},
            reason=note,
        )


def _require_note(note: str, field_name: str = "note") -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(f"Say why ({field_name} is required).", extra={"field": field_name})
    return note


@transaction.atomic(durable=True)
def interceptions_release(*, interception_ids: Sequence[int], actor: Actor, note: str) -> list[ReviewOutcome]:
    """Release holds (放行), then re-run review on their orders so an order with no hold left passes."""
    note = _require_note(note)
    holds = list(
        Interception.objects.select_for_update().filter(pk__in=interception_ids).select_related("order").order_by("pk")
    )
    missing = set(interception_ids) - {h.pk for h in holds}
    if missing:
        raise NotFound(f"Unknown interceptions: {sorted(missing)}.", code="not_found")
    not_open = [h.pk for h in holds if h.state != InterceptionState.OPEN]
    if not_open:
        raise Conflict(f"Interceptions {not_open} are not open.", code="interception_not_open")
    order_ids = sorted({h.order_id for h in holds})
    locked = _lock_with_relations(order_ids)
    for hold in holds:
        hold.order = locked[hold.order_id]
        if hold.reason_code == REFUNDED:
            _refuse_if_refunded(hold.order)
    _resolve(holds, state=InterceptionState.RELEASED, actor=actor, note=note)
    due = [o for o in locked.values() if o.status == Status.PENDING_REVIEW and o.reviewed_at is None]
    outcomes = _review_locked(orders=due, actor=actor) if due else []
    # Orders reviewed before (a hold raised after review) move on too once nothing holds them.
    still_held = set(
        Interception.objects.filter(ids_in("order_id", order_ids), state=InterceptionState.OPEN).values_list(
            "order_id", flat=True
        )
    )
    _after_commit_advance([pk for pk in order_ids if pk not in still_held], actor)
    return outcomes


@transaction.atomic(durable=True)
def order_force_review(*, order: Order, actor: Actor, reason: str) -> Order:
    """Pass review despite open holds (强制审核): every open hold is released with the mandatory reason."""
    reason = _require_note(reason, "reason")
    locked = order_lock(pk=order.pk)
    if locked.status not in (Status.PENDING_REVIEW, Status.PENDING_SPLIT, Status.PENDING_DISPATCH):
        raise Conflict(f"Order {locked.number} is past review (status {locked.status}).", code="not_reviewable")
    _refuse_if_refunded(locked)
    holds = list(Interception.objects.select_for_update().filter(order=locked, state=InterceptionState.OPEN))
    for hold in holds:
        hold.order = locked
    _resolve(holds, state=InterceptionState.RELEASED, actor=actor, note=f"forced: {reason}")
    if locked.reviewed_at is None:
        order_reviewed_save(locked, at=timezone.now())
    order_event_record(order=locked, kind="review_forced", actor=actor, reason=reason)
    audit_record(
        actor=actor, action=actions.ORDER_FORCE_REVIEW, obj=locked, reason=reason, after={"released": len(holds)}
    )
    _after_commit_advance([locked.pk], actor)
    return locked


# How a carried release is noted on the new order (rendered by the code hold.released_on_parent).
CARRIED_NOTE = "released on {order}: {note}"


@transaction.atomic(savepoint=False)
def interceptions_carry_released(*, parents: Sequence[Order], children: Sequence[Order], actor: Actor) -> int:
    """A split or merge before review runs the review rules again on the new orders (S6), but what an operator
    already decided stands: a hold released on the original order is recorded released on each new order (with
    who released it and their note), so the rules do not raise it again. A merge carries a release only when
    every merged order had it released: a remark released on one order says nothing about the other's remark.
    After review nothing is carried: the new orders are not reviewed again. Returns the holds written."""
    due = [c for c in children if c.reviewed_at is None]
    if not due or not parents:
        return 0
    released: dict[int, dict[str, Interception]] = {p.pk: {} for p in parents}
    for hold in Interception.objects.filter(
        ids_in("order_id", [p.pk for p in parents]), state=InterceptionState.RELEASED
    ).order_by("resolved_at", "pk"):
        released[hold.order_id][hold.reason_code] = hold  # the latest release of each code
    common = set.intersection(*(set(codes) for codes in released.values()))
    numbers = {p.pk: p.number for p in parents}
    now = timezone.now()
    carried: list[Interception] = []
    for code in sorted(common):
        source = max((released[p.pk][code] for p in parents), key=lambda h: (h.resolved_at or now, h.pk))
        note = CARRIED_NOTE.format(order=numbers[source.order_id], note=source.resolution_note)[:300]
        for child in due:
            carried.append(
                Interception(
                    order=child,
                    rule_id=source.rule_id,
                    reason_code=code,
                    reason=source.reason,
                    state=InterceptionState.RELEASED,
                    resolved_at=now,
                    resolved_by_id=source.resolved_by_id,
                    resolution_note=note,
                )
            )
    Interception.objects.bulk_create(carried)
    order_events_insert(
        rows=[
            (h.order_id, "interception_released", "", "", h.resolution_note, {"code": h.reason_code}) for h in carried
        ],
        actor=actor,
    )
    return len(carried)


def interceptions_void(*, order_ids: Sequence[int], actor: Actor, note: str) -> int:
    """The open holds of orders that are retired (replaced by others) no longer apply: void, not released
    (the rules judge the orders that replace them again)."""
    return Interception.objects.filter(order_id__in=list(order_ids), state=InterceptionState.OPEN).update(
        state=InterceptionState.VOID, resolved_at=timezone.now(), resolved_by=actor_user(actor), resolution_note=note
    )


@transaction.atomic(savepoint=False)
def order_intercept(*, order: Order, reason_code: str, reason: str, actor: Actor) -> Interception | None:
    """Hold an order for something that happened to it (a refund request, a changed remark). Before
    review the hold simply joins the review; after review it stops the order until dispatch, and
    once the order is with the warehouse it is too late to hold here (None)."""
    if order.status not in INTERCEPTABLE_AFTER_REVIEW:
        return None
    existing = Interception.objects.filter(order=order, reason_code=reason_code, state=InterceptionState.OPEN).first()
    if existing is not None:
        return existing
    hold = Interception.objects.create(
        order=order, reason_code=reason_code, reason=reason[:300], after_review=order.reviewed_at is not None
    )
    order_event_record(order=order, kind="intercepted", actor=actor, reason=reason, data={"codes": [reason_code]})
    audit_record(actor=actor, action=actions.ORDER_INTERCEPT, obj=order, after={"code": reason_code}, reason=reason)
    return hold


@transaction.atomic(savepoint=False)
def order_refund_intercept(*, order: Order, refund: Payment, actor: Any) -> None:
    """A refund was recorded on the order (the orders' refund hook, order locked): hold it until somebody
    decides what still ships. Once it is with the warehouse it is too late to hold here."""
    amount = format_minor(refund.amount_minor, refund.currency)
    note = f"{refund.method}:{refund.transaction_id} {amount}"
    if refund.excess_minor:
        note += f" (beyond received: {format_minor(refund.excess_minor, refund.currency)})"
    order_intercept(order=order, reason_code=REFUNDED, reason=note, actor=actor)


@transaction.atomic(durable=True)
def refund_request_receive(
    *, order: Order, platform_refund_id: str, amount_minor: int, reason: str, actor: Actor
) -> RefundRequest:
    """A buyer asked the platform for a refund: record it once and hold the order (退款拦截)."""
    if amount_minor < 0:
        raise ValidationFailed("amount must not be negative.", extra={"field": "amount"})
    locked = order_lock(pk=order.pk)
    request, created = RefundRequest.objects.get_or_create(
        order=locked,
        platform_refund_id=platform_refund_id,
        defaults={"amount_minor": amount_minor, "reason": reason[:300]},
    )
    if created:
        audit_record(
            actor=actor, action=actions.REFUND_REQUEST_RECEIVE, obj=request, after={"amount_minor": amount_minor}
        )
        order_intercept(
            order=locked, reason_code="refund", reason=f"退款申请 {platform_refund_id}: {reason}", actor=actor
        )
    return request


@transaction.atomic(durable=True)
def refund_request_close(*, order: Order, platform_refund_id: str, actor: Any, note: str) -> RefundRequest | None:
    """The platform closed a refund (withdrawn, refused or paid out): the request is no longer open, and when
    it was the order's last open one, the order's refund hold (退款拦截) is released. None when there was no
    open request of that id (a repeat is a no-op)."""
    locked = order_lock(pk=order.pk)
    request = RefundRequest.objects.filter(order=locked, platform_refund_id=platform_refund_id, is_open=True).first()
    if request is None:
        return None
    request.is_open = False
    request.save(update_fields=["is_open"])
    audit_record(actor=actor, action=actions.REFUND_REQUEST_CLOSE, obj=request, after={"is_open": False}, reason=note)
    if not RefundRequest.objects.filter(order=locked, is_open=True).exists():
        holds = list(
            Interception.objects.filter(
                order=locked, reason_code="refund", state=InterceptionState.OPEN
            ).select_related("order")
        )
        if holds:
            _resolve(holds, state=InterceptionState.RELEASED, actor=actor, note=note)
    return request


class RuleParamCheck(Protocol):
    """Contexts above review check the parameters of their rule kinds (fulfilment: warehouse and courier
    targets) without review importing them, raising ValidationFailed. Registered in `oms.wiring`."""

    def __call__(self, *, kind: str, params: Any) -> None: ...


RULE_PARAM_CHECKS: dict[str, RuleParamCheck] = {}


@transaction.atomic(durable=True)
def rule_save(*, rule: Rule | None, data: dict[str, Any], actor: Actor) -> Rule:
    """Create or change a rule; a condition that does not parse is refused with its position."""
    compile_condition(str(data.get("condition", rule.condition if rule else "")), ORDER_FACTS)
    fields = ["kind", "code", "name", "condition", "reason", "params", "priority", "enabled"]
    before = {f: getattr(rule, f) for f in fields} if rule else None
    target = rule or Rule()
    for name in fields:
        if name in data:
            setattr(target, name, data[name])
    target.updated_at = timezone.now()
    check = RULE_PARAM_CHECKS.get(target.kind)
    if check is not None:
        check(kind=target.kind, params=target.params)
    target.full_clean()
    target.save()
    after = {f: getattr(target, f) for f in fields}
    if before is not None:
        changed = [f for f in fields if before[f] != after[f]]
        before, after = {f: before[f] for f in changed}, {f: after[f] for f in changed}
    audit_record(actor=actor, action=actions.RULE_SAVE, obj=target, before=before, after=after)
    return target


@transaction.atomic(savepoint=False)
def refund_request_answer(*, request: RefundRequest, actor: Any, note: str) -> bool:
    """An after-sales case answered the buyer's platform refund request: close it, and release the order's refund
    hold (退款拦截) once no other request of the order is open. Closing a closed request changes nothing."""
    locked = RefundRequest.objects.select_for_update().get(pk=request.pk)
    if not locked.is_open:
        return False
    locked.is_open = False
    locked.save(update_fields=["is_open"])
    audit_record(actor=actor, action=actions.REFUND_REQUEST_CLOSE, obj=locked, after={"is_open": False}, reason=note)
    still_open = RefundRequest.objects.filter(order_id=locked.order_id, is_open=True).exists()
    if not still_open:
        holds = list(
            Interception.objects.select_related("order").filter(
                order_id=locked.order_id, reason_code="refund", state=InterceptionState.OPEN
            )
        )
        if holds:
            _resolve(holds, state=InterceptionState.RELEASED, actor=actor, note=note)
    return True


@transaction.atomic(durable=True)
def blacklist_add(*, kind: str, value: str, note: str, actor: Actor) -> BlacklistEntry:
    """Put a buyer id, phone or address keyword on the blacklist (the seeded 黑名单 rule holds their orders at
    review); adding what is listed already changes nothing."""
    value = (value or "").strip()
    if kind not in BlacklistKind.values:
        raise ValidationFailed("Nothing to blacklist.", details=[FieldError("kind", "Unknown kind.", "unknown")])
    if not value:
        raise ValidationFailed("Nothing to blacklist.", details=[FieldError("value", "Enter a value.", "required")])
    entry, created = BlacklistEntry.objects.get_or_create(kind=kind, value=value[:200], defaults={"note": note[:200]})
    if created:
        audit_record(actor=actor, action=actions.BLACKLIST_ADD, obj=entry, after={"kind": kind, "value": entry.value})
    return entry


@transaction.atomic(durable=True)
def blacklist_remove(*, kind: str, value: str, actor: Actor) -> bool:
    """Take an entry off the blacklist; False when it was not there."""
    entry = BlacklistEntry.objects.filter(kind=kind, value=(value or "").strip()).first()
    if entry is None:
        return False
    audit_record(actor=actor, action=actions.BLACKLIST_REMOVE, obj=entry, before={"kind": kind, "value": entry.value})
    entry.delete()
    return True
