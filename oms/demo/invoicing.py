"""Demo invoices (发票): shipped orders that asked for an invoice get one from the local provider (numbered, with
its PDF), one of them partly red-lettered, and one more waits in the queue as pending."""

from __future__ import annotations

from oms.core.actors import SystemActor
from oms.core.errors import ApplicationError
from oms.invoicing.services.issue import invoice_request, order_invoice_issue
from oms.invoicing.services.reverse import invoice_reverse
from oms.orders.models import Order, OrderLine

DEMO_ACTOR = SystemActor("demo")


def _policies() -> None:
    """Each shop invoices as its own seller entity (demo orders ship without a recorded warehouse); the Tmall
    shop issues on shipment, with discount lines; the rest by hand."""
    from oms.channels.models import Channel
    from oms.inventory.models import Subsidiary
    from oms.invoicing.models import ChannelInvoicePolicy, DiscountMode, IssueOn

    sellers = list(Subsidiary.objects.order_by("code"))
    for i, channel in enumerate(Channel.objects.order_by("code")):
        ChannelInvoicePolicy.objects.get_or_create(
            channel=channel,
            defaults={
                "seller": sellers[i % len(sellers)] if sellers else None,
                "issue_on": IssueOn.SHIPMENT if channel.platform == "tmall" else IssueOn.MANUAL,
                "discounts": DiscountMode.LINES if channel.platform == "tmall" else DiscountMode.NET,
            },
        )


def load_demo_invoices(*, limit: int = 6) -> dict[str, int]:
    _policies()
    candidates = (
        Order.objects.filter(status__in=["shipped", "signed", "closed"], invoice_kind="company")
        .exclude(lines__sku=None)
        .order_by("pk")
    )
    issued, pending, reds = 0, 0, 0
    for order in candidates[: limit + 1]:
        try:
            if issued < limit:
                invoices = order_invoice_issue(order=order, actor=DEMO_ACTOR)
                issued += len(invoices)
            else:
                pending += len(invoice_request(order=order, actor=DEMO_ACTOR))
        except ApplicationError:
            continue
    first = Order.objects.filter(pk__in=candidates.values("pk")).order_by("pk").first()
    if first is not None:
        from oms.invoicing.models import Invoice

        blue = Invoice.objects.filter(order=first, kind="blue", state="issued").first()
        line = OrderLine.objects.filter(order=first).order_by("line_no").first()
        if blue is not None and line is not None and line.paid_minor > 100:
            reds = len(invoice_reverse(invoice=blue, actor=DEMO_ACTOR, amounts={line.line_no: 100}))
    return {"issued": issued, "pending": pending, "red": reds}
