"""Printed warehouse documents for merchants without a WMS: the pick list (拣货单) — what to take off the
shelves of each warehouse for a batch of orders — and the packing slip (装箱单/发货清单), one page per order
to put in its parcel. PDF drawn with reportlab through `oms.core.pdf` (the CID font for Chinese; all outside
text through ``pdf.text``). Labels are in the current language; the data come from
`oms.fulfillment.selectors` (units still to ship, a bundle by its components)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from oms.core import pdf
from oms.core.domain.regions import province_lookup
from oms.fulfillment.selectors import PickRow, SlipLine
from oms.orders.models import Order

_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f3f6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (-1, 1), (-1, -1), "RIGHT"),
    ]
)


def _p(value: object, size: float = 9) -> Paragraph:
    return Paragraph(pdf.text(value), pdf.style(size))


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[float]) -> Table:
    data = [[_p(h) for h in header], *[[_p(c) for c in row] for row in rows]]
    table = Table(data, colWidths=list(widths), repeatRows=1)
    table.setStyle(_GRID)
    return table


def _build(story: list[Flowable], title: str) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm
    )
    doc.title = title
    doc.build(story)
    return out.getvalue()


def picklist_pdf(*, rows: Sequence[PickRow], orders: Sequence[Order], printed_at: datetime) -> bytes:
    """One section per warehouse: SKU, barcode, name, units to pick and the orders they are for."""
    title = _("Pick list")
    story: list[Flowable] = [
        _p(title, 16),
        Spacer(1, 2 * mm),
        _p(
            _("%(n)s orders, printed %(at)s") % {"n": len(orders), "at": printed_at.strftime("%Y-%m-%d %H:%M")},
        ),
        Spacer(1, 4 * mm),
    ]
    warehouses = list(dict.fromkeys(r.warehouse for r in rows))
    for warehouse in warehouses:
        mine = [r for r in rows if r.warehouse == warehouse]
        story += [
            _p(_("Warehouse %(w)s: %(u)s units") % {"w": warehouse, "u": sum(r.quantity for r in mine)}, 12),
            Spacer(1, 2 * mm),
            _table(
                [_("SKU"), _("Barcode"), _("Name"), _("Orders"), _("Units")],
                [(r.sku, r.barcode, r.name, ", ".join(r.orders), r.quantity) for r in mine],
                [32 * mm, 28 * mm, 50 * mm, 55 * mm, 15 * mm],
            ),
            Spacer(1, 6 * mm),
        ]
    if not warehouses:
        story.append(_p(_("Nothing is left to ship for these orders.")))
    return _build(story, title)


def _address(order: Order, *, with_contact: bool) -> str:
    province = province_lookup(order.receiver_province)
    region = " ".join(
        p
        for p in (province.name if province else order.receiver_province, order.receiver_city, order.receiver_district)
        if p
    )
    if not with_contact:
        return region
    return f"{region} {order.receiver_address} {order.receiver_postcode}".strip()


def packing_slips_pdf(
    *, orders: Sequence[Order], lines: dict[int, list[SlipLine]], with_contact: bool, printed_at: datetime
) -> bytes:
    """One page per order: who receives it (phone and street only ``with_contact``), how it ships, remarks,
    and each line with the units still to ship (a bundle with its parts)."""
    title = _("Packing slip")
    story: list[Flowable] = []
    for i, order in enumerate(orders):
        if i:
            story.append(PageBreak())
        facts = [
            (_("Order"), order.number),
            (_("Platform order no."), ", ".join(order.platform_order_ids or [order.platform_order_id or ""])),
            (_("Shop"), order.channel.name),
            (_("Receiver"), f"{order.receiver_name} {order.receiver_phone if with_contact else ''}".strip()),
            (_("Address"), _address(order, with_contact=with_contact)),
            (_("Warehouse"), order.final_warehouse.name if order.final_warehouse else "—"),
            (_("Courier"), order.courier.name if order.courier else "—"),
            (_("Tracking number"), order.tracking_number or "—"),
            (_("Buyer remark"), order.buyer_remark or "—"),
            (_("Seller remark"), order.seller_remark or "—"),
        ]
        fact_table = Table([[_p(k), _p(v)] for k, v in facts], colWidths=[35 * mm, 145 * mm])
        fact_table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        rows: list[tuple[object, ...]] = []
        for ln in lines.get(order.pk, []):
            rows.append((ln.line_no, ln.sku, ln.name, ln.quantity))
            rows += [("", f"  {code}", f"  {name}", qty) for code, name, qty in ln.components]
        story += [
            _p(f"{title} · {order.number}", 16),
            Spacer(1, 3 * mm),
            fact_table,
            Spacer(1, 4 * mm),
            _table([_("Line"), _("SKU"), _("Name"), _("Units")], rows, [15 * mm, 40 * mm, 105 * mm, 20 * mm])
            if rows
            else _p(_("Nothing is left to ship for this order.")),
            Spacer(1, 4 * mm),
            _p(_("Printed %(at)s") % {"at": printed_at.strftime("%Y-%m-%d %H:%M")}, 8),
        ]
    return _build(story, title)
