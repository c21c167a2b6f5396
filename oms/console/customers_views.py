"""Customers in the console: search with order count and spend, one buyer's page with their orders, editing
(name, phone, remark through `oms.orders.services.customers`) and the blacklist (黑名单) action, whose entry the
seeded review rule 黑名单 holds the buyer's next orders by."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.db.models import Count, F, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from oms.console.orders_views import order_row
from oms.console.permissions import console_view
from oms.core.domain.money import format_minor
from oms.core.errors import ApplicationError
from oms.core.texts import error_problems, error_render
from oms.orders.models import Customer, Order
from oms.orders.selectors import OrderFilters, customer_get, customer_list, order_list, retired_expression
from oms.orders.services.customers import customer_update
from oms.review.models import BlacklistEntry, BlacklistKind
from oms.review.services import blacklist_add, blacklist_remove


def _stats(customer_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per customer: how many orders (replaced ones not counted) and what they spent (received less refunded),
    per currency — one grouped query for the whole page."""
    out: dict[int, dict[str, Any]] = defaultdict(lambda: {"orders": 0, "spend": []})
    rows = (
        Order.objects.filter(customer_id__in=customer_ids)
        .annotate(is_retired=retired_expression())
        .filter(is_retired=False)
        .values("customer_id", "currency")
        .annotate(n=Count("pk"), spent=Sum(F("received_minor") - F("refunded_minor")))
        .order_by("customer_id", "currency")
    )
    for row in rows:
        stats = out[row["customer_id"]]
        stats["orders"] += row["n"]
        stats["spend"].append(f"{format_minor(int(row['spent'] or 0), row['currency'])} {row['currency']}")
    return out


def _blacklisted(customers: list[Customer]) -> set[int]:
    ids = {c.platform_buyer_id for c in customers}
    listed = set(BlacklistEntry.objects.filter(kind=BlacklistKind.BUYER, value__in=ids).values_list("value", flat=True))
    return {c.pk for c in customers if c.platform_buyer_id in listed}


@console_view("orders.view_customer")
def customer_index(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:64]
    customers = customer_list(q=q, limit=100)
    stats = _stats([c.pk for c in customers])
    black = _blacklisted(customers)
    rows = [
        {"c": c, "orders": stats[c.pk]["orders"], "spend": stats[c.pk]["spend"], "black": c.pk in black}
        for c in customers
    ]
    return render(request, "console/customers/list.html", {"rows": rows, "q": q})


def _detail_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    page = order_list(filters=OrderFilters(customer_id=customer.pk), cursor=request.GET.get("cursor", ""), limit=50)
    stats = _stats([customer.pk])[customer.pk]
    return {
        "customer": customer,
        "rows": [order_row(o) for o in page.items],
        "next_cursor": page.next_cursor,
        "order_count": stats["orders"],
        "spend": stats["spend"],
        "blacklisted": bool(_blacklisted([customer])),
        "can_edit": request.user.has_perm("orders.change_customer"),
        "can_blacklist": request.user.has_perm("review.add_blacklistentry"),
        "can_unblacklist": request.user.has_perm("review.delete_blacklistentry"),
    }


@console_view("orders.view_customer", "orders.view_order")
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        customer = customer_get(pk=pk)
        context = _detail_context(request, customer)
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
        return redirect("console:customers")
    return render(request, "console/customers/detail.html", context)


@console_view("orders.view_customer", "orders.view_order", "orders.change_customer")
@require_POST
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        customer = customer_get(pk=pk)
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
        return redirect("console:customers")
    p = request.POST
    try:
        customer_update(
            customer=customer,
            actor=request.user,
            name=p.get("name", ""),
            phone=p.get("phone", ""),
            remark=p.get("remark", ""),
        )
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
        context = _detail_context(request, customer)
        context.update({"problems": error_problems(exc), "values": p})
        return render(request, "console/customers/detail.html", context, status=422)
    messages.success(request, _("Customer saved."))
    return redirect("console:customer_detail", pk=pk)


@console_view("orders.view_customer", "review.add_blacklistentry")
@require_POST
def customer_blacklist(request: HttpRequest, pk: int) -> HttpResponse:
    """Blacklist the buyer (by platform buyer id): review holds their orders under 黑名单 from now on."""
    try:
        customer = customer_get(pk=pk)
        blacklist_add(
            kind=BlacklistKind.BUYER,
            value=customer.platform_buyer_id,
            note=request.POST.get("note", "").strip() or str(customer),
            actor=request.user,
        )
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
    else:
        messages.success(request, _("Buyer blacklisted: review holds their orders from now on."))
    return redirect("console:customer_detail", pk=pk)


@console_view("orders.view_customer", "review.delete_blacklistentry")
@require_POST
def customer_unblacklist(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        customer = customer_get(pk=pk)
        blacklist_remove(kind=BlacklistKind.BUYER, value=customer.platform_buyer_id, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
    else:
        messages.success(request, _("Buyer taken off the blacklist."))
    return redirect("console:customer_detail", pk=pk)
