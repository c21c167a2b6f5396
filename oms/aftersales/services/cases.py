"""After-sales cases: open one on an order's units, take it through its kind's steps, refund it.

Every change locks the order first (orders' row lock), so two cases racing for the same units queue and the
second sees the first's claim. Money goes through orders' payment services (owed back when the refund is
fixed, settled when finance records the refund), the kept lines' figures through orders' line versions, the
platform refund request through review's services. Each step is in the case timeline, the operation log
and the outbox (``aftersales.*``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from oms.aftersales import actions
from oms.aftersales.domain import states
from oms.aftersales.domain.exchange import Exchange
from oms.aftersales.domain.recalculate import Policy, Recalculation, Step, recalculate, steps_as_data
from oms.aftersales.models import Case, CaseLine
from oms.aftersales.services.exchange import (
    ReplacementRequest,
    exchange_of_case,
    exchange_order_make,
    linked_order_announce,
    replacements_resolve,
    replacements_save,
)
from oms.aftersales.services.facts import OrderView, channel_policy, order_facts
from oms.aftersales.services.settlement import case_refunded
from oms.aftersales.services.steps import case_event, case_move
from oms.aftersales.services.unshipped import refund_before_shipment
from oms.audit.services import audit_record
from oms.core.actors import actor_user
from oms.core.errors import Conflict, FieldError, ValidationFailed
from oms.orders.domain.status import Status
from oms.orders.lock_objects import order_lock
from oms.orders.models import Order
from oms.orders.selectors import order_living_successors
from oms.orders.services.line_versions import LineFigures, order_lines_reapportion
from oms.orders.services.payments import payments_owe_back
from oms.orders.services.reissue import order_reissue_create
from oms.orders.services.timeline import order_event_record

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Statuses whose units are claimed but not yet written into the lines' figures.
_CLAIMING = (states.REQUESTED, states.APPROVED, states.AWAITING_RETURN, states.RECEIVED, states.INSPECTED)
_SHIPPED = (Status.PARTIALLY_SHIPPED, Status.SHIPPED, Status.SIGNED, Status.REJECTED)


@dataclass(frozen=True)
class CaseRequest:
    kind: str
    reason_code: str
    units: Mapping[int, int]  # order line no → units
    note: str = ""
    evidence: tuple[str, ...] = ()
    request_key: str = ""
    method: str = ""  # an override of the channel's policy (needs override_reason)
    override_reason: str = ""
    refund_request_id: int | None = None
    replacements: tuple[ReplacementRequest, ...] = ()  # an exchange's: what is sent instead


def _number() -> str:
    return f"AS{timezone.localtime():%y%m%d}{''.join(secrets.choice(_CROCKFORD) for _ in range(8))}"


def _fail(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, details=[FieldError(field, message, code)])


def _policy(order: Order, req: CaseRequest, actor: Any) -> tuple[Policy, str]:
    policy = channel_policy(channel_id=order.channel_id)
    if not req.method or req.method == policy.method:
        return policy, ""
    if req.method not in ("recalculate", "proportional"):
        raise _fail("method", "One of recalculate, proportional.", "choice")
    if not req.override_reason.strip():
        raise _fail("override_reason", "Overriding the channel's refund policy needs a reason.", "required")
    if actor is not None and not actor.has_perm("aftersales.override_policy"):
        raise _fail("method", "You may not override the channel's refund policy.", "forbidden")
    return Policy(req.method, policy.shipping, policy.gift), req.override_reason.strip()[:300]


def _check_order(order: Order, kind: str) -> None:
    """A cancelled order has nothing to return; a retired one (split or merged) lives on in its descendants."""
    if order.status == Status.CLOSED.value:
        living = order_living_successors(order_ids=[order.pk]).get(order.pk, [])
        if living:
            raise Conflict(
                f"Order {order.number} was replaced by {', '.join(o.number for o in living)}: open the case there.",
                code="order_retired",
                extra={"living_orders": [o.number for o in living]},
            )
    if order.status in (Status.CANCELLED.value, Status.INVALID.value, Status.CLOSED.value):
        raise _fail("order", f"Order {order.number} is {order.status}: no after-sales case.", "order_not_open")
    if kind in (*states.RETURNING_KINDS, states.REISSUE) and Status(order.status) not in _SHIPPED:
        raise _fail("kind", "Goods can only come back once the order has shipped.", "not_shipped")
    if kind == states.REFUND_ONLY and order.received_minor <= 0:
        raise _fail("kind", "Nothing was paid for this order: nothing to refund.", "not_paid")


def _units(view: OrderView, units: Mapping[int, int], claimed: Mapping[int, int]) -> list[int]:
    """Units per line position, checked against what the buyer still has less what open cases claim."""
    by_no = {ln.line_no: i for i, ln in enumerate(view.lines)}
    errors: list[FieldError] = []
    out = [0] * len(view.lines)
    for line_no, n in sorted(units.items()):
        field = f"lines.{line_no}"
        position = by_no.get(line_no)
        if position is None:
            errors.append(FieldError(field, f"The order has no line {line_no}.", "unknown_line"))
            continue
        left = view.facts.current[position].quantity - claimed.get(view.lines[position].pk, 0)
        if n <= 0:
            errors.append(FieldError(field, "Units must be at least 1.", "not_positive"))
        elif n > left:
            errors.append(
                FieldError(field, f"Line {line_no} has {max(left, 0)} unit(s) left for a case, not {n}.", "too_many")
            )
        else:
            out[position] = n
    if not units:
        errors.append(FieldError("lines", "Choose at least one line and its units.", "required"))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    return out


def _claimed(order: Order, *, excluding: int | None = None) -> dict[int, int]:
    # A reissue sends units again; it does not take any back.
    rows = CaseLine.objects.filter(case__order=order, case__status__in=_CLAIMING).exclude(case__kind=states.REISSUE)
    if excluding is not None:
        rows = rows.exclude(case_id=excluding)
    claimed: dict[int, int] = {}
    for line_id, n in rows.values_list("line_id", "quantity"):
        claimed[line_id] = claimed.get(line_id, 0) + n
    return claimed


def case_preview(*, order: Order, req: CaseRequest, actor: Any) -> Recalculation | Exchange:
    """What the case would refund (for an exchange: refund or what the buyer pays), explained; writes nothing."""
    _check_order(order, req.kind)
    view = order_facts(order=order)
    policy, _reason = _policy(order, req, actor)
    returning = _units(view, req.units, _claimed(order))
    return _priced(view, req, returning, policy)


def _priced(view: OrderView, req: CaseRequest, returning: list[int], policy: Policy) -> Recalculation | Exchange:
    if req.kind == states.REISSUE:
        return _nothing_back(view)
    if req.kind == states.EXCHANGE:
        from oms.aftersales.domain.exchange import price_exchange

        replacements, _skus = replacements_resolve(view, returning, req.replacements)
        return price_exchange(view.facts, returning, replacements, policy)
    if req.replacements:
        raise _fail("replacements", "Only an exchange sends replacements.", "not_exchange")
    return recalculate(view.facts, returning, policy)


def _replay(order: Order, req: CaseRequest) -> Case | None:
    if not req.request_key:
        return None
    return Case.objects.filter(order=order, request_key=req.request_key).first()


@transaction.atomic
def case_create(*, order: Order, req: CaseRequest, actor: Any) -> tuple[Case, bool]:
    """Open a case on the order's units; (case, created). A replay of the same request key returns the case it
    made and changes nothing. Refuses units that the buyer no longer has or another open case claims."""
    if req.kind not in states.KINDS:
        raise _fail("kind", f"One of {', '.join(states.KINDS)}.", "choice")
    if req.reason_code not in states.REASONS:
        raise _fail("reason_code", f"One of {', '.join(states.REASONS)}.", "choice")
    locked = order_lock(pk=order.pk)
    existing = _replay(locked, req)
    if existing is not None:
        return existing, False
    _check_order(locked, req.kind)
    policy, override_reason = _policy(locked, req, actor)
    view = order_facts(order=locked)
    returning = _units(view, req.units, _claimed(locked))
    result = _priced(view, req, returning, policy)
    case = Case(
        number=_number(),
        order=locked,
        channel_id=locked.channel_id,
        kind=req.kind,
        reason_code=req.reason_code,
        note=req.note[:500],
        evidence=[str(e)[:300] for e in req.evidence][:20],
        request_key=req.request_key[:64],
        method=policy.method,
        shipping_rule=policy.shipping,
        gift_rule=policy.gift,
        override_reason=override_reason,
        currency=locked.currency,
        refund_request_id=req.refund_request_id,
        created_by=actor_user(actor),
    )
    _apply(case, result)
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        raise Conflict("This request is being recorded by another call.", code="case_conflict") from None
    CaseLine.objects.bulk_create(
        [CaseLine(case=case, line=ln, quantity=n) for ln, n in zip(view.lines, returning, strict=True) if n]
    )
    if req.kind == states.EXCHANGE:
        replacements_save(case, view, *replacements_resolve(view, returning, req.replacements))
    case_event(case, "created", actor, data={"units": {str(k): v for k, v in sorted(req.units.items())}})
    order_event_record(order=locked, kind="aftersales_opened", actor=actor, data={"case": case.number})
    audit_record(
        actor=actor,
        action=actions.CASE_CREATE,
        obj=case,
        after={
            "kind": case.kind,
            "refund_minor": case.refund_minor,
            "method": case.method,
            **({"owed_minor": case.owed_minor} if case.owed_minor else {}),
        },
        reason=override_reason,
    )
    return case, True


def _nothing_back(view: OrderView) -> Recalculation:
    """A reissue refunds nothing and changes no line's figures."""
    paid = view.facts.received_minor - view.facts.refunded_minor
    return Recalculation(0, paid, view.facts.current, (Step("reissue", {}),))


def _apply(case: Case, result: Recalculation | Exchange) -> None:
    case.refund_minor = result.refund_minor
    case.owed_minor = result.owed_minor if isinstance(result, Exchange) else 0
    case.kept_charge_minor = result.kept_charge_minor
    case.explanation = steps_as_data(result.steps)
    case.blocking = steps_as_data(result.blocking)


def _case_locked(case: Case) -> tuple[Order, Case]:
    order = order_lock(pk=case.order_id)
    return order, Case.objects.select_for_update(of=("self",)).select_related("order", "refund_request").get(pk=case.pk)


def _fix_refund(order: Order, case: Case, actor: Any) -> None:
    """The refund becomes final: recalculated on the order's figures now, the kept lines re-apportioned as a new
    version, and the amount flagged as owed back on the order's payments."""
    view = order_facts(order=order)
    units = dict(case.lines.values_list("line_id", "quantity"))
    returning = [units.get(ln.pk, 0) for ln in view.lines]
    result: Recalculation | Exchange
    if case.kind == states.EXCHANGE:
        result, replacements = exchange_of_case(case, view)
    else:
        result = recalculate(view.facts, returning, Policy(case.method, case.shipping_rule, case.gift_rule))
    if result.blocking:
        raise Conflict(
            "A gift given under a threshold no longer met must come back with the return first.",
            code="gift_must_return",
            extra={"blocking": steps_as_data(result.blocking)},
        )
    _apply(case, result)
    figures = [
        LineFigures(ln.pk, v.quantity, v.paid_minor, v.shipping_minor)
        for ln, v, before in zip(view.lines, result.lines_after, view.facts.current, strict=True)
        if v != before
    ]
    if figures:
        order_lines_reapportion(order=order, figures=figures, source=case.number, actor=actor)
    if isinstance(result, Exchange):
        case.linked_order = exchange_order_make(order=order, case=case, exchange=result, rows=replacements, actor=actor)
    if result.refund_minor:
        payments_owe_back(order=order, amount_minor=result.refund_minor)
    if case.kind == states.REFUND_ONLY:
        refund_before_shipment(order=order, case=case, kept=[v.quantity for v in result.lines_after], actor=actor)


@transaction.atomic
def case_act(case: Case, action: str, *, actor: Any, note: str = "") -> Case:
    """approve, refuse or close a case (receipts, inspections and refunds have their own services)."""
    if action not in (states.APPROVE, states.REFUSE, states.CLOSE):
        raise _fail("action", "One of approve, refuse, close.", "choice")
    order, locked = _case_locked(case)
    if action == states.REFUSE and not note.strip():
        raise _fail("note", "Say why the case is refused.", "required")
    target = states.action_check(locked.kind, locked.status, action)
    if target == states.REFUNDING:
        _fix_refund(order, locked, actor)
    if locked.kind == states.REISSUE and action == states.APPROVE:
        units = [(cl.line, cl.quantity) for cl in locked.lines.select_related("line").order_by("line__line_no")]
        locked.linked_order = order_reissue_create(original=order, units=units, source=locked.number, actor=actor)
        linked_order_announce(case=locked, parent=order, child=locked.linked_order, actor=actor)
    if target == states.AWAITING_RETURN:
        # Expected back at the warehouse that shipped it (inbound until received).
        locked.warehouse_id = order.final_warehouse_id or order.warehouse_id
    case_move(locked, action, actor, note=note)
    return locked


def _per_line(locked: Case, counts: Mapping[int, int], field: str) -> dict[int, int]:
    by_no = {cl.line.line_no: cl.line_id for cl in locked.lines.select_related("line")}
    errors = [
        FieldError(f"{field}.{no}", f"The case has no line {no}.", "unknown_line") for no in counts if no not in by_no
    ]
    errors += [
        FieldError(f"{field}.{no}", "Units cannot be negative.", "negative") for no, n in counts.items() if n < 0
    ]
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    return {by_no[no]: n for no, n in counts.items() if n}


@transaction.atomic
def case_receive(case: Case, *, units: Mapping[int, int], actor: Any, note: str = "") -> Case:
    """Goods came back (per order line no): partial receipts add up; all received moves the case on. Refuses
    more than the case expects."""
    _order, locked = _case_locked(case)
    states.action_check(locked.kind, locked.status, states.RECEIVE)
    wanted = _per_line(locked, units, "received")
    rows = {cl.line_id: cl for cl in locked.lines.all()}
    errors = [
        FieldError(
            f"received.{rows[lid].line.line_no}",
            f"Only {rows[lid].quantity - rows[lid].received_quantity} more unit(s) are expected.",
            "too_many",
        )
        for lid, n in wanted.items()
        if rows[lid].received_quantity + n > rows[lid].quantity
    ]
    if errors or not wanted:
        raise ValidationFailed("Nothing to receive." if not errors else "Too many units.", details=errors)
    for lid, n in wanted.items():
        rows[lid].received_quantity += n
    CaseLine.objects.bulk_update(list(rows.values()), ["received_quantity"])
    data = {str(rows[lid].line.line_no): n for lid, n in wanted.items()}
    if all(cl.received_quantity == cl.quantity for cl in rows.values()):
        case_move(locked, states.RECEIVE, actor, note=note, data=data)
    else:
        case_event(locked, "received_part", actor, before=locked.status, note=note, data=data)
    return locked


RECEIPT_LEASE = timedelta(minutes=5)


@transaction.atomic
def case_inspection_record(case: Case, *, good: Mapping[int, int], defective: Mapping[int, int], actor: Any) -> Case:
    """Decide every received unit good or defective (RECEIVED → INSPECTED); an inspected case is left as it is.
    The goods go into stock after this commits (``case_inspect``)."""
    _order, locked = _case_locked(case)
    if locked.status in (states.INSPECTED, states.REFUNDING, states.REFUNDED):
        return _inspect_replay(locked, good, defective)
    states.action_check(locked.kind, locked.status, states.INSPECT)
    if locked.warehouse_id is None:
        raise _fail("warehouse", "The order has no warehouse to take the goods back into.", "no_warehouse")
    good_by = _per_line(locked, good, "good")
    bad_by = _per_line(locked, defective, "defective")
    rows = {cl.line_id: cl for cl in locked.lines.select_related("line")}
    errors = [
        FieldError(
            f"good.{cl.line.line_no}",
            f"{cl.received_quantity} unit(s) were received on line {cl.line.line_no}: decide each once.",
            "not_received",
        )
        for lid, cl in rows.items()
        if good_by.get(lid, 0) + bad_by.get(lid, 0) != cl.received_quantity
    ]
    errors += [
        FieldError(f"good.{cl.line.line_no}", "The line's SKU is not mapped: map it before inspecting.", "unmapped")
        for cl in rows.values()
        if cl.line.sku_id is None and cl.received_quantity
    ]
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    for lid, cl in rows.items():
        cl.good_quantity = good_by.get(lid, 0)
        cl.defective_quantity = bad_by.get(lid, 0)
    CaseLine.objects.bulk_update(list(rows.values()), ["good_quantity", "defective_quantity"])
    data = {str(cl.line.line_no): [cl.good_quantity, cl.defective_quantity] for cl in rows.values()}
    case_move(locked, states.INSPECT, actor, data=data)
    return locked


def _inspect_replay(locked: Case, good: Mapping[int, int], defective: Mapping[int, int]) -> Case:
    """The same inspection again changes nothing; another one of an inspected case is refused."""
    recorded = {
        (cl.line.line_no, cl.good_quantity, cl.defective_quantity) for cl in locked.lines.select_related("line")
    }
    asked = {(no, good.get(no, 0), defective.get(no, 0)) for no, _g, _d in recorded}
    if recorded != asked:
        raise Conflict(f"Case {locked.number} was already inspected otherwise.", code="case_already_inspected")
    return locked


@transaction.atomic
def _receipt_claim(case: Case) -> bool:
    """Whether this call posts the stock receipt: once per case (a stale claim may be taken over)."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    now = timezone.now()
    if locked.receipt_document_id is not None or locked.status != states.INSPECTED:
        return False
    if locked.receipt_claimed_at is not None and now - locked.receipt_claimed_at < RECEIPT_LEASE:
        return False
    locked.receipt_claimed_at = now
    locked.save(update_fields=["receipt_claimed_at"])
    return True


def _receipt_post(case: Case, actor: Any) -> int | None:
    """The goods go back into stock through inventory's receipt service: good units on hand (channel quotas
    recomputed), defective ones as defective stock (C4), in a batch named after the case."""
    from oms.inventory.services.documents import DocLine, stock_receipt_create

    lines = [
        DocLine(sku_id=cl.line.sku_id, quantity=n, batch_no=case.number, is_defective=bad)
        for cl in case.lines.select_related("line")
        for n, bad in ((cl.good_quantity, False), (cl.defective_quantity, True))
        if n and cl.line.sku_id is not None
    ]
    if not lines or case.warehouse_id is None:
        return None
    doc = stock_receipt_create(warehouse_id=case.warehouse_id, lines=lines, actor=actor, note=f"售后 {case.number}")
    return int(doc.pk)


@transaction.atomic
def _inspect_settle(case: Case, document_id: int | None, actor: Any) -> Case:
    order, locked = _case_locked(case)
    if locked.status != states.INSPECTED:
        return locked
    if document_id is not None:
        locked.receipt_document_id = document_id
    _fix_refund(order, locked, actor)
    data: dict[str, Any] = {"receipt_document": document_id}
    if locked.linked_order is not None:
        data["linked_order"] = locked.linked_order.number
    case_move(locked, states.SETTLE, actor, data=data)
    if locked.kind == states.EXCHANGE and locked.refund_minor == 0:
        # Nothing to pay back: the exchange is settled once its order is made (the buyer pays any difference there).
        case_refunded(case=locked, refund=None, actor=actor)
    return locked


def case_inspect(case: Case, *, good: Mapping[int, int], defective: Mapping[int, int], actor: Any) -> Case:
    """Inspection decides per unit received: good or defective, every received unit once. The goods then go into
    stock (one receipt per case, however often this is called) and the refund is fixed and owed back. A call
    after a crash part-way takes the case on from where it stopped."""
    locked = case_inspection_record(case, good=good, defective=defective, actor=actor)
    if _receipt_claim(locked):
        document_id = _receipt_post(locked, actor)
        return _inspect_settle(locked, document_id, actor)
    locked.refresh_from_db()
    if locked.status == states.INSPECTED and locked.receipt_document_id is None and locked.warehouse_id is not None:
        has_goods = locked.lines.filter(line__sku__isnull=False).exclude(good_quantity=0, defective_quantity=0)
        if has_goods.exists():
            return locked  # another call is posting the receipt; it will settle the case
    return _inspect_settle(locked, locked.receipt_document_id, actor)


def case_refund(case: Case, *, method: str, transaction_id: str, actor: Any) -> Case:
    """Finance pays the refund: recorded through orders' payment service, naming the case, for what is still
    unsettled of it; the refund settles what was owed back and the case is refunded by that settlement (see
    ``settlement``), its platform refund request closed. A replay of the same transaction changes nothing; a case
    that refunds nothing is refunded at once."""
    from oms.orders.models import PaymentKind
    from oms.orders.services.payments import payment_record

    current = Case.objects.select_related("order").get(pk=case.pk)
    if current.status == states.REFUNDED and current.refund_transaction == f"{method}:{transaction_id}":
        return current
    states.action_check(current.kind, current.status, states.REFUND)
    if not transaction_id.strip():
        raise _fail("transaction_id", "The refund's transaction id is required.", "required")
    if current.refund_minor > current.settled_minor:
        payment_record(
            order=current.order,
            method=method,
            transaction_id=transaction_id,
            amount_minor=current.refund_minor - current.settled_minor,
            paid_at=None,
            actor=actor,
            kind=PaymentKind.REFUND,
            raw={"case": current.number},
        )
        current.refresh_from_db()
        return current
    with transaction.atomic():
        _order, locked = _case_locked(current)
        if locked.status == states.REFUNDING:
            locked.refund_transaction = f"{method}:{transaction_id}"[:100]
            case_refunded(case=locked, refund=None, actor=actor)
    return locked
