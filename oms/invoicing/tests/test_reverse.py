"""Red-letter reversal from the services: an after-sales refund (through the wiring hook), a cancellation after
issuing, a correction of the buyer's details, by hand; blue − red = finally paid per line, to the fen."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader

from oms.aftersales.domain import states
from oms.aftersales.services.cases import CaseRequest, case_act, case_create, case_inspect, case_receive, case_refund
from oms.core.errors import Conflict, ValidationFailed
from oms.invoicing.models import AfterRefund, ChannelInvoicePolicy, Invoice, InvoicePdf, InvoiceShare, InvoiceState
from oms.invoicing.services.issue import order_invoice_issue
from oms.invoicing.services.reverse import invoice_buyer_correct, invoice_reverse
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderLine
from oms.orders.selectors import order_lines_current
from oms.orders.services.cancel import order_cancel
from oms.orders.services.timeline import order_transition


def _invoiced_per_line(order: Order) -> dict[int, int]:
    out: dict[int, int] = {}
    for share in InvoiceShare.objects.filter(order_line__order=order):
        out[share.order_line_id] = out.get(share.order_line_id, 0) + share.amount_minor
    return out


def _finally_paid(order: Order) -> dict[int, int]:
    return {ln.pk: paid for ln, _q, paid, _s in order_lines_current(order=order)}


def _return_one(order: Order, line_no: int, actor: Any, capture: Any) -> None:
    case, _ = case_create(order=order, req=CaseRequest(kind="return_refund", reason_code="quality",
                                                       units={line_no: 1}), actor=actor)  # fmt: skip
    case_act(case, states.APPROVE, actor=actor)
    case_receive(case, units={line_no: 1}, actor=actor)
    case = case_inspect(case, good={line_no: 1}, defective={}, actor=actor)
    assert case.status == states.REFUNDING
    with capture(execute=True):
        case_refund(case, method="alipay", transaction_id=f"RF-{case.number}", actor=actor)


def test_an_after_sales_refund_red_letters_exactly_the_difference_per_line(
    shipped_order: Callable[..., Order], admin_operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = shipped_order()
    with django_capture_on_commit_callbacks(execute=True):
        (blue,) = order_invoice_issue(order=order, actor=admin_operator)
    _return_one(order, 3, admin_operator, django_capture_on_commit_callbacks)
    (red,) = Invoice.objects.filter(kind="red", order=order)
    assert red.state == InvoiceState.ISSUED and red.against_id == blue.pk and red.reason == "refund"
    assert red.amount_minor < 0 and red.amount_minor == red.excl_minor + red.tax_minor
    assert _invoiced_per_line(order) == _finally_paid(order)
    assert Invoice.objects.get(pk=blue.pk).state == InvoiceState.ISSUED  # partly reversed: still holds money
    text = PdfReader(io.BytesIO(InvoicePdf.objects.get(invoice=red).content)).pages[0].extract_text()
    assert "红字" in text and Invoice.objects.get(pk=blue.pk).provider_number in text
    # Then the order is returned in full: the blue ends reversed, every line invoiced at 0.
    _return_one(order, 1, admin_operator, django_capture_on_commit_callbacks)
    assert _invoiced_per_line(order) == _finally_paid(order)


def test_policy_reissue_reverses_whole_and_issues_a_new_blue_for_what_was_kept(
    shipped_order: Callable[..., Order], admin_operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = shipped_order()
    ChannelInvoicePolicy.objects.create(channel_id=order.channel_id, after_refund=AfterRefund.REISSUE)
    with django_capture_on_commit_callbacks(execute=True):
        (blue,) = order_invoice_issue(order=order, actor=admin_operator)
    _return_one(order, 3, admin_operator, django_capture_on_commit_callbacks)
    assert Invoice.objects.get(pk=blue.pk).state == InvoiceState.REVERSED
    new = Invoice.objects.get(order=order, kind="blue", replaces=blue)
    assert new.state == InvoiceState.ISSUED and new.amount_minor == sum(_finally_paid(order).values())
    assert _invoiced_per_line(order) == _finally_paid(order)


def test_cancelling_after_issuing_reverses_whole_to_the_fen(
    make_order: Callable[..., Order], taxed: Any, admin_operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from oms.invoicing.tests.conftest import COMPANY, warehouse

    order = make_order(invoice=COMPANY)
    Order.objects.filter(pk=order.pk).update(warehouse=warehouse())
    order.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        (blue,) = order_invoice_issue(order=order, actor=admin_operator)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, actor=admin_operator, reason="buyer changed their mind")
    (red,) = Invoice.objects.filter(kind="red", order=order)
    assert (red.amount_minor, red.excl_minor, red.tax_minor) == (-blue.amount_minor, -blue.excl_minor, -blue.tax_minor)
    assert red.reason == "cancel" and Invoice.objects.get(pk=blue.pk).state == InvoiceState.REVERSED
    assert set(_invoiced_per_line(order).values()) == {0}


def test_correcting_the_buyer_reverses_and_reissues_to_the_new_title_and_bad_input_changes_nothing(
    shipped_order: Callable[..., Order], admin_operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = shipped_order()
    with django_capture_on_commit_callbacks(execute=True):
        (blue,) = order_invoice_issue(order=order, actor=admin_operator)
    with pytest.raises(ValidationFailed) as err:
        invoice_buyer_correct(
            order=order,
            actor=admin_operator,
            data={"kind": "company", "title": "新公司", "tax_id": "9144030071526726XH"},
        )
    assert [d.field for d in err.value.details] == ["invoice.tax_id"]
    assert Invoice.objects.filter(order=order).count() == 1
    corrected = {
        "kind": "company",
        "title": "深圳新公司",
        "tax_id": "9144030071526726XG",
        "type": "special",
        "address": "深圳市南山区",
        "phone": "0755-86013388",
        "bank": "招商银行",
        "account": "755900000000",
    }
    with django_capture_on_commit_callbacks(execute=True):
        invoice_buyer_correct(order=order, actor=admin_operator, data=corrected)
    assert Invoice.objects.get(pk=blue.pk).state == InvoiceState.REVERSED
    new = Invoice.objects.get(replaces=blue)
    assert (new.buyer_title, new.invoice_type, new.state) == ("深圳新公司", "special", InvoiceState.ISSUED)
    assert Invoice.objects.get(kind="red", order=order).buyer_title == "杭州某某科技有限公司"
    assert _invoiced_per_line(order) == _finally_paid(order)


def test_reversing_by_hand_never_takes_more_than_the_invoice_holds(
    shipped_order: Callable[..., Order], admin_operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = shipped_order()
    with django_capture_on_commit_callbacks(execute=True):
        (blue,) = order_invoice_issue(order=order, actor=admin_operator)
    line1 = OrderLine.objects.get(order=order, line_no=1)
    goods = line1.paid_minor - line1.shipping_minor
    with pytest.raises(ValidationFailed) as err:
        invoice_reverse(invoice=blue, actor=admin_operator, amounts={1: goods + 1, 9: 5})
    assert [(d.field, d.code) for d in err.value.details] == [
        ("amounts[1]", "reverse_exceeds_invoiced"),
        ("amounts[9]", "unknown_line"),
    ]
    assert Invoice.objects.filter(kind="red").count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        (red,) = invoice_reverse(invoice=blue, actor=admin_operator, amounts={1: 100})
    assert Invoice.objects.get(pk=red.pk).amount_minor == -100
    with django_capture_on_commit_callbacks(execute=True):
        invoice_reverse(invoice=blue, actor=admin_operator)
    assert Invoice.objects.get(pk=blue.pk).state == InvoiceState.REVERSED
    with pytest.raises(Conflict):
        invoice_reverse(invoice=blue, actor=admin_operator)
    assert set(_invoiced_per_line(order).values()) == {0}
    assert Status.SHIPPED.value == order.status and order_transition
