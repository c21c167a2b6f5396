"""Red-letter reversal (红冲) and re-issue: after a refund, a cancellation, a correction of the buyer's details,
or by hand.

`invoices_reconcile` brings every blue invoice holding an order's money to what each line was finally paid
(the after-sales refund and the order's cancellation call it through `oms.wiring`): red invoices for what went
down, a supplementary blue for what went up — or, when the shop's policy says re-issue, the blue reversed whole
and a new blue issued for what was kept. `invoice_reverse` reverses one blue invoice whole or for named line
amounts (never more than it holds). Every red invoice is sent at once, or when its blue is issued.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from oms.core.actors import Actor
from oms.core.errors import Conflict, FieldError, ValidationFailed
from oms.invoicing.domain.plan import pack, plan_blue
from oms.invoicing.domain.reverse import Target, groups_of, increase_row, plan_adjustment, plan_whole_reversal
from oms.invoicing.domain.rows import GOODS, Document, Item
from oms.invoicing.domain.taxes import TaxRate
from oms.invoicing.models import AfterRefund, Invoice, InvoiceKind, InvoiceReason, InvoiceShare, InvoiceState
from oms.invoicing.selectors import blue_with_reds_rows, blues_holding, policy_domain, policy_get
from oms.invoicing.services.issue import invoice_submit_locked
from oms.invoicing.services.persist import blue_release_if_empty, documents_save
from oms.invoicing.services.sources import order_figures, source_lines, targets
from oms.orders.lock_objects import order_lock
from oms.orders.models import Order, OrderLine
from oms.orders.services.invoice_profile import invoice_parse_for_issue, order_invoice_profile_update


def _send(invoices: Sequence[Invoice], actor: Actor) -> None:
    for invoice in invoices:
        invoice_submit_locked(invoice=invoice, actor=actor)


def _release_emptied(blues: Sequence[Invoice]) -> None:
    for blue in blues:
        held = any(g.amount_minor or g.quantity for g in groups_of(blue_with_reds_rows(blue)))
        blue_release_if_empty(blue, still_held=held)


@transaction.atomic(savepoint=False)
def invoices_reconcile(*, order: Order, actor: Actor, reason: str = InvoiceReason.REFUND) -> list[Invoice]:
    """Bring the invoices holding ``order``'s money to its lines' latest figures; the caller holds the order's
    lock. Nothing invoiced: nothing to do. Returns the invoices written (red, supplementary or re-issued blue)."""
    blues = [b for b in blues_holding(order_ids=[order.pk]) if b.state != InvoiceState.FAILED or b.provider_number]
    if not blues:
        return []
    policy = policy_get(channel_id=order.channel_id)
    figures = order_figures(order)
    wanted = targets(figures, policy)
    groups = [groups_of(blue_with_reds_rows(b)) for b in blues]
    adjustment = plan_adjustment(groups, wanted, policy_domain(policy))
    if not adjustment.reds and not adjustment.increases:
        return []
    if policy.after_refund == AfterRefund.REISSUE and order.status not in ("cancelled", "invalid"):
        return _reverse_and_reissue(order=order, blues=blues, actor=actor, reason=reason)
    written = documents_save(order=order, documents=adjustment.reds, kind=InvoiceKind.RED, reason=reason,
                             seller=blues[0].seller, provider=blues[0].provider, actor=actor, against=blues,
                             buyer_from=blues[0])  # fmt: skip
    _release_emptied(blues)
    if adjustment.increases:
        items = {f.line.pk: f for f in figures}
        rows = []
        for inc in adjustment.increases:
            parts = InvoiceShare.objects.filter(order_line_id=inc.key, component=inc.component).values_list(
                "part", flat=True
            )
            item = _item_of(items[inc.key].line) if inc.component == GOODS else policy_domain(policy).shipping_item
            assert item is not None
            rows.append((increase_row(item, inc, max(parts, default=0) + 1),))
        supplements = pack(rows, policy_domain(policy))
        written += documents_save(order=order, documents=supplements, kind=InvoiceKind.BLUE,
                                  reason=InvoiceReason.SUPPLEMENT, seller=blues[0].seller,
                                  provider=blues[0].provider, actor=actor)  # fmt: skip
    _send(written, actor)
    return written


def _item_of(line: OrderLine) -> Item:
    from oms.invoicing.services.sources import line_item

    return line_item(line)


def _whole_reds(blues: Sequence[Invoice], order: Order, actor: Actor, reason: str) -> list[Invoice]:
    policy = policy_domain(policy_get(channel_id=order.channel_id))
    reds: list[Document] = []
    for i, blue in enumerate(blues):
        reds += plan_whole_reversal(groups_of(blue_with_reds_rows(blue)), policy, against=i)
    written = documents_save(order=order, documents=reds, kind=InvoiceKind.RED, reason=reason,
                             seller=blues[0].seller, provider=blues[0].provider, actor=actor, against=blues,
                             buyer_from=blues[0])  # fmt: skip
    _release_emptied(blues)
    return written


def _reverse_and_reissue(*, order: Order, blues: Sequence[Invoice], actor: Actor, reason: str) -> list[Invoice]:
    written = _whole_reds(blues, order, actor, reason)
    policy = policy_get(channel_id=order.channel_id)
    documents = plan_blue(source_lines(order_figures(order)), policy_domain(policy))
    written += documents_save(order=order, documents=documents, kind=InvoiceKind.BLUE,
                              reason=InvoiceReason.REISSUE, seller=blues[0].seller, provider=blues[0].provider,
                              actor=actor, replaces=blues[-1])  # fmt: skip
    _send(written, actor)
    return written


def _check_reversible(invoice: Invoice) -> None:
    if invoice.kind != InvoiceKind.BLUE:
        raise Conflict("Only a blue invoice is reversed.", code="not_blue", extra={"field": "number"})
    if invoice.state not in (InvoiceState.ISSUED, InvoiceState.ISSUING, InvoiceState.PENDING):
        raise Conflict(
            f"Invoice {invoice.number} is {invoice.state}; there is nothing to reverse.",
            code="not_reversible",
            extra={"field": "number", "state": invoice.state},
        )


@transaction.atomic(durable=True)
def invoice_reverse(
    *, invoice: Invoice, actor: Actor, reason: str = InvoiceReason.MANUAL, amounts: Mapping[int, int] | None = None
) -> list[Invoice]:
    """Reverse a blue invoice: whole, or for ``amounts`` (order line number → fen of goods to take back), never
    more than it still holds for a line (422 naming ``amounts[<line>]``)."""
    order = order_lock(pk=invoice.order_id)
    blue = Invoice.objects.select_for_update().get(pk=invoice.pk)
    _check_reversible(blue)
    groups = groups_of(blue_with_reds_rows(blue))
    if not any(g.amount_minor or g.quantity for g in groups):
        raise Conflict(f"Invoice {blue.number} holds nothing any more.", code="not_reversible",
                       extra={"field": "number"})  # fmt: skip
    if amounts is None:
        written = _whole_reds([blue], order, actor, reason)
    else:
        written = _partial_reds(blue, groups, amounts, order, actor, reason)
    _send(written, actor)
    return written


def _partial_reds(
    blue: Invoice, groups: list[Any], amounts: Mapping[int, int], order: Order, actor: Actor, reason: str
) -> list[Invoice]:
    line_ids = dict(OrderLine.objects.filter(order_id__in=_orders_of(blue)).values_list("line_no", "pk"))
    held: dict[int, int] = {}
    for g in groups:
        for (key, component), (amount, _units) in g.shares.items():
            if component == GOODS:
                held[key] = held.get(key, 0) + amount
    errors = []
    wanted: dict[tuple[int, str], Target] = {}
    for line_no, take in sorted(amounts.items()):
        key = line_ids.get(line_no)
        field = f"amounts[{line_no}]"
        if key is None or key not in held:
            errors.append(FieldError(field, f"Invoice {blue.number} has no line {line_no}.", "unknown_line"))
        elif not 0 < take <= held[key]:
            errors.append(FieldError(field, f"At most {held[key]} fen of line {line_no} is on this invoice.",
                                     "reverse_exceeds_invoiced"))  # fmt: skip
        else:
            wanted[(key, GOODS)] = Target(held[key] - take, _units_of(groups, key))
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    policy = policy_domain(policy_get(channel_id=order.channel_id))
    adjustment = plan_adjustment([groups], wanted, policy)
    written = documents_save(order=order, documents=adjustment.reds, kind=InvoiceKind.RED, reason=reason,
                             seller=blue.seller, provider=blue.provider, actor=actor, against=[blue],
                             buyer_from=blue)  # fmt: skip
    _release_emptied([blue])
    return written


def _units_of(groups: list[Any], key: int) -> int:
    return sum(units for g in groups for (k, c), (_a, units) in g.shares.items() if k == key and c == GOODS)


def _orders_of(blue: Invoice) -> list[int]:
    return list(InvoiceShare.objects.filter(blue=blue).values_list("order_line__order_id", flat=True).distinct())


def invoice_buyer_correct(*, order: Order, actor: Actor, data: Mapping[str, Any]) -> list[Invoice]:
    """The buyer's details were wrong: correct them on the order (checked first: a bad field changes nothing),
    then reverse every blue invoice holding the order's money and issue new ones to the corrected buyer."""
    invoice_parse_for_issue(data)
    order_invoice_profile_update(order=order, actor=actor, data=data)
    return _correct_invoices(order=order, actor=actor)


@transaction.atomic(durable=True)
def _correct_invoices(*, order: Order, actor: Actor) -> list[Invoice]:
    locked = order_lock(pk=order.pk)
    blues = blues_holding(order_ids=[locked.pk])
    if not blues:
        return []
    written = _whole_reds(blues, locked, actor, InvoiceReason.CORRECTION)
    policy = policy_get(channel_id=locked.channel_id)
    documents = plan_blue(source_lines(order_figures(locked)), policy_domain(policy))
    written += documents_save(order=locked, documents=documents, kind=InvoiceKind.BLUE,
                              reason=InvoiceReason.CORRECTION, seller=blues[0].seller, provider=blues[0].provider,
                              actor=actor, replaces=blues[-1])  # fmt: skip
    _send(written, actor)
    return written


def order_cancelled_reverse(*, order: Order, actor: Actor, reason: str) -> object:
    """`OrderCancelHook`: an order cancelled after invoicing has its invoices reversed whole (it paid nothing)."""
    return invoices_reconcile(order=order, actor=actor, reason=InvoiceReason.CANCEL)


def case_refunded_reconcile(*, case: Any, refund: Any, actor: Actor) -> object:
    """`CaseRefundedHook`: after an after-sales refund, the invoices follow the lines' re-apportioned figures."""
    return invoices_reconcile(order=case.order, actor=actor, reason=InvoiceReason.REFUND)


__all__ = ["TaxRate"]
