"""Invoices and their lines as an XLSX workbook for accounting: one sheet of invoices, one of lines, amounts as
numbers (yuan), every text cell through `cell_safe`. Written by openpyxl's write-only workbook (rows stream)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from io import BytesIO
from typing import Any

from django.db.models import QuerySet
from openpyxl import Workbook

from oms.core.domain.cells import cell_safe
from oms.core.domain.money import format_minor
from oms.invoicing.models import Invoice, InvoiceLine

MAX_INVOICES = 50_000

INVOICE_HEADERS = {
    "zh-hans": ["申请号", "订单", "类型", "状态", "原因", "对应蓝票", "发票号码", "开票日期", "发票种类", "购买方",
                "购买方税号", "销售方", "销售方税号", "金额", "税额", "价税合计", "币种"],
    "en": ["Request", "Order", "Kind", "State", "Reason", "Reverses", "Invoice number", "Issued on", "Invoice type",
           "Buyer", "Buyer taxpayer id", "Seller", "Seller taxpayer id", "Amount excl. tax", "Tax", "Amount incl. tax",
           "Currency"],
}  # fmt: skip
LINE_HEADERS = {
    "zh-hans": ["申请号", "发票号码", "行", "行类型", "项目名称", "税收分类编码", "单位", "数量", "税率", "金额",
                "税额", "价税合计"],
    "en": ["Request", "Invoice number", "Row", "Row kind", "Item", "Tax code", "Unit", "Quantity", "Rate",
           "Amount excl. tax", "Tax", "Amount incl. tax"],
}  # fmt: skip


def _yuan(minor: int, currency: str) -> Decimal:
    return Decimal(format_minor(minor, currency))


def _invoice_row(i: Invoice) -> list[Any]:
    return [
        i.number,
        i.order.number,
        i.get_kind_display(),
        i.get_state_display(),
        i.get_reason_display(),
        i.against.number if i.against_id and i.against else "",
        i.provider_number,
        i.issued_on.isoformat() if i.issued_on else "",
        i.invoice_type,
        i.buyer_title,
        i.buyer_tax_id,
        i.seller_name,
        i.seller_tax_id,
        _yuan(i.excl_minor, i.currency),
        _yuan(i.tax_minor, i.currency),
        _yuan(i.amount_minor, i.currency),
        i.currency,
    ]


def _line_rows(invoices: list[Invoice]) -> Iterable[list[Any]]:
    by_id = {i.pk: i for i in invoices}
    lines = InvoiceLine.objects.filter(invoice_id__in=list(by_id)).order_by("invoice_id", "row_no")
    for ln in lines.iterator(chunk_size=2000):
        i = by_id[ln.invoice_id]
        yield [
            i.number,
            i.provider_number,
            ln.row_no,
            ln.kind,
            ln.name,
            ln.tax_code,
            ln.unit,
            ln.quantity,
            "免税" if ln.rate == "exempt" else f"{ln.rate}%",
            _yuan(ln.excl_minor, i.currency),
            _yuan(ln.tax_minor, i.currency),
            _yuan(ln.amount_minor, i.currency),
        ]


def invoices_xlsx(invoices: QuerySet[Invoice], *, language: str) -> bytes:
    rows = list(invoices.select_related("order", "against")[:MAX_INVOICES])
    lang = "en" if language.startswith("en") else "zh-hans"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="发票 Invoices")
    sheet.append([cell_safe(h) for h in INVOICE_HEADERS[lang]])
    for invoice in rows:
        sheet.append([cell_safe(v) for v in _invoice_row(invoice)])
    lines = workbook.create_sheet(title="明细 Lines")
    lines.append([cell_safe(h) for h in LINE_HEADERS[lang]])
    for row in _line_rows(rows):
        lines.append([cell_safe(v) for v in row])
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()
