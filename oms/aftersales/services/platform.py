"""Platform refunds (平台退款) and after-sales cases: a refund the buyer asks for on the platform opens a case
(refund only, linked to the platform's refund request) unless one already answers it; the platform paying the
buyer back is recorded as the order's refund, which settles the case (partial amounts add up); a refund the
platform closed unpaid (withdrawn, refused) closes a case still open.

Connectors hand every refund of a pulled order to ``platform_refund_case`` (``connectors.services.changes.
PLATFORM_REFUND_HOOKS``, registered in ``oms.wiring``) after the refund request is recorded or closed.
"""

from __future__ import annotations

from oms.aftersales.domain import states
from oms.aftersales.models import Case
from oms.aftersales.services.cases import CaseRequest, case_act, case_create
from oms.connectors.domain.mapped import MappedRefund, RefundState
from oms.core.actors import Actor
from oms.core.errors import ApplicationError
from oms.orders.models import Order, PaymentKind
from oms.orders.selectors import order_lines_current
from oms.orders.services.payments import payment_record
from oms.review.models import RefundRequest

# The payment method a refund the platform paid out is recorded under, and its transaction id's prefix.
PLATFORM_METHOD = "platform"
_OPEN = (states.REQUESTED, states.APPROVED, states.AWAITING_RETURN)


def _units(order: Order, platform_line_id: str) -> dict[int, int]:
    """The units the buyer still has: of the line the platform names, else of every line."""
    current = [(ln, q) for ln, q, _paid, _ship in order_lines_current(order=order) if q > 0]
    named = [(ln, q) for ln, q in current if platform_line_id and ln.platform_line_id == platform_line_id]
    return {ln.line_no: q for ln, q in (named or current)}


def _open_case(order: Order, request: RefundRequest, refund: MappedRefund, actor: Actor) -> Case | None:
    req = CaseRequest(
        kind=states.REFUND_ONLY,
        reason_code="other",
        units=_units(order, refund.platform_line_id),
        note=f"平台退款 {refund.platform_refund_id}: {refund.reason}"[:500],
        request_key=f"platform-refund:{refund.platform_refund_id}"[:64],
        refund_request_id=request.pk,
    )
    try:
        case, _created = case_create(order=order, req=req, actor=actor)
    except ApplicationError:
        # Nothing left to claim (another case has the units, nothing was paid): the request stays open and holds
        # the order until a person links or answers it.
        return None
    return case


def platform_refund_case(*, order: Order, refund: MappedRefund, actor: Actor) -> Case | None:
    """Open, settle or close the case answering a platform refund; the case, or None when there is none."""
    request = RefundRequest.objects.filter(order=order, platform_refund_id=refund.platform_refund_id).first()
    if request is None:
        return None
    case = Case.objects.filter(refund_request=request).exclude(status__in=states.ENDED).order_by("pk").first()
    if refund.state is RefundState.CLOSED:
        if case is not None and case.status in _OPEN:
            case = case_act(case, states.CLOSE, actor=actor, note=f"平台退款已关闭 {refund.platform_refund_id}")
        return case
    if case is None:
        case = _open_case(order, request, refund, actor)
    if case is None or refund.state is not RefundState.SUCCESS:
        return case
    if case.kind == states.REFUND_ONLY and case.status == states.REQUESTED:
        case = case_act(case, states.APPROVE, actor=actor, note=f"平台已退款 {refund.platform_refund_id}")
    if case.status == states.REFUNDING and refund.amount_minor > 0:
        _platform_paid(case, refund, actor)
        case.refresh_from_db()
    return case


def _platform_paid(case: Case, refund: MappedRefund, actor: Actor) -> None:
    """The platform paid the buyer back: the order's refund, naming the case (a repeat changes nothing)."""
    payment_record(
        order=case.order,
        method=PLATFORM_METHOD,
        transaction_id=f"refund:{refund.platform_refund_id}"[:64],
        amount_minor=refund.amount_minor,
        paid_at=None,
        actor=actor,
        kind=PaymentKind.REFUND,
        raw={"case": case.number, "platform_refund_id": refund.platform_refund_id},
    )
