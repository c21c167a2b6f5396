"""The invoice as a PDF (the local provider's rendering): reportlab through `oms.core.pdf`, Chinese in the CID
font, every outside text escaped. A red invoice says so and names the blue invoice it reverses."""

from __future__ import annotations

from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from oms.core import pdf
from oms.core.domain.money import format_minor
from oms.invoicing.models import Invoice, InvoiceKind, InvoiceLine

TYPE_TITLES = {
    "normal": "电子发票（普通发票）",
    "special": "电子发票（增值税专用发票）",
    "paper": "增值税普通发票（纸质）",
}


def _rate(line: InvoiceLine) -> str:
    return "免税" if line.rate == "exempt" else f"{line.rate}%"


def invoice_pdf(invoice: Invoice, *, number: str, issued_on: str) -> bytes:
    body, small, big = pdf.style(9), pdf.style(8, name="small"), pdf.style(16, name="title")
    red = invoice.kind == InvoiceKind.RED
    c = invoice.currency

    def p(value: object, style: object = body) -> Paragraph:
        return Paragraph(pdf.text(value), style)  # type: ignore[arg-type]

    title = TYPE_TITLES.get(invoice.invoice_type, TYPE_TITLES["normal"]) + ("（红字）" if red else "")
    story: list[Flowable] = [
        p(title, big),
        Spacer(1, 4 * mm),
        p(f"发票号码 Invoice No.: {number}"),
        p(f"开票日期 Date: {issued_on}"),
        p(f"申请号 Request: {invoice.number}    订单 Order: {invoice.order.number}"),
    ]
    if red and invoice.against is not None:
        story.append(p(f"被红冲蓝字发票号码 Reverses: {invoice.against.provider_number or invoice.against.number}"))
    buyer = [invoice.buyer_title, f"纳税人识别号 {invoice.buyer_tax_id}" if invoice.buyer_tax_id else ""]
    if invoice.invoice_type == "special":
        buyer += [f"{invoice.buyer_address} {invoice.buyer_phone}", f"{invoice.buyer_bank} {invoice.buyer_account}"]
    seller = [invoice.seller_name, f"纳税人识别号 {invoice.seller_tax_id}" if invoice.seller_tax_id else ""]
    parties = Table(
        [
            [
                p("购买方 Buyer"),
                p("\n".join(x for x in buyer if x)),
                p("销售方 Seller"),
                p("\n".join(x for x in seller if x)),
            ]
        ],
        colWidths=[22 * mm, 100 * mm, 22 * mm, 100 * mm],
    )
    parties.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [Spacer(1, 3 * mm), parties, Spacer(1, 3 * mm)]
    header = ["项目名称 Item", "税收分类编码", "单位", "数量", "金额 Amount", "税率", "税额 Tax", "价税合计"]
    rows: list[list[Paragraph | str]] = [[p(h, small) for h in header]]
    for line in invoice.lines.order_by("row_no"):
        rows.append(
            [
                p(line.name, small),
                p(line.tax_code, small),
                p(line.unit, small),
                p(line.quantity if line.quantity else "", small),
                p(format_minor(line.excl_minor, c), small),
                p(_rate(line), small),
                p("***" if line.rate == "exempt" else format_minor(line.tax_minor, c), small),
                p(format_minor(line.amount_minor, c), small),
            ]
        )
    rows.append(
        [
            p("合计 Total", small),
            "",
            "",
            "",
            p(format_minor(invoice.excl_minor, c), small),
            "",
            p(format_minor(invoice.tax_minor, c), small),
            p(format_minor(invoice.amount_minor, c), small),
        ]
    )
    table = Table(
        rows, colWidths=[70 * mm, 38 * mm, 14 * mm, 16 * mm, 28 * mm, 14 * mm, 28 * mm, 28 * mm], repeatRows=1
    )
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 3 * mm), p(f"价税合计 Total incl. tax: {c} {format_minor(invoice.amount_minor, c)}")]
    out = BytesIO()
    SimpleDocTemplate(out, pagesize=landscape(A4), title=f"{title} {number}", leftMargin=12 * mm,
                      rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm).build(story)  # fmt: skip
    return out.getvalue()
