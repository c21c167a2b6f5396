"""Issuing policies: on shipment by the periodic task; a split order per child or one for the original; the
same money never on two blue invoices across a split."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from oms.core.actors import SYSTEM
from oms.core.errors import Conflict
from oms.inventory.models import Subsidiary
from oms.invoicing.models import ChannelInvoicePolicy, Invoice, InvoiceShare, IssueOn, SplitPolicy
from oms.invoicing.services.issue import invoices_issue_due, order_invoice_issue
from oms.invoicing.tests.conftest import COMPANY
from oms.orders.models import Order
from oms.splitmerge.models import OrderLineage
from oms.splitmerge.services.split import order_split


def test_on_shipment_the_task_issues_what_shipped_and_nothing_else(
    shipped_order: Callable[..., Order], make_order: Callable[..., Order], admin_operator: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    shipped = shipped_order()
    waiting = make_order(invoice=COMPANY)
    no_request = shipped_order(invoice={"kind": "none"})
    ChannelInvoicePolicy.objects.create(channel_id=shipped.channel_id, issue_on=IssueOn.SHIPMENT)
    with django_capture_on_commit_callbacks(execute=True):
        results = invoices_issue_due(actor=SYSTEM)
    assert results == {shipped.number: "issued"}
    (invoice,) = Invoice.objects.all()
    assert (invoice.order_id, invoice.reason, invoice.state) == (shipped.pk, "shipment", "issued")
    assert invoices_issue_due(actor=SYSTEM) == {}  # nothing is due twice
    assert not Invoice.objects.filter(order__in=[waiting, no_request]).exists()


def _split(order: Order) -> list[Order]:
    lines = list(order.lines.order_by("line_no"))
    order_split(order=order, groups=[{lines[0].line_no: 1}, {ln.line_no: ln.quantity - (ln.pk == lines[0].pk)
                for ln in lines if ln.quantity - (ln.pk == lines[0].pk)}], actor=SYSTEM, reason="")  # fmt: skip
    return [link.child for link in OrderLineage.objects.filter(parent=order).order_by("child_id")]


@pytest.mark.parametrize("split_policy", [SplitPolicy.PER_CHILD, SplitPolicy.ORIGINAL])
def test_a_split_order_is_invoiced_per_child_or_once_for_the_original(
    split_policy: str, make_order: Callable[..., Order], taxed: Any, admin_operator: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    original = make_order(invoice=COMPANY)
    seller = Subsidiary.objects.create(code="SHOP", name="店铺主体", tax_id="91330100MA2B3C4D5N")
    ChannelInvoicePolicy.objects.create(channel_id=original.channel_id, split=split_policy, seller=seller)
    first, second = _split(original)
    with django_capture_on_commit_callbacks(execute=True):
        invoices = order_invoice_issue(order=first, actor=admin_operator)
    carried = {s.order_line.order_id for s in InvoiceShare.objects.filter(live=True).select_related("order_line")}
    if split_policy == SplitPolicy.PER_CHILD:
        assert [i.order_id for i in invoices] == [first.pk] and carried == {first.pk}
        assert sum(i.amount_minor for i in invoices) == first.payable_minor
        with django_capture_on_commit_callbacks(execute=True):
            order_invoice_issue(order=second, actor=admin_operator)
        assert sum(Invoice.objects.values_list("amount_minor", flat=True)) == original.payable_minor
    else:
        # One invoice, issued for the original, over both children's lines: the original's money exactly.
        assert [i.order_id for i in invoices] == [original.pk] and carried == {first.pk, second.pk}
        assert invoices[0].amount_minor == original.payable_minor
        with pytest.raises(Conflict) as err:
            order_invoice_issue(order=second, actor=admin_operator)
        assert err.value.code == "already_invoiced"
    # The retired original's own lines are the same money: refused.
    with pytest.raises(Conflict) as err:
        order_invoice_issue(order=Order.objects.get(pk=original.pk), actor=admin_operator)
    assert err.value.code in ("invoiced_in_lineage", "already_invoiced")
