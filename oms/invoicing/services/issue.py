"""Issuing blue invoices (L5): plan the order's lines, hold their money, send the request to the provider.

`invoice_request` plans and writes pending blue invoices for an order (or, for a split order under the "one for
the original" policy, for the original over all its children); `invoice_submit` sends one to its provider;
`order_invoice_issue` does both — what the console's 开票, the API and the issuing policies call.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.actors import Actor
from oms.core.errors import ApplicationError, Conflict
from oms.invoicing import actions
from oms.invoicing.domain.plan import plan_blue
from oms.invoicing.models import Invoice, InvoiceKind, InvoiceReason, InvoiceShare, InvoiceState, SplitPolicy
from oms.invoicing.providers import provider_get
from oms.invoicing.selectors import lineage_relatives, payload_lines, policy_domain, policy_get, split_family
from oms.invoicing.services.persist import documents_save
from oms.invoicing.services.sources import buyer_check, order_figures, seller_for, source_lines
from oms.orders.lock_objects import orders_for_update
from oms.orders.models import Order
from oms.outbox.services import outbox_publish


def _subject(order: Order) -> tuple[Order, list[Order]]:
    """(the order the invoice is issued for, the orders whose lines it carries)."""
    policy = policy_get(channel_id=order.channel_id)
    family = split_family(order) if policy.split == SplitPolicy.ORIGINAL else None
    if family is None:
        return order, [order]
    return family


@transaction.atomic(savepoint=False)
def invoice_request_locked(*, order: Order, actor: Actor, reason: str) -> list[Invoice]:
    """Plan and write pending blue invoices; the caller holds the orders' locks (`invoice_request` takes them)."""
    head, carried = _subject(order)
    policy = policy_get(channel_id=head.channel_id)
    buyer_check(head)
    relatives = lineage_relatives([o.pk for o in carried]) - {head.pk}
    held = InvoiceShare.objects.filter(live=True)
    if held.filter(order_line__order__in=carried).exists():
        raise Conflict(
            f"Order {head.number} is already invoiced; reverse it first or let a refund adjust it.",
            code="already_invoiced",
            extra={"field": "order"},
        )
    if relatives and held.filter(order_line__order_id__in=relatives).exists():
        raise Conflict(
            f"An order split or merged with {head.number} is already invoiced: the same money.",
            code="invoiced_in_lineage",
            extra={"field": "order"},
        )
    lines = [s for o in carried for s in source_lines(order_figures(o))]
    documents = plan_blue(lines, policy_domain(policy))
    if not documents:
        raise Conflict(f"Order {head.number} has nothing to invoice.", code="nothing_to_invoice")
    return documents_save(
        order=head,
        documents=documents,
        kind=InvoiceKind.BLUE,
        reason=reason,
        seller=seller_for(carried[0] if head.final_warehouse_id is None else head, policy),
        provider=policy.provider,
        actor=actor,
    )


def _lock_subject(order: Order) -> Order:
    head, carried = _subject(order)
    locked = {o.pk: o for o in orders_for_update(pks=sorted({head.pk, *(o.pk for o in carried)}))}
    return locked[order.pk]


@transaction.atomic(durable=True)
def invoice_request(*, order: Order, actor: Actor, reason: str = InvoiceReason.MANUAL) -> list[Invoice]:
    """Pending blue invoices for the order (sent later, in bulk or one by one)."""
    return invoice_request_locked(order=_lock_subject(order), actor=actor, reason=reason)


@transaction.atomic(durable=True)
def order_invoice_issue(*, order: Order, actor: Actor, reason: str = InvoiceReason.MANUAL) -> list[Invoice]:
    """Plan, write and send the order's blue invoices."""
    invoices = invoice_request_locked(order=_lock_subject(order), actor=actor, reason=reason)
    for invoice in invoices:
        invoice_submit_locked(invoice=invoice, actor=actor)
    return invoices


def provider_payload(invoice: Invoice) -> dict[str, object]:
    return {
        "request_id": str(invoice.request_id),
        "number": invoice.number,
        "kind": invoice.kind,
        "against": invoice.against.provider_number if invoice.against_id and invoice.against else "",
        "invoice_type": invoice.invoice_type,
        "seller": {"name": invoice.seller_name, "tax_id": invoice.seller_tax_id},
        "buyer": {
            "kind": invoice.buyer_kind,
            "title": invoice.buyer_title,
            "tax_id": invoice.buyer_tax_id,
            "email": invoice.buyer_email,
            "mobile": invoice.buyer_mobile,
            "address": invoice.buyer_address,
            "phone": invoice.buyer_phone,
            "bank": invoice.buyer_bank,
            "account": invoice.buyer_account,
        },
        "currency": invoice.currency,
        "amount_minor": invoice.amount_minor,
        "excl_minor": invoice.excl_minor,
        "tax_minor": invoice.tax_minor,
        "lines": payload_lines(invoice),
    }


@transaction.atomic(savepoint=False)
def invoice_submit_locked(*, invoice: Invoice, actor: Actor) -> Invoice:
    """Send a pending (or failed) invoice to its provider. A red one waits until its blue is issued (the red
    names the blue's number); it is sent when the blue's result comes back."""
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.state not in (InvoiceState.PENDING, InvoiceState.FAILED):
        raise Conflict(
            f"Invoice {locked.number} is {locked.state}; only pending or failed ones are sent.",
            code="invoice_not_pending",
            extra={"field": "state", "state": locked.state},
        )
    if (
        locked.against_id is not None
        and locked.against is not None
        and locked.against.state
        not in (
            InvoiceState.ISSUED,
            InvoiceState.REVERSED,
        )
    ):
        return locked  # sent when its blue invoice is issued
    before = locked.state
    locked.state = InvoiceState.ISSUING
    locked.attempts += 1
    locked.error_code = locked.last_error = ""
    locked.updated_at = timezone.now()
    locked.save(update_fields=["state", "attempts", "error_code", "last_error", "updated_at"])
    audit_record(actor=actor, action=actions.INVOICE_SUBMIT, obj=locked, before={"state": before},
                 after={"state": locked.state, "attempt": locked.attempts})  # fmt: skip
    payload = provider_payload(locked)
    outbox_publish(topic="invoice.requested", aggregate=locked, payload=payload)
    provider_get(locked.provider).submit(invoice=locked, payload=payload)
    return locked


@transaction.atomic(durable=True)
def invoice_submit(*, invoice: Invoice, actor: Actor) -> Invoice:
    return invoice_submit_locked(invoice=invoice, actor=actor)


def invoices_submit(*, numbers: list[str], actor: Actor) -> dict[str, str]:
    """Bulk issue from the queue: each in its own transaction; number → "issuing" or the refusal's code."""
    out: dict[str, str] = {}
    for invoice in Invoice.objects.filter(number__in=numbers).order_by("pk"):
        try:
            out[invoice.number] = invoice_submit(invoice=invoice, actor=actor).state
        except Conflict as exc:
            out[invoice.number] = exc.code
    return out


# Which order statuses mean "shipped" and "signed" for the issuing policies.
ISSUE_DUE_STATUSES = {
    "shipment": ("shipped", "signed", "closed"),
    "signing": ("signed", "closed"),
}


def invoices_issue_due(*, actor: Actor, limit: int = 200) -> dict[str, str]:
    """Issue what the shops' policies say is due: orders asking for an invoice, shipped (or signed), with no
    invoice yet, not replaced by a split or merge. Each order in its own transaction; an order that cannot be
    invoiced (bad details, no tax code) is reported by its code and left for an operator. Order number →
    "issued" or the refusal's code."""
    from oms.invoicing.models import ChannelInvoicePolicy, IssueOn
    from oms.splitmerge.selectors import order_is_retired

    out: dict[str, str] = {}
    for policy in ChannelInvoicePolicy.objects.filter(issue_on__in=[IssueOn.SHIPMENT, IssueOn.SIGNING]):
        due = (
            Order.objects.filter(channel_id=policy.channel_id, status__in=ISSUE_DUE_STATUSES[policy.issue_on])
            .exclude(invoice_kind="none")
            .exclude(pk__in=Invoice.objects.values("order_id"))
            .exclude(pk__in=InvoiceShare.objects.filter(live=True).values("order_line__order_id"))
            .exclude(order_is_retired())
        )
        reason = InvoiceReason.SHIPMENT if policy.issue_on == IssueOn.SHIPMENT else InvoiceReason.SIGNING
        for order in due.order_by("pk")[: max(limit - len(out), 0)]:
            try:
                order_invoice_issue(order=order, actor=actor, reason=reason)
                out[order.number] = "issued"
            except ApplicationError as exc:
                out[order.number] = exc.code
    return out
