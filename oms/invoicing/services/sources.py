"""What invoices are made from: an order's lines with their SKUs' tax data and latest figures, the seller, the
buyer. Refusals name the field (``lines[2].tax_code`` …) and come before anything is written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from oms.core.errors import Conflict, FieldError, ValidationFailed
from oms.inventory.models import Subsidiary, Warehouse
from oms.invoicing.domain.plan import SHIPPING_SEPARATE, SourceLine
from oms.invoicing.domain.reverse import Target
from oms.invoicing.domain.rows import GOODS, SHIPPING, Item
from oms.invoicing.domain.taxes import TAX_CODE_RE, TaxRate
from oms.invoicing.models import ChannelInvoicePolicy
from oms.orders.domain.intake import invoice_profile_errors
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderLine
from oms.orders.selectors import order_lines_current
from oms.orders.services.invoice_profile import order_invoice

ENDED = {Status.CANCELLED.value, Status.INVALID.value}


@dataclass(frozen=True)
class Figures:
    line: OrderLine
    quantity: int
    paid_minor: int
    shipping_minor: int


def order_figures(order: Order) -> list[Figures]:
    """Each line's latest figures; an order cancelled or invalid has paid nothing."""
    ended = order.status in ENDED
    return [
        Figures(ln, 0 if ended else q, 0 if ended else paid, 0 if ended else ship)
        for ln, q, paid, ship in order_lines_current(order=order)
    ]


def line_item(line: OrderLine) -> Item:
    """The SKU's invoice item; refused naming the field when it has no valid code or rate."""
    field = f"lines[{line.line_no}]"
    sku = line.sku
    if sku is None:
        raise ValidationFailed(
            f"Line {line.line_no} maps to no SKU, so it has no tax classification code.",
            code="unknown_tax_code",
            details=[FieldError(f"{field}.sku", "Map the line to a SKU first.", "unknown_tax_code")],
        )
    if not TAX_CODE_RE.match(sku.tax_code or ""):
        raise ValidationFailed(
            f"SKU {sku.code} has no tax classification code (税收分类编码).",
            code="unknown_tax_code",
            details=[FieldError(f"{field}.tax_code", f"Set SKU {sku.code}'s 19-digit tax code.", "unknown_tax_code")],
        )
    if sku.tax_exempt:
        rate = TaxRate("exempt")
    else:
        try:
            rate = TaxRate.from_bp(sku.tax_rate_bp)
        except ValidationFailed:
            raise ValidationFailed(
                f"SKU {sku.code}'s tax rate {sku.tax_rate_bp} bp is not an invoice rate.",
                code="bad_tax_rate",
                details=[FieldError(f"{field}.tax_rate", "13 %, 9 %, 6 %, 0 % or exempt.", "bad_tax_rate")],
            ) from None
    category = sku.category.name if sku.category_id and sku.category else "商品"
    name = sku.invoice_name or f"*{category}*{line.name or sku.name}"
    return Item(name[:100], sku.tax_code, rate, sku.invoice_unit)


def source_lines(figures: Sequence[Figures]) -> list[SourceLine]:
    return [
        SourceLine(f.line.pk, line_item(f.line), f.quantity, f.line.unit_price_minor, f.paid_minor, f.shipping_minor)
        for f in figures
        if f.quantity > 0 or f.paid_minor > 0
    ]


def targets(figures: Sequence[Figures], policy: ChannelInvoicePolicy) -> dict[tuple[int, str], Target]:
    """(line, component) → what the buyer finally paid for it, as the policy invoices it."""
    separate = policy.shipping == SHIPPING_SEPARATE
    out: dict[tuple[int, str], Target] = {}
    for f in figures:
        out[(f.line.pk, GOODS)] = Target(f.paid_minor - (f.shipping_minor if separate else 0), f.quantity)
        out[(f.line.pk, SHIPPING)] = Target(f.shipping_minor if separate else 0)
    return out


def seller_for(order: Order, policy: ChannelInvoicePolicy) -> Subsidiary:
    """The shop's configured seller, else the subsidiary owning the order's final shipping warehouse (O5)."""
    if policy.seller_id:
        return Subsidiary.objects.get(pk=policy.seller_id)
    warehouse_id = order.final_warehouse_id or order.warehouse_id
    if warehouse_id is None:
        raise Conflict(
            f"Order {order.number} has no shipping warehouse yet, so no seller; configure one for the shop.",
            code="no_seller",
            extra={"field": "seller"},
        )
    return Warehouse.objects.select_related("subsidiary").get(pk=warehouse_id).subsidiary


def buyer_check(order: Order) -> None:
    """The order's invoice request must be complete and valid to issue (422 naming each field)."""
    invoice = order_invoice(order)
    if invoice.kind == "none":
        raise ValidationFailed(
            f"Order {order.number} asks for no invoice; fill in its invoice details first.",
            code="no_invoice_request",
            details=[FieldError("invoice.kind", "Choose personal or company.", "required")],
        )
    errors = invoice_profile_errors(invoice)
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
