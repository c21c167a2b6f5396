"""Request documentation and response shapes for the orders API. Amounts are decimal strings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from oms.api.types import OrderUnits, When
from oms.core.domain.money import format_minor
from oms.orders.domain.payments import PAYMENT_STATUS_LABELS, PaymentStatus
from oms.orders.domain.status import BUYER_STATUS, STATUS_LABELS, Status, allowed_next
from oms.orders.models import Customer, Order, OrderEvent, OrderLine, Payment

# ---- request bodies (documentation: the intake checks bodies itself so it can report every problem)


class PromotionIn(Schema):
    code: str = ""
    name: str
    kind: str = Field("discount", description="discount, coupon, full_reduction, gift, price_cut, other")
    amount: str = Field(..., examples=["5.00"])


class OrderLineIn(Schema):
    sku_code: str = Field("", description="Our merchant code (商家编码); unknown codes are refused.")
    platform_sku_code: str = Field("", description="The platform's SKU code; unmapped ones are kept and flagged.")
    platform_line_id: str = ""
    name: str = ""
    quantity: OrderUnits
    unit_price: str = Field(..., examples=["59.90"], description="List price per unit at trade time.")
    line_discount: str | None = Field(None, description="Item discounts; defaults to the sum of promotions.")
    promotions: list[PromotionIn] = []
    is_gift: bool = False
    presale: bool | None = Field(None, description="A presale line (预售); unset: as the order's presale flag.")
    platform_paid: str | None = Field(None, description="The platform's own paid figure for the line (分摊后实付).")


class PromotionTierIn(Schema):
    threshold: str | int = Field(..., description="Money, or a unit count when the basis is quantity.")
    off: str | None = Field(None, examples=["50.00"])
    percent_off: str | None = Field(None, examples=["10"], description="threshold_percent: 9折 is 10.")


class OrderPromotionIn(Schema):
    kind: str = Field(
        ...,
        description="threshold_off 满减, per_every_off 每满减, threshold_percent 满折, coupon, "
        "multi_buy 第N件M折, price_cut 直降, gift 满赠/买赠",
    )
    name: str = Field(..., examples=["满300减50"])
    code: str = ""
    funder: str = Field("merchant", description="merchant or platform")
    basis: str = Field("amount", description="amount, or quantity for unit-count thresholds (满2件)")
    lines: list[int | str] = Field([], description="Line positions (0-based) or platform line ids; default all.")
    threshold: str | int | None = None
    off: str | None = None
    percent_off: str | None = None
    tiers: list[PromotionTierIn] = []
    cap: str | None = Field(None, description="per_every_off: at most this much off.")
    nth: int | None = Field(None, description="multi_buy: every nth unit (第二件半价: 2).")
    pay_percent: str | None = Field(None, description="multi_buy: the share of the price paid (半价: 50).")
    unit_cut: str | None = Field(None, description="price_cut: off each unit.")
    gift_lines: list[int | str] = Field([], description="gift: its gift lines; default the lines marked is_gift.")
    gift_value: str | None = Field(None, description="gift: the value of one gift unit listed at 0.")
    amount: str | None = Field(None, description="What it took off; refused when the rule gives otherwise.")


class ReceiverIn(Schema):
    name: str
    phone: str = Field(..., examples=["13800138000"])
    province: str = Field(..., examples=["浙江省"], description="Full, short name or adcode.")
    city: str
    district: str = ""
    address: str
    postcode: str = ""


class BuyerIn(Schema):
    platform_buyer_id: str
    nickname: str = ""
    name: str = ""
    phone: str = ""
    email: str = ""


class InvoiceIn(Schema):
    kind: str = Field("none", description="none, personal, company")
    title: str = ""
    tax_id: str = ""
    email: str = ""
    type: str = Field("normal", description="normal (电子普票), special (增值税专用发票), paper")
    mobile: str = ""
    address: str = Field("", description="special invoices: the buyer's registered address")
    phone: str = Field("", description="special invoices: the buyer's registered phone")
    bank: str = Field("", description="special invoices: the buyer's bank")
    account: str = Field("", description="special invoices: the buyer's bank account")


class PaymentIn(Schema):
    method: str = Field(..., examples=["alipay"])
    transaction_id: str = ""
    amount: str | None = Field(None, description="Defaults to the payable amount.")
    paid_at: When | None = None


class TotalsIn(Schema):
    goods: str | None = None
    line_discount: str | None = None
    order_discount: str | None = None
    shipping: str | None = None
    payable: str | None = None


class OrderIn(Schema):
    channel: str = Field(..., examples=["TMALL"])
    platform_order_id: str = Field(..., examples=["TB2026011500001"])
    type: str = Field(
        "sale",
        description='sale or reissue; "return" is refused: a return is an after-sales case on its original order',
    )
    currency: str = Field("", description="Defaults to the channel's currency.")
    placed_at: When | None = None
    buyer: BuyerIn | None = None
    receiver: ReceiverIn
    buyer_remark: str = ""
    seller_remark: str = ""
    invoice: InvoiceIn | None = None
    presale: bool = False
    cod: bool = False
    order_discount: str = Field("0.00", description="An unnamed order discount, beyond the promotions.")
    shipping: str = "0.00"
    payment: PaymentIn | None = None
    lines: list[OrderLineIn]
    promotions: list[OrderPromotionIn] = Field([], description="The promotions the order received, as rules (L1).")
    totals: TotalsIn | None = Field(None, description="The platform's stated totals; refused if lines disagree.")


class BulkIn(Schema):
    orders: list[OrderIn] = Field(..., min_length=1, max_length=1000)
    refuse_when_short: bool = False


class OrderCancelIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


def inline_schema(model: type[Schema]) -> dict[str, Any]:
    """A self-contained JSON schema (no $defs) for openapi_extra."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def json_body(model: type[Schema]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inline_schema(model)}}}}


# ---- responses


def money(minor: int, currency: str) -> str:
    return format_minor(minor, currency)


def order_summary(order: Order) -> dict[str, Any]:
    return {
        "number": order.number,
        "channel": order.channel.code,
        "platform_order_ids": list(order.platform_order_ids),
        "type": order.order_type,
        "classification": order.classification,
        "status": order.status,
        "status_label": STATUS_LABELS[Status(order.status)][0],
        "buyer_status": BUYER_STATUS[Status(order.status)],
        "payment_status": order.payment_status,
        "payment_status_label": PAYMENT_STATUS_LABELS[PaymentStatus(order.payment_status)][0],
        "currency": order.currency,
        "payable": money(order.payable_minor, order.currency),
        "received": money(order.received_minor, order.currency),
        "receiver_name": order.receiver_name,
        "receiver_phone": order.receiver_phone,
        "customer_id": order.customer_id,
        "placed_at": order.placed_at,
        "paid_at": order.paid_at,
        "created_at": order.created_at,
        "has_unmapped_lines": order.has_unmapped_lines,
        "has_short_lines": order.has_short_lines,
        # Replaced by a split or merge (closed; its lineage names the orders that carry on).
        "retired": bool(getattr(order, "is_retired", False)),
    }


def line_out(line: OrderLine, currency: str) -> dict[str, Any]:
    return {
        "line_no": line.line_no,
        "sku_code": line.sku.code if line.sku else None,
        "platform_sku_code": line.platform_sku_code,
        "platform_line_id": line.platform_line_id,
        "name": line.name,
        "quantity": line.quantity,
        "unit_price": money(line.unit_price_minor, currency),
        "gross": money(line.gross_minor, currency),
        "line_discount": money(line.line_discount_minor, currency),
        "order_discount": money(line.order_discount_minor, currency),
        "shipping": money(line.shipping_minor, currency),
        "paid": money(line.paid_minor, currency),
        "promotions": [
            {**{k: v for k, v in p.items() if k != "amount_minor"}, "amount": money(p["amount_minor"], currency)}
            for p in line.promotions
        ],
        "is_gift": line.is_gift,
        "presale": line.is_presale,
        "tax_rate_bp": line.tax_rate_bp,
        "unmapped": line.sku_id is None,
        "short_quantity": line.short_quantity,
        "platform_paid": None if line.platform_paid_minor is None else money(line.platform_paid_minor, currency),
        "platform_paid_mismatch": line.platform_paid_minor is not None and line.platform_paid_minor != line.paid_minor,
    }


def promotion_out(p: dict[str, Any], currency: str) -> dict[str, Any]:
    return {
        "kind": p["kind"],
        "name": p["name"],
        "code": p.get("code", ""),
        "funder": p.get("funder", "merchant"),
        "line_nos": [int(i) + 1 for i in p.get("lines", [])],
        "amount": money(int(p.get("amount_minor", 0)), currency),
        "per_line": {str(int(i) + 1): money(int(a), currency) for i, a in p.get("shares", {}).items()},
    }


def payment_out(p: Payment) -> dict[str, Any]:
    return {
        "method": p.method,
        "transaction_id": p.transaction_id,
        "kind": p.kind,
        "amount": money(p.amount_minor, p.currency),
        "paid_at": p.paid_at,
        "needs_refund": p.needs_refund,
        "refund_due": money(p.refund_due_minor, p.currency),
    }


def event_out(e: OrderEvent) -> dict[str, Any]:
    return {
        "at": e.at,
        "kind": e.kind,
        "from_status": e.from_status,
        "to_status": e.to_status,
        "actor": e.actor_name,
        "reason": e.reason,
        "data": e.data,
    }


def order_detail(order: Order) -> dict[str, Any]:
    c = order.currency
    return {
        **order_summary(order),
        "allowed_next": [s.value for s in allowed_next(order.status)],
        "receiver": {
            "name": order.receiver_name,
            "phone": order.receiver_phone,
            "province": order.receiver_province,
            "city": order.receiver_city,
            "district": order.receiver_district,
            "address": order.receiver_address,
            "postcode": order.receiver_postcode,
        },
        "buyer_remark": order.buyer_remark,
        "seller_remark": order.seller_remark,
        "invoice": {
            "kind": order.invoice_kind,
            "title": order.invoice_title,
            "tax_id": order.invoice_tax_id,
            "email": order.invoice_email,
        },
        "presale": order.is_presale,
        "cod": order.is_cod,
        "amounts": {
            "goods": money(order.goods_minor, c),
            "line_discount": money(order.line_discount_minor, c),
            "order_discount": money(order.order_discount_minor, c),
            "shipping": money(order.shipping_minor, c),
            "payable": money(order.payable_minor, c),
            "received": money(order.received_minor, c),
            "refunded": money(order.refunded_minor, c),
        },
        "warehouse": order.warehouse.code if order.warehouse else None,
        "final_warehouse": order.final_warehouse.code if order.final_warehouse else None,
        "courier": order.courier.code if order.courier else None,
        "tracking_number": order.tracking_number,
        "lines": [line_out(ln, c) for ln in order.lines.all()],
        "promotions": [promotion_out(p, c) for p in order.promotions],
        "has_platform_mismatch": order.has_platform_mismatch,
        "payments": [payment_out(p) for p in order.payments.all()],
        "timeline": [event_out(e) for e in order.events.all()],
    }


def customer_out(c: Customer) -> dict[str, Any]:
    return {
        "id": c.pk,
        "channel": c.channel.code,
        "platform_buyer_id": c.platform_buyer_id,
        "nickname": c.nickname,
        "name": c.name,
        "phone": c.phone,
        "email": c.email,
        "created_at": c.created_at,
    }


class OrderSummaryOut(Schema):
    number: str
    channel: str
    platform_order_ids: list[str]
    type: str
    classification: str
    status: str
    status_label: str
    buyer_status: str | None
    payment_status: str
    payment_status_label: str
    currency: str
    payable: str
    received: str
    receiver_name: str
    receiver_phone: str | None = Field(description="null without orders.view_customer (oms.api.fields)")
    customer_id: int | None
    placed_at: datetime
    paid_at: datetime | None
    created_at: datetime
    has_unmapped_lines: bool
    has_short_lines: bool
    retired: bool = False


class OrderPageOut(Schema):
    items: list[OrderSummaryOut]
    next_cursor: str | None


class CustomerOut(Schema):
    id: int
    channel: str
    platform_buyer_id: str | None
    nickname: str
    name: str
    phone: str | None
    email: str | None
    created_at: datetime


class CustomerDetailOut(CustomerOut):
    orders: list[OrderSummaryOut]
    next_cursor: str | None
