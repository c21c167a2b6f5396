"""The console's invoicing: queue with counts and bulk issue, the order's invoice panel, an invoice's page with
reversal, the PDF download, the XLSX export (formula-safe); every page without inline script or style."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from django.test import Client
from openpyxl import load_workbook

from oms.invoicing.models import Invoice
from oms.invoicing.services.issue import invoice_request
from oms.orders.models import Order


def _no_inline(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html


def test_queue_bulk_issue_panel_reverse_and_export(
    shipped_order: Callable[..., Order], make_operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    order = shipped_order(invoice={"kind": "company", "title": "=cmd|' /C calc'!A0", "tax_id": "91330100799655058B"})
    other = shipped_order()
    finance = make_operator("finance", username="c-finance")
    client = Client()
    client.force_login(finance)
    pending = [*invoice_request(order=order, actor=finance), *invoice_request(order=other, actor=finance)]
    queue = client.get("/invoicing/?state=pending", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = queue.content.decode()
    assert queue.status_code == 200 and html.count('data-testid="invoice-row"') == 2
    assert 'data-state="pending"' in html and "待开 2" in html
    _no_inline(html)
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/invoicing/issue/", {"numbers": [i.number for i in pending]})
    assert sent.status_code == 302
    assert set(Invoice.objects.values_list("state", flat=True)) == {"issued"}
    panel = client.get(f"/invoicing/orders/{order.number}/panel/").content.decode()
    assert 'data-testid="invoice-blue"' in panel and 'data-testid="invoice-pdf"' in panel
    _no_inline(panel)
    blue = Invoice.objects.get(order=order)
    page = client.get(f"/invoicing/{blue.number}/")
    assert page.status_code == 200 and blue.provider_number in page.content.decode()
    _no_inline(page.content.decode())
    pdf = client.get(f"/invoicing/{blue.number}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    refused = client.post(f"/invoicing/{blue.number}/reverse/", {"amount_1": "99999.00"}, follow=True)
    assert "amounts[1]" in refused.content.decode() and not Invoice.objects.filter(kind="red").exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/invoicing/{blue.number}/reverse/", {"amount_1": "10.00"})
    red = Invoice.objects.get(kind="red")
    assert (red.amount_minor, red.state, red.against_id) == (-1000, "issued", blue.pk)
    export = client.post("/invoicing/export.xlsx", {"state": "", "kind": "", "q": ""})
    workbook = load_workbook(io.BytesIO(export.content))
    invoices, lines = workbook.worksheets
    titles = [row[9] for row in invoices.iter_rows(min_row=2, values_only=True)]
    assert "'=cmd|' /C calc'!A0" in titles and len(titles) == 3
    amounts = sorted(float(row[15]) for row in invoices.iter_rows(min_row=2, values_only=True))
    assert amounts[0] == -10.0
    assert lines.max_row - 1 == sum(i.lines.count() for i in Invoice.objects.all())


def test_without_the_permission_the_menu_and_pages_are_closed(make_operator: Any, db: Any) -> None:
    client = Client()
    client.force_login(make_operator("warehouse_coordinator", username="c-wh"))
    assert client.get("/invoicing/").status_code == 403
    assert client.post("/invoicing/issue/", {"numbers": ["X"]}).status_code == 403
    assert "/invoicing/" not in client.get("/").content.decode()
