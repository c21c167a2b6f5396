"""Orders in the console: list with filters and search, detail, cancel, customers, file import.

Views parse the request, call one selector or service, and render; amounts are formatted here from
minor units so templates never do arithmetic.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from oms.aftersales.models import CaseLine
from oms.channels.models import Channel
from oms.console.permissions import console_view
from oms.console.rendering import event_row, payment_row
from oms.core.domain.money import format_minor
from oms.core.domain.regions import province_lookup
from oms.core.errors import ApplicationError
from oms.core.texts import error_render
from oms.fulfillment.models import Courier
from oms.fulfillment.selectors import order_outstanding
from oms.inventory.models import Warehouse
from oms.orders.domain.payments import PAYMENT_STATUS_LABELS, PaymentStatus
from oms.orders.domain.status import BUYER_STATUS, STATUS_LABELS, TERMINAL, Status, allowed_next
from oms.orders.models import InvoiceKind, Order, OrderType
from oms.orders.selectors import (
    COUNT_CAP,
    SORTS,
    OrderFilters,
    order_count,
    order_get,
    order_list,
    order_status_counts,
    order_totals_check,
)
from oms.orders.services.cancel import order_cancel
from oms.orders.services.remarks import order_remarks_update
from oms.reports.exports.filters import order_filters_parse

SORT_LABELS = {
    "-created_at": gettext_lazy("Newest first"),
    "created_at": gettext_lazy("Oldest first"),
    "-paid_at": gettext_lazy("Paid, newest first"),
    "paid_at": gettext_lazy("Paid, oldest first"),
}
_BADGE = {
    Status.CANCELLED: "bad",
    Status.INVALID: "bad",
    Status.REJECTED: "bad",
    Status.PENDING_PAYMENT: "warn",
    Status.PARTIALLY_SHIPPED: "warn",
    Status.SHIPPED: "ok",
    Status.SIGNED: "ok",
    Status.CLOSED: "ok",
}


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters(request: HttpRequest) -> OrderFilters:
    return order_filters_parse(request.GET)


# Statuses an order can still be short of stock in: after it leaves, a 缺货 badge would be stale.
_BEFORE_SHIPMENT = (Status.PENDING_REVIEW, Status.PENDING_SPLIT, Status.PENDING_DISPATCH, Status.PENDING_SHIPMENT)
# The list's tabs: the working queues first, then where orders end. Labels stay Chinese in every language.
TAB_STATUSES = (
    Status.PENDING_PAYMENT,
    Status.PENDING_REVIEW,
    Status.PENDING_SPLIT,
    Status.PENDING_DISPATCH,
    Status.PENDING_SHIPMENT,
    Status.PARTIALLY_SHIPPED,
    Status.SHIPPED,
    Status.SIGNED,
    Status.CANCELLED,
    Status.CLOSED,
)


def order_row(order: Order) -> dict[str, Any]:
    status = Status(order.status)
    return {
        "order": order,
        "status_label": STATUS_LABELS[status][0],
        "badge": _BADGE.get(status, ""),
        "payment_label": PAYMENT_STATUS_LABELS[PaymentStatus(order.payment_status)][0],
        "payable": format_minor(order.payable_minor, order.currency),
        "short": order.has_short_lines and status in _BEFORE_SHIPMENT,
    }


def _count_text(n: int) -> str:
    return f"{COUNT_CAP}+" if n > COUNT_CAP else str(n)


def _tabs(request: HttpRequest, current: str) -> list[dict[str, Any]]:
    """Status tabs with their counts (capped: an index walk of at most COUNT_CAP entries each)."""
    counts = order_status_counts(statuses=[s.value for s in TAB_STATUSES])
    params = request.GET.copy()
    for key in ("cursor", "status"):
        params.pop(key, None)
    base = params.urlencode()
    tabs = [{"status": "", "label": _("All"), "count": None, "query": base, "active": not current}]
    for s in TAB_STATUSES:
        query = f"{base}&status={s.value}" if base else f"status={s.value}"
        tabs.append(
            {
                "status": s.value,
                "label": STATUS_LABELS[s][0],
                "count": _count_text(counts[s.value]),
                "query": query,
                "active": current == s.value,
            }
        )
    return tabs


def _print_urls() -> dict[str, str]:
    """The pick list and packing slip PDFs (fulfilment), when the installed console has them."""
    urls = {}
    for key, name in (
        ("picklist", "console:fulfillment-picklist"),
        ("packing_slip", "console:fulfillment-packing-slip"),
    ):
        try:
            urls[key] = reverse(name)
        except NoReverseMatch:
            continue
    return urls


@console_view("orders.view_order")
def order_index(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    try:
        page = order_list(filters=filters, cursor=request.GET.get("cursor", ""), limit=50)
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
        page = order_list(filters=filters, limit=50)
    params = request.GET.copy()
    params.pop("cursor", None)
    context: dict[str, Any] = {
        "rows": [order_row(o) for o in page.items],
        "next_cursor": page.next_cursor,
        "query": params.urlencode(),
        "f": filters,
        "raw": request.GET,
        "types": OrderType.choices,
        "channels": Channel.objects.order_by("code").values_list("code", "name"),
    }
    if getattr(request, "htmx", False):
        return render(request, "console/orders/_rows.html", context)
    sort_params = request.GET.copy()
    for key in ("cursor", "sort"):
        sort_params.pop(key, None)
    context |= {
        "tabs": _tabs(request, filters.status),
        "total": _count_text(order_count(filters=filters)),
        "sorts": [(value, SORT_LABELS[value]) for value in SORTS],
        "sort": filters.sort or SORTS[0],
        "sort_query": sort_params.urlencode(),
        "print_urls": _print_urls(),
        "bulk_warehouses": Warehouse.objects.filter(is_active=True).order_by("code").values_list("code", "name")
        if request.user.has_perm("fulfillment.transfer_warehouse")
        else [],
        "bulk_couriers": Courier.objects.filter(is_active=True).order_by("code").values_list("code", "name")
        if request.user.has_perm("fulfillment.assign_courier")
        else [],
    }
    return render(request, "console/orders/list.html", context)


def _line_units(order: Order) -> tuple[dict[int, int], dict[int, int]]:
    """Units shipped per line number (parcels) and units returned per line id (received back by after-sales)."""
    shipped = {row["line_no"]: row["shipped"] for row in order_outstanding(order=order)}
    returned = dict(
        CaseLine.objects.filter(line__order=order)
        .values("line_id")
        .annotate(n=Sum("received_quantity"))
        .values_list("line_id", "n")
    )
    return shipped, returned


@console_view("orders.view_order")
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    try:
        order = order_get(number=number)
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
        return redirect("console:orders")
    c = order.currency

    def m(minor: int) -> str:
        return format_minor(minor, c)

    shipped, returned = _line_units(order)
    lines = [
        {
            "line": ln,
            "shipped": shipped.get(ln.line_no, 0),
            "short_matters": Status(order.status) in _BEFORE_SHIPMENT,
            "returned": returned.get(ln.pk, 0),
            "unit_price": m(ln.unit_price_minor),
            "gross": m(ln.gross_minor),
            "line_discount": m(ln.line_discount_minor),
            "order_discount": m(ln.order_discount_minor),
            "shipping": m(ln.shipping_minor),
            "paid": m(ln.paid_minor),
            "promotions": [f"{p['name']} −{m(p['amount_minor'])}" for p in ln.promotions],
            "tax_rate": f"{ln.tax_rate_bp / 100:g}%",
        }
        for ln in order.lines.all()
    ]
    sums = order_totals_check(order)
    province = province_lookup(order.receiver_province)
    context = {
        **order_row(order),
        "order": order,
        "buyer_status": BUYER_STATUS[Status(order.status)],
        "lines": lines,
        "totals": {k: (m(v) if k.endswith("_minor") else v) for k, v in sums.items()},
        "amounts": [
            (_("Goods"), m(order.goods_minor)),
            (_("Item discounts"), m(order.line_discount_minor)),
            (_("Order discount"), m(order.order_discount_minor)),
            (_("Shipping"), m(order.shipping_minor)),
            (_("Payable"), m(order.payable_minor)),
            (_("Received"), m(order.received_minor)),
            (_("Refunded"), m(order.refunded_minor)),
        ],
        "payments": [payment_row(p, c) for p in order.payments.all()],
        "events": [event_row(e, c) for e in order.events.all()],
        "province": province.name if province else order.receiver_province,
        "can_cancel": request.user.has_perm("orders.cancel_order") and Status.CANCELLED in allowed_next(order.status),
        "can_review": request.user.has_perm("orders.review")
        and order.status == Status.PENDING_REVIEW
        and order.reviewed_at is None,
        "can_split": request.user.has_perm("orders.split")
        and order.status in (Status.PENDING_REVIEW, Status.PENDING_SPLIT, Status.PENDING_DISPATCH),
        "print_urls": _print_urls(),
        "can_edit_remarks": request.user.has_perm("orders.edit_remarks") and Status(order.status) not in TERMINAL,
        "invoice_kinds": InvoiceKind.choices,
    }
    return render(request, "console/orders/detail.html", context)


@console_view("orders.cancel_order")
@require_POST
def order_cancel_view(request: HttpRequest, number: str) -> HttpResponse:
    reason = request.POST.get("reason", "").strip()
    try:
        order = order_get(number=number)
        order_cancel(order=order, actor=request.user, reason=reason)
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
    else:
        messages.success(request, _("Order %(number)s cancelled.") % {"number": number})
    return redirect("console:order_detail", number=number)


@console_view("orders.edit_remarks")
@require_POST
def order_remarks_view(request: HttpRequest, number: str) -> HttpResponse:
    p = request.POST
    try:
        order_remarks_update(
            order=order_get(number=number),
            actor=request.user,
            seller_remark=p.get("seller_remark", ""),
            invoice={k: p.get(f"invoice_{k}", "") for k in ("kind", "title", "tax_id", "email")},
        )
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
    else:
        messages.success(request, _("Remarks saved."))
    return redirect("console:order_detail", number=number)
