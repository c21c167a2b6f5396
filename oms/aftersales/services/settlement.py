"""A case's refund is settled by the refunds recorded on its order: finance's, a payment provider's signed
callback, or the platform paying the buyer back. A case is refunded once refunds have settled its whole amount
(partial refunds add up); each step is in the case timeline, the operation log and the outbox.

Orders hand every refund recorded on an order to ``cases_refund_settle`` (``orders.services.payments.
REFUND_RECORDED_HOOKS``, registered in ``oms.wiring``) with the order locked. What the refund settled of the
order's refund dues (its ``RefundSettlement`` rows) goes to the order's refunding cases — the case the refund
names (``raw["case"]``) first, then oldest first. Contexts above after-sales (invoicing: red-letter invoices)
hear of a refunded case through ``CASE_REFUNDED_HOOKS``, in the same transaction.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.db import transaction
from django.db.models import Sum

from oms.aftersales import actions
from oms.aftersales.domain import states
from oms.aftersales.models import Case
from oms.aftersales.services.steps import case_event, case_move
from oms.audit.services import audit_record
from oms.core.actors import Actor
from oms.orders.models import Order, Payment, RefundSettlement
from oms.review.services import refund_request_answer


class CaseRefundedHook(Protocol):
    """A case was refunded in full (``refund``: the refund that completed it, None for a case that refunds
    nothing). Runs in the refunding transaction with the order and the case locked. Registered in `oms.wiring`."""

    def __call__(self, *, case: Case, refund: Payment | None, actor: Actor) -> object: ...


CASE_REFUNDED_HOOKS: list[CaseRefundedHook] = []


@transaction.atomic(savepoint=False)
def case_refunded(*, case: Case, refund: Payment | None, actor: Actor) -> Case:
    """Mark a locked case in ``refunding`` as refunded: the transaction named on it, its platform refund request
    answered (the refund hold released when none is left open), then every ``CASE_REFUNDED_HOOKS`` entry."""
    if refund is not None:
        case.refund_transaction = f"{refund.method}:{refund.transaction_id}"[:100]
    data = {"transaction": case.refund_transaction, "settled_minor": case.settled_minor}
    case_move(case, states.REFUND, actor, data=data)
    if case.refund_request is not None:
        refund_request_answer(request=case.refund_request, actor=actor, note=f"售后 {case.number}")
    for hook in CASE_REFUNDED_HOOKS:
        hook(case=case, refund=refund, actor=actor)
    return case


@transaction.atomic(savepoint=False)
def cases_refund_settle(*, order: Order, refund: Payment, actor: Any) -> None:
    """Orders' refund hook (the order locked): what ``refund`` settled of the order's dues settles its refunding
    cases, the named one first, then oldest first; a case settled in full is refunded."""
    settled = int(RefundSettlement.objects.filter(refund=refund).aggregate(s=Sum("amount_minor"))["s"] or 0)
    if settled <= 0:
        return
    cases = list(
        Case.objects.select_for_update(of=("self",))
        .select_related("order", "refund_request")
        .filter(order=order, status=states.REFUNDING)
        .order_by("pk")
    )
    named = str((refund.raw or {}).get("case", ""))
    cases.sort(key=lambda c: c.number != named)
    for case in cases:
        take = min(settled, case.refund_minor - case.settled_minor)
        if take <= 0:
            continue
        settled -= take
        case.settled_minor += take
        if case.settled_minor >= case.refund_minor:
            case_refunded(case=case, refund=refund, actor=actor)
        else:
            _part_settled(case, refund, take, actor)
        if settled <= 0:
            break


def _part_settled(case: Case, refund: Payment, take: int, actor: Actor) -> None:
    """A refund settled part of the case: it stays refunding until the rest is settled."""
    case.save(update_fields=["settled_minor"])
    data = {"transaction": f"{refund.method}:{refund.transaction_id}", "amount_minor": take}
    case_event(case, "refunded_part", actor, before=case.status, data={**data, "settled_minor": case.settled_minor})
    audit_record(
        actor=actor,
        action=actions.CASE_REFUND_PART,
        obj=case,
        after={**data, "settled_minor": case.settled_minor, "refund_minor": case.refund_minor},
    )
