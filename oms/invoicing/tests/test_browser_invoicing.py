"""Playwright in Chromium, as finance: the buyer's invoice request on the order → issue → the PDF downloaded and
read back → an after-sales refund → the red invoice shown on the order, against its blue one."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader

from oms.aftersales.domain import states
from oms.aftersales.services.cases import CaseRequest, case_act, case_create, case_inspect, case_receive, case_refund
from oms.invoicing.models import Invoice
from oms.orders.models import Order

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = pytest.mark.browser


def test_request_issue_download_refund_and_the_red_invoice(
    transactional_db: Any,
    live_server: Any,
    make_operator: Any,
    login: Any,
    page: Any,
    shipped_order: Callable[..., Order],
) -> None:
    order = shipped_order(invoice={"kind": "none"})
    finance = make_operator("finance", username="caiwu", password="browser-test-pass")
    p = login("caiwu", "browser-test-pass")
    p.goto(f"{live_server.url}/orders/{order.number}/")
    p.wait_for_selector("[data-testid=invoice-panel-body]")
    # The buyer's request, typed by finance: a bad taxpayer id is refused naming the field, nothing saved.
    p.click("[data-testid=invoice-profile-form] >> xpath=.. >> summary")
    form = "[data-testid=invoice-profile-form]"
    p.select_option(f"{form} select[name=kind]", "company")
    p.fill(f"{form} input[name=title]", "杭州某某科技有限公司")
    p.fill(f"{form} input[name=tax_id]", "91330100799655058C")
    p.fill(f"{form} input[name=email]", "fp@example.com")
    p.click(f"{form} button[type=submit]")
    p.wait_for_selector("text=invoice.tax_id")
    order.refresh_from_db()
    assert order.invoice_kind == "none"
    p.click("[data-testid=invoice-profile-form] >> xpath=.. >> summary")
    p.select_option(f"{form} select[name=kind]", "company")
    p.fill(f"{form} input[name=title]", "杭州某某科技有限公司")
    p.fill(f"{form} input[name=tax_id]", "91330100799655058B")
    p.click(f"{form} button[type=submit]")
    p.wait_for_selector("[data-testid=invoice-issue]")
    # Issue: the local provider numbers it and renders the PDF; the panel shows it issued.
    p.click("[data-testid=invoice-issue]")
    p.wait_for_selector("[data-testid=invoice-blue] [data-testid=invoice-number]")
    blue = Invoice.objects.get(order=order, kind="blue")
    assert p.inner_text("[data-testid=invoice-blue] [data-testid=invoice-number]") == blue.provider_number
    assert p.inner_text("[data-testid=invoice-blue] [data-testid=invoice-total]") == "301.79"
    with p.expect_download() as download:
        p.click("[data-testid=invoice-blue] [data-testid=invoice-pdf]")
    text = PdfReader(download.value.path()).pages[0].extract_text()
    assert blue.provider_number in text and "301.79" in text
    # A return of one cup (33.33 list) is refunded through after-sales; the invoice follows by a red one.
    req = CaseRequest(kind="return_refund", reason_code="quality", units={3: 1})
    case, _ = case_create(order=order, req=req, actor=finance)
    case_act(case, states.APPROVE, actor=finance)
    case_receive(case, units={3: 1}, actor=finance)
    case = case_inspect(case, good={3: 1}, defective={}, actor=finance)
    case_refund(case, method="alipay", transaction_id="RF-BROWSER-1", actor=finance)
    red = Invoice.objects.get(order=order, kind="red")
    assert red.state == "issued" and red.amount_minor == -case.refund_minor
    p.goto(f"{live_server.url}/orders/{order.number}/")
    p.wait_for_selector("[data-testid=invoice-red] [data-testid=invoice-number]")
    assert p.inner_text("[data-testid=invoice-red] [data-testid=invoice-total]") == f"-{case.refund_minor / 100:.2f}"
    assert blue.number in p.inner_text("[data-testid=invoice-red] h3")
    p.click(f"text={red.number}")
    p.wait_for_selector("[data-testid=invoice-state]")
    assert "红字" in p.inner_text("h1")
