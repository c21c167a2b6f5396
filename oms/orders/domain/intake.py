"""Turn one incoming order (API JSON, a bulk item, or rows of an import file) into a checked command.

Pure: no database. Collects every problem with its field path instead of stopping at the first,
so a merchant fixes a bad order in one round trip. Checks needing the database (channel, SKU,
currency of the channel) are added by the intake service to the same list.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oms.core.domain.limits import MAX_ORDER_LINE_QUANTITY, MAX_SHIPPING_MINOR, MAX_UNIT_PRICE_MINOR
from oms.core.domain.money import CURRENCY_EXPONENTS
from oms.core.domain.regions import province_lookup
from oms.core.errors import FieldError
from oms.orders.domain.fields import EMAIL_RE, POSTCODE_RE, TAX_ID_RE, FieldReader
from oms.orders.domain.money_plan import StatedTotals
from oms.orders.domain.promotion_intake import LineRef, PromotionIn, promotions_read
from oms.orders.domain.taxpayer import taxpayer_id_problem

ORDER_TYPES = ("sale", "return", "reissue")
INVOICE_KINDS = ("none", "personal", "company")
INVOICE_TYPES = ("normal", "special", "paper")
INVOICE_OPTIONAL = {"type": "normal", "mobile": "", "address": "", "phone": "", "bank": "", "account": ""}
PROMOTION_KINDS = ("discount", "coupon", "full_reduction", "gift", "price_cut", "other")
MAX_LINES = 500
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")


@dataclass(frozen=True)
class Promotion:
    code: str
    name: str
    kind: str
    amount_minor: int


@dataclass(frozen=True)
class LineIn:
    platform_line_id: str
    platform_sku_code: str
    sku_code: str
    name: str
    quantity: int
    unit_price_minor: int
    line_discount_minor: int
    promotions: tuple[Promotion, ...]
    is_gift: bool
    # Presale (预售): None when the line does not say, and then the order's presale flag applies.
    is_presale: bool | None = None
    # The platform's own figure of what the line was paid (分摊后实付), kept beside ours; None when it sends none.
    platform_paid_minor: int | None = None


@dataclass(frozen=True)
class Buyer:
    platform_buyer_id: str
    nickname: str
    name: str
    phone: str
    email: str


@dataclass(frozen=True)
class Receiver:
    name: str
    phone: str
    province: str  # GB/T 2260 adcode
    city: str
    district: str
    address: str
    postcode: str


@dataclass(frozen=True)
class Invoice:
    kind: str  # title type: none, personal, company
    title: str
    tax_id: str
    email: str
    # Beyond the first four (an order taken in before them keeps its fingerprint: empty ones are left out).
    type: str = "normal"  # normal (电子普票), special (专票), paper (纸质)
    mobile: str = ""
    address: str = ""
    phone: str = ""
    bank: str = ""
    account: str = ""


@dataclass(frozen=True)
class PaymentIn:
    method: str
    transaction_id: str
    amount_minor: int | None
    paid_at: datetime | None


@dataclass(frozen=True)
class IntakeCommand:
    channel_code: str
    platform_order_id: str
    order_type: str
    currency: str
    placed_at: datetime | None
    buyer: Buyer | None
    receiver: Receiver
    buyer_remark: str
    seller_remark: str
    invoice: Invoice
    is_presale: bool
    is_cod: bool
    order_discount_minor: int
    shipping_minor: int
    payment: PaymentIn | None
    lines: tuple[LineIn, ...]
    stated: StatedTotals
    # The order's promotions as rules (L1); the unnamed order_discount is beyond them.
    promotions: tuple[PromotionIn, ...] = ()

    def snapshot(self) -> dict[str, Any]:
        """JSON-safe, canonical: what the order said when it came in (kept on the order as its record).
        A line's presale flag and platform paid figure, and the order's promotions, appear only when stated, so
        orders taken in before they could be keep their fingerprint (a replay of them is still recognised)."""
        plain: dict[str, Any] = _jsonable(self)
        for line in plain["lines"]:
            for optional in ("is_presale", "platform_paid_minor"):
                if line.get(optional) is None:
                    line.pop(optional, None)
        if not plain["promotions"]:
            plain.pop("promotions")
        for optional, empty in INVOICE_OPTIONAL.items():
            if plain["invoice"].get(optional) == empty:
                plain["invoice"].pop(optional)
        return plain

    def fingerprint(self) -> str:
        return snapshot_fingerprint(self.snapshot())


def snapshot_fingerprint(snapshot: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    # Hand-rolled rather than dataclasses.asdict, which deep-copies every leaf: this runs once per order.
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def snapshot_diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Every leaf that differs between two snapshots, with its path: what a 409 shows the caller."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[dict[str, Any]] = []
        for key in sorted(set(old) | set(new)):
            out += snapshot_diff(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out += snapshot_diff(a, b, f"{path}[{i}]")
        return out
    if old != new:
        return [{"field": path, "existing": old, "incoming": new}]
    return []


def _quantity(r: FieldReader, data: Mapping[str, Any], path: str) -> int:
    value = data.get("quantity")
    field = f"{path}.quantity"
    if isinstance(value, bool) or not isinstance(value, int):
        r.err(
            field, "The quantity must be a whole number (a JSON integer).", "type" if value is not None else "required"
        )
        return 1
    if value <= 0:
        r.err(field, f"The quantity must be greater than 0 (got {value}).", "not_positive")
        return 1
    if value > MAX_ORDER_LINE_QUANTITY:
        r.err(field, f"At most {MAX_ORDER_LINE_QUANTITY} units per line.", "too_large")
    return value


def _line(r: FieldReader, data: Any, i: int, currency: str) -> LineIn | None:
    path = f"lines[{i}]"
    if not isinstance(data, Mapping):
        r.err(path, "Expected an object.", "type")
        return None
    promos: list[Promotion] = []
    raw_promos = data.get("promotions") or []
    if not isinstance(raw_promos, list):
        r.err(f"{path}.promotions", "Expected a list.", "type")
        raw_promos = []
    for j, p in enumerate(raw_promos):
        ppath = f"{path}.promotions[{j}]"
        if not isinstance(p, Mapping):
            r.err(ppath, "Expected an object.", "type")
            continue
        kind = r.text(p, "kind", ppath, max_len=32, default="discount")
        if kind not in PROMOTION_KINDS:
            r.err(f"{ppath}.kind", f"Unknown promotion kind {kind!r}; one of {', '.join(PROMOTION_KINDS)}.", "choice")
        promos.append(
            Promotion(
                code=r.text(p, "code", ppath, max_len=64),
                name=r.text(p, "name", ppath, max_len=100, required=True),
                kind=kind,
                amount_minor=r.money(p, "amount", ppath, currency),
            )
        )
    promo_sum = sum(p.amount_minor for p in promos)
    line_discount = r.optional_money(data, "line_discount", path, currency)
    if line_discount is None:
        line_discount = promo_sum
    elif promos and line_discount != promo_sum:
        r.err(f"{path}.line_discount", "The line discount must equal the sum of its promotions.", "promotions_mismatch")
    platform_sku = r.text(data, "platform_sku_code", path, max_len=64)
    sku_code = r.text(data, "sku_code", path, max_len=64)
    if not platform_sku and not sku_code:
        r.err(f"{path}.sku_code", "Give the merchant SKU code or the platform SKU code.", "required")
    return LineIn(
        platform_line_id=r.text(data, "platform_line_id", path, max_len=64),
        platform_sku_code=platform_sku,
        sku_code=sku_code,
        name=r.text(data, "name", path, max_len=200),
        quantity=_quantity(r, data, path),
        unit_price_minor=r.money(data, "unit_price", path, currency, required=True, limit=MAX_UNIT_PRICE_MINOR),
        line_discount_minor=line_discount,
        promotions=tuple(promos),
        is_gift=r.flag(data, "is_gift", path),
        is_presale=None if data.get("presale") in (None, "") else r.flag(data, "presale", path),
        platform_paid_minor=r.optional_money(data, "platform_paid", path, currency),
    )


def _receiver(r: FieldReader, data: Mapping[str, Any]) -> Receiver:
    path = "receiver"
    province_text = r.text(data, "province", path, max_len=32, required=True)
    province = province_lookup(province_text) if province_text else None
    if province_text and province is None:
        r.err("receiver.province", f"{province_text!r} is not a province of China.", "bad_province")
    postcode = r.text(data, "postcode", path, max_len=6)
    if postcode and not POSTCODE_RE.match(postcode):
        r.err("receiver.postcode", "A postcode is 6 digits.", "bad_postcode")
    return Receiver(
        name=r.text(data, "name", path, max_len=64, required=True),
        phone=r.phone(data, "phone", path, required=True),
        province=province.adcode if province else "",
        city=r.text(data, "city", path, max_len=32, required=True),
        district=r.text(data, "district", path, max_len=32),
        address=r.text(data, "address", path, max_len=200, required=True),
        postcode=postcode,
    )


def invoice_read(r: FieldReader, data: Mapping[str, Any]) -> Invoice:
    path = "invoice"
    kind = r.text(data, "kind", path, max_len=16, default="none")
    if kind not in INVOICE_KINDS:
        r.err("invoice.kind", f"One of {', '.join(INVOICE_KINDS)}.", "choice")
        kind = "none"
    title = r.text(data, "title", path, max_len=100, required=kind != "none")
    tax_id = r.text(data, "tax_id", path, max_len=20, required=kind == "company").upper()
    if tax_id and not TAX_ID_RE.match(tax_id):
        r.err("invoice.tax_id", "A taxpayer id is 15 to 20 digits or capital letters.", "bad_tax_id")
    email = r.text(data, "email", path, max_len=254)
    if email and not EMAIL_RE.match(email):
        r.err("invoice.email", f"{email!r} is not an email address.", "bad_email")
    invoice_type = r.text(data, "type", path, max_len=8, default="normal")
    if invoice_type not in INVOICE_TYPES:
        r.err("invoice.type", f"One of {', '.join(INVOICE_TYPES)}.", "choice")
        invoice_type = "normal"
    special = invoice_type == "special"
    if special and kind != "company":
        r.err("invoice.kind", "A VAT special invoice (专票) is issued to a company title.", "special_needs_company")
    return Invoice(
        kind=kind,
        title=title,
        tax_id=tax_id,
        email=email,
        type=invoice_type,
        mobile=r.phone(data, "mobile", path, required=False),
        address=r.text(data, "address", path, max_len=200, required=special),
        phone=r.text(data, "phone", path, max_len=32, required=special),
        bank=r.text(data, "bank", path, max_len=100, required=special),
        account=r.text(data, "account", path, max_len=40, required=special),
    )


def invoice_profile_errors(invoice: Invoice, path: str = "invoice") -> list[FieldError]:
    """What the invoice request lacks to be issued, beyond its shape (which `invoice_read` checks): a company
    title's taxpayer id must be a unified social credit code with its check character (GB 32100-2015); a
    personal title's, when given, too. Intake keeps a platform's request as it came; issuing needs these."""
    if invoice.kind == "none":
        return []
    errors = []
    if invoice.kind == "company" and not invoice.tax_id:
        errors.append(FieldError(f"{path}.tax_id", "A company title needs its taxpayer id.", "required"))
    problem = taxpayer_id_problem(invoice.tax_id) if invoice.tax_id else None
    if problem:
        errors.append(FieldError(f"{path}.tax_id", problem, "bad_tax_id"))
    if not invoice.title:
        errors.append(FieldError(f"{path}.title", "The invoice title is required.", "required"))
    if invoice.type == "special":
        if invoice.kind != "company":
            errors.append(
                FieldError(
                    f"{path}.kind",
                    "A VAT special invoice (专票) is issued to a company title.",
                    "special_needs_company",
                )
            )
        for key in ("address", "phone", "bank", "account"):
            if not getattr(invoice, key):
                errors.append(FieldError(f"{path}.{key}", "A VAT special invoice (专票) needs this.", "required"))
    return errors


def _buyer(r: FieldReader, data: Mapping[str, Any]) -> Buyer | None:
    if not data:
        return None
    path = "buyer"
    buyer_id = r.text(data, "platform_buyer_id", path, max_len=64, required=True)
    email = r.text(data, "email", path, max_len=254)
    if email and not EMAIL_RE.match(email):
        r.err("buyer.email", f"{email!r} is not an email address.", "bad_email")
    return Buyer(
        platform_buyer_id=buyer_id,
        nickname=r.text(data, "nickname", path, max_len=64),
        name=r.text(data, "name", path, max_len=64),
        phone=r.phone(data, "phone", path, required=False),
        email=email,
    )


def _payment(r: FieldReader, data: Mapping[str, Any], currency: str) -> PaymentIn | None:
    if not data:
        return None
    path = "payment"
    return PaymentIn(
        method=r.text(data, "method", path, max_len=32, required=True),
        transaction_id=r.text(data, "transaction_id", path, max_len=64),
        amount_minor=r.optional_money(data, "amount", path, currency),
        paid_at=r.when(data, "paid_at", path),
    )


def intake_parse(payload: Any, *, default_currency: str = "CNY") -> tuple[IntakeCommand | None, list[FieldError]]:
    """The checked command, or None with every problem found. Never raises on bad input."""
    r = FieldReader()
    if not isinstance(payload, Mapping):
        r.err("body", "Expected a JSON object.", "type")
        return None, r.errors
    currency = r.text(payload, "currency", "", max_len=3, default=default_currency).upper()
    if currency not in CURRENCY_EXPONENTS:
        r.err("currency", f"Unsupported currency {currency!r}.", "unsupported_currency")
        currency = "CNY"
    platform_order_id = r.text(payload, "platform_order_id", "", max_len=64, required=True)
    if platform_order_id and not _ID_RE.match(platform_order_id):
        r.err("platform_order_id", "Use letters, digits, dot, dash, colon or underscore.", "bad_id")
    order_type = r.text(payload, "type", "", max_len=16, default="sale")
    if order_type == "return":
        # A return is goods coming back, never an outbound order: taken in as one it would reserve stock and be
        # dispatched to the warehouse to ship out. It is an after-sales case on its original order instead.
        r.err(
            "type",
            'An order of type "return" is not taken in: goods coming back are an after-sales return (售后) '
            "on the original order.",
            "return_not_outbound",
        )
    elif order_type not in ORDER_TYPES:
        r.err("type", f"One of {', '.join(ORDER_TYPES)}.", "choice")
    raw_lines = payload.get("lines")
    lines: list[LineIn] = []
    if not isinstance(raw_lines, list) or not raw_lines:
        r.err("lines", "An order needs at least one line.", "required")
    elif len(raw_lines) > MAX_LINES:
        r.err("lines", f"At most {MAX_LINES} lines per order.", "too_many")
    else:
        for i, raw in enumerate(raw_lines):
            line = _line(r, raw, i, currency)
            if line is not None:
                lines.append(line)
    totals = r.mapping(payload, "totals", "")
    stated = StatedTotals(
        goods_minor=r.optional_money(totals, "goods", "totals", currency),
        line_discount_minor=r.optional_money(totals, "line_discount", "totals", currency),
        order_discount_minor=r.optional_money(totals, "order_discount", "totals", currency),
        shipping_minor=r.optional_money(totals, "shipping", "totals", currency),
        payable_minor=r.optional_money(totals, "payable", "totals", currency),
    )
    command = IntakeCommand(
        channel_code=r.text(payload, "channel", "", max_len=32, required=True),
        platform_order_id=platform_order_id,
        order_type=order_type,
        currency=currency,
        placed_at=r.when(payload, "placed_at", ""),
        buyer=_buyer(r, r.mapping(payload, "buyer", "")),
        receiver=_receiver(r, r.mapping(payload, "receiver", "", required=True)),
        buyer_remark=r.text(payload, "buyer_remark", "", max_len=500),
        seller_remark=r.text(payload, "seller_remark", "", max_len=500),
        invoice=invoice_read(r, r.mapping(payload, "invoice", "")),
        is_presale=r.flag(payload, "presale", ""),
        is_cod=r.flag(payload, "cod", ""),
        order_discount_minor=r.money(payload, "order_discount", "", currency),
        shipping_minor=r.money(payload, "shipping", "", currency, limit=MAX_SHIPPING_MINOR),
        payment=_payment(r, r.mapping(payload, "payment", ""), currency),
        lines=tuple(lines),
        stated=stated,
        promotions=promotions_read(r, payload, [LineRef(ln.platform_line_id, ln.is_gift) for ln in lines], currency),
    )
    if r.errors:
        return None, r.errors
    return command, []
