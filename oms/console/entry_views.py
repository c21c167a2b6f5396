"""Console forms for what only the API could do: enter an order by hand (a sale or a reissue), record a payment
or a refund, settle money owed back, close a platform refund request.

Each view checks the same per-action permission as its API operation and calls the same service; refusals are
rendered in the operator's language (`error_render`), naming the field.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from oms.catalog.models import Sku
from oms.channels.models import Channel
from oms.console.permissions import console_view
from oms.core.domain.money import format_minor, parse_minor
from oms.core.errors import ApplicationError, FieldError, ValidationFailed
from oms.core.texts import error_problems, error_render, label
from oms.orders.models import Order, PaymentKind
from oms.orders.selectors import order_get
from oms.orders.services.intake import order_intake
from oms.orders.services.payments import PAYMENT_METHODS, payment_record
from oms.review.models import RefundRequest
from oms.review.services import refund_request_close

LINE_ROWS = 5
RECEIVER_FIELDS = ("name", "phone", "province", "city", "district", "address", "postcode")
ORDER_TYPES = ("sale", "reissue")


def _methods() -> list[tuple[str, str]]:
    return [(m, label("payment_method", m)) for m in PAYMENT_METHODS]


def _lines_from_post(post: Any) -> list[dict[str, Any]]:
    rows = []
    for i in range(LINE_ROWS):
        code = post.get(f"line-{i}-sku", "").strip()
        qty = post.get(f"line-{i}-qty", "").strip()
        price = post.get(f"line-{i}-price", "").strip()
        if code or qty or price:
            rows.append({"sku_code": code, "quantity": qty, "unit_price": price or "0"})
    return rows


def _quantity(value: str, index: int) -> int:
    try:
        quantity = int(value)
    except ValueError:
        quantity = 0
    if quantity < 1:
        raise ValidationFailed(
            _("The order cannot be taken in."),
            details=[
                FieldError(
                    _("Line %(n)s, quantity") % {"n": index + 1}, _("Enter a whole number of units, at least 1.")
                )
            ],
        )
    return quantity


def _payload(post: Any) -> dict[str, Any]:
    """The intake payload of the form, in the API's shape (`OrderIn`)."""
    lines = _lines_from_post(post)
    if not lines:
        raise ValidationFailed(
            _("The order cannot be taken in."), details=[FieldError(_("Lines"), _("Enter at least one line."))]
        )
    for i, line in enumerate(lines):
        line["quantity"] = _quantity(str(line["quantity"]), i)
    platform_id = post.get("platform_order_id", "").strip()
    if not platform_id:
        platform_id = f"HAND{timezone.localtime():%Y%m%d%H%M%S}{secrets.token_hex(2).upper()}"
    payload: dict[str, Any] = {
        "channel": post.get("channel", "").strip(),
        "platform_order_id": platform_id,
        "type": post.get("type", "sale") if post.get("type") in ORDER_TYPES else "sale",
        "receiver": {k: post.get(f"receiver_{k}", "").strip() for k in RECEIVER_FIELDS},
        "buyer_remark": post.get("buyer_remark", "").strip(),
        "seller_remark": post.get("seller_remark", "").strip(),
        "shipping": post.get("shipping", "").strip() or "0",
        "lines": lines,
    }
    phone = payload["receiver"]["phone"]
    if phone:
        payload["buyer"] = {"platform_buyer_id": f"phone:{phone}", "name": payload["receiver"]["name"], "phone": phone}
    method = post.get("payment_method", "").strip()
    if method and payload["type"] == "sale":
        payment: dict[str, Any] = {"method": method, "transaction_id": post.get("payment_transaction_id", "").strip()}
        if post.get("payment_amount", "").strip():
            payment["amount"] = post["payment_amount"].strip()
        payload["payment"] = payment
    return payload


def _reissue_initial(number: str) -> dict[str, Any]:
    """The form filled from the original of a reissue: its channel, receiver and lines at no charge."""
    original = order_get(number=number)
    initial: dict[str, Any] = {
        "channel": original.channel.code,
        "type": "reissue",
        "seller_remark": _("Reissue of %(number)s") % {"number": original.number},
        **{f"receiver_{k}": getattr(original, f"receiver_{k}") for k in RECEIVER_FIELDS},
    }
    for i, line in enumerate(original.lines.select_related("sku").all()[:LINE_ROWS]):
        if line.sku is not None:
            initial.update(
                {f"line-{i}-sku": line.sku.code, f"line-{i}-qty": str(line.quantity), f"line-{i}-price": "0"}
            )
    return initial


@console_view("orders.add_order")
def order_new(request: HttpRequest) -> HttpResponse:
    """Enter an order by hand through the API's intake service (same checks, same idempotency)."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = request.POST.dict()
        try:
            outcome = order_intake(payload=_payload(request.POST), actor=request.user)
            if outcome.error is not None:
                raise outcome.error
        except ApplicationError as exc:
            problems = error_problems(exc)
            messages.error(request, error_render(exc))
        else:
            assert outcome.order is not None
            messages.success(request, _("Order %(number)s entered.") % {"number": outcome.order.number})
            return redirect("console:order_detail", number=outcome.order.number)
    elif request.GET.get("reissue_of"):
        try:
            values = _reissue_initial(request.GET["reissue_of"].strip())
        except ApplicationError as exc:
            messages.error(request, error_render(exc))
    context = {
        "values": values,
        "problems": problems,
        "channels": Channel.objects.order_by("code").values_list("code", "name"),
        "types": [("sale", _("Sale")), ("reissue", _("Reissue (no charge)"))],
        "methods": _methods(),
        "rows": [
            {
                "i": i,
                "sku": values.get(f"line-{i}-sku", ""),
                "qty": values.get(f"line-{i}-qty", ""),
                "price": values.get(f"line-{i}-price", ""),
            }
            for i in range(LINE_ROWS)
        ],
    }
    return render(request, "console/entry/order_new.html", context)


@console_view("orders.add_order")
def sku_options(request: HttpRequest) -> HttpResponse:
    """The SKU picker (htmx): up to 20 SKUs whose code, barcode or name contains what was typed."""
    q = (request.GET.get("q") or "").strip()[:64]
    for key in request.GET:
        value = request.GET.get(key, "").strip()
        if key.startswith("line-") and key.endswith("-sku") and value:
            q = value[:64]
    skus: list[Sku] = []
    if q:
        match = Q(code__icontains=q) | Q(name__icontains=q) | Q(barcode=q)
        skus = list(Sku.objects.filter(match).order_by("code")[:20])
    return render(request, "console/entry/_sku_options.html", {"skus": skus})


def _money_context(request: HttpRequest, order: Order) -> dict[str, Any]:
    c = order.currency
    payments = list(order.payments.all())
    return {
        "order": order,
        "methods": _methods(),
        "kinds": [(PaymentKind.PAYMENT.value, _("Payment")), (PaymentKind.REFUND.value, _("Refund"))],
        "received": format_minor(order.received_minor, c),
        "refunded": format_minor(order.refunded_minor, c),
        "payable": format_minor(order.payable_minor, c),
        "payments": [
            {"p": p, "method": label("payment_method", p.method), "amount": format_minor(p.amount_minor, c)}
            for p in payments
            if p.kind == PaymentKind.PAYMENT
        ],
        "owed": [
            {
                "p": p,
                "method": label("payment_method", p.method),
                "due": format_minor(p.refund_due_minor, c),
            }
            for p in payments
            if p.kind == PaymentKind.PAYMENT and p.refund_due_minor > 0
        ],
        "refund_requests": [
            {"r": r, "amount": format_minor(r.amount_minor, c)}
            for r in RefundRequest.objects.filter(order=order, is_open=True).order_by("received_at")
        ]
        if request.user.has_perm("review.view_refundrequest") or request.user.has_perm("review.change_refundrequest")
        else [],
        "can_close_refund": request.user.has_perm("review.change_refundrequest"),
    }


@console_view("orders.view_order", "orders.record_payment")
def order_money(request: HttpRequest, number: str) -> HttpResponse:
    """Record a payment or a refund, settle what is owed back, close a refund request — one page per order."""
    try:
        order = order_get(number=number)
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
        return redirect("console:orders")
    problems: list[str] = []
    if request.method == "POST":
        p = request.POST
        kind = p.get("kind", PaymentKind.PAYMENT)
        try:
            if kind not in (PaymentKind.PAYMENT, PaymentKind.REFUND):
                raise ValidationFailed(
                    _("The payment cannot be recorded."),
                    details=[FieldError(_("Kind"), _("Choose payment or refund."))],
                )
            result = payment_record(
                order=order,
                method=p.get("method", "").strip(),
                transaction_id=p.get("transaction_id", "").strip(),
                amount_minor=parse_minor(p.get("amount", "").strip(), order.currency, field="amount"),
                paid_at=None,
                actor=request.user,
                kind=kind,
                refund_of=p.get("refund_of", "").strip(),
            )
        except ApplicationError as exc:
            problems = error_problems(exc)
            messages.error(request, error_render(exc))
        else:
            done = _("Refund recorded.") if kind == PaymentKind.REFUND else _("Payment recorded.")
            if not result.created:
                done = _("This transaction was recorded before; nothing changed.")
            messages.success(request, done)
            return redirect("console:order_money", number=number)
    context = _money_context(request, order)
    context.update({"problems": problems, "values": request.POST if request.method == "POST" else {}})
    return render(request, "console/entry/money.html", context)


@console_view("orders.view_order", "review.change_refundrequest")
@require_POST
def refund_request_close_view(request: HttpRequest, number: str) -> HttpResponse:
    """The platform closed a refund request (withdrawn, refused or paid out): close it here too."""
    try:
        order = order_get(number=number)
        note = request.POST.get("note", "").strip()
        if not note:
            raise ValidationFailed(
                _("The refund request cannot be closed."), details=[FieldError(_("Why"), _("Say why."))]
            )
        closed = refund_request_close(
            order=order,
            platform_refund_id=request.POST.get("platform_refund_id", "").strip(),
            actor=request.user,
            note=note,
        )
        if closed is None:
            raise ValidationFailed(
                _("The refund request cannot be closed."),
                details=[FieldError(_("Platform refund id"), _("No open refund request of this id."))],
            )
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
    else:
        messages.success(request, _("Refund request %(id)s closed.") % {"id": closed.platform_refund_id})
    if request.user.has_perm("orders.record_payment"):
        return redirect("console:order_money", number=number)
    return redirect("console:order_detail", number=number)
