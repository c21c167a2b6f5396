"""Fulfilment in the console: the stockout list by SKU (缺货), the dispatch view (orders waiting to go to the
warehouse and the shipments sent), and one order's fulfilment page — warehouse and courier decisions with
the rule that made them, transfers (转仓), shipments, stockouts — with the actions on it."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from oms.console.permissions import console_view
from oms.core.errors import ApplicationError
from oms.fulfillment.models import Courier, ShipmentState, StockoutState
from oms.fulfillment.selectors import (
    order_fulfilment,
    order_parcels,
    shipment_list,
    stockout_list,
    stockouts_by_sku,
)
from oms.fulfillment.services.courier import order_courier_set
from oms.fulfillment.services.dispatch import order_dispatch
from oms.fulfillment.services.parcels import order_remainder_cancel
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.services.stockouts import stockouts_resolve
from oms.fulfillment.services.transfer import order_warehouse_transfer
from oms.inventory.models import Warehouse
from oms.orders.domain.status import Status
from oms.orders.models import Order


@console_view("fulfillment.view_stockout")
def stockout_index(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", StockoutState.OPEN)
    if state not in StockoutState.values:
        state = StockoutState.OPEN
    sku = request.GET.get("sku", "").strip()[:64]
    rows = Paginator(stockout_list(state=state, sku_code=sku), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "console/fulfillment/stockouts.html",
        {
            "summary": stockouts_by_sku(state=state),
            "page": rows,
            "state": state,
            "sku": sku,
            "states": StockoutState.choices,
            "can_resolve": request.user.has_perm("fulfillment.allocate"),
        },
    )


@console_view("fulfillment.allocate")
@require_POST
def stockout_resolve(request: HttpRequest) -> HttpResponse:
    try:
        summary = stockouts_resolve(actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(r)s stockout(s) resolved, %(d)s reduced, %(c)s cancelled.")
            % {"r": summary.resolved, "d": summary.reduced, "c": summary.cancelled},
        )
    return redirect("console:stockouts")


@console_view("fulfillment.view_shipment")
def dispatch_index(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state and state not in ShipmentState.values:
        state = ""
    waiting = (
        Order.objects.filter(status=Status.PENDING_DISPATCH)
        .select_related("final_warehouse", "courier")
        .order_by("placed_at", "pk")[:100]
    )
    return render(
        request,
        "console/fulfillment/dispatch.html",
        {
            "waiting": waiting,
            "page": Paginator(shipment_list(state=state), 50).get_page(request.GET.get("page")),
            "state": state,
            "states": ShipmentState.choices,
            "can_dispatch": request.user.has_perm("fulfillment.dispatch_order"),
        },
    )


@console_view("orders.view_order")
def order_fulfilment_view(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(
        Order.objects.select_related("warehouse__subsidiary", "final_warehouse__subsidiary", "courier", "channel"),
        number=number,
    )
    user = request.user
    return render(
        request,
        "console/fulfillment/order.html",
        {
            "order": order,
            **order_fulfilment(order=order),
            "warehouses": Warehouse.objects.filter(is_active=True).order_by("priority", "code"),
            "couriers": Courier.objects.filter(is_active=True).order_by("code"),
            "can_allocate": user.has_perm("fulfillment.allocate"),
            "can_transfer": user.has_perm("fulfillment.transfer_warehouse"),
            "can_courier": user.has_perm("fulfillment.assign_courier"),
            "can_dispatch": user.has_perm("fulfillment.dispatch_order"),
            "can_cancel_rest": user.has_perm("orders.cancel_order"),
        },
    )


@console_view("orders.view_order")
def order_parcels_panel(request: HttpRequest, number: str) -> HttpResponse:
    """The parcels (包裹) of an order, for its detail page (loaded with htmx)."""
    order = get_object_or_404(Order, number=number)
    return render(
        request,
        "console/fulfillment/_parcels.html",
        {
            "order": order,
            "parcels": order_parcels(order=order),
            "can_cancel_rest": request.user.has_perm("orders.cancel_order"),
        },
    )


def _back(request: HttpRequest, number: str) -> HttpResponse:
    return redirect(request.POST.get("next") or f"/orders/{number}/fulfilment/")


@console_view("fulfillment.allocate")
@require_POST
def order_advance_action(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    summary = orders_advance(orders=[order], actor=request.user, buffer_minutes=0)
    order.refresh_from_db()
    messages.info(
        request,
        _("Order %(n)s is now %(s)s (reviewed %(r)s, allocated %(a)s, courier %(c)s).")
        % {
            "n": number,
            "s": order.get_status_display(),
            "r": summary.reviewed,
            "a": summary.allocated,
            "c": summary.couriers,
        },
    )
    return _back(request, number)


@console_view("fulfillment.transfer_warehouse")
@require_POST
def order_transfer_action(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    try:
        record = order_warehouse_transfer(
            order=order,
            to_warehouse=request.POST.get("warehouse", ""),
            actor=request.user,
            reason=request.POST.get("reason", ""),
            allow_short=request.POST.get("allow_short") == "on",
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Order %(n)s now ships from %(w)s.") % {"n": number, "w": record.to_warehouse.name})
    return _back(request, number)


@console_view("fulfillment.assign_courier")
@require_POST
def order_courier_action(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    try:
        order_courier_set(
            order=order,
            courier_code=request.POST.get("courier", ""),
            actor=request.user,
            reason=request.POST.get("reason", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Courier changed."))
    return _back(request, number)


@console_view("fulfillment.dispatch_order")
@require_POST
def order_dispatch_action(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    try:
        shipment = order_dispatch(order=order, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Sent to the warehouse system as %(s)s.") % {"s": shipment.number})
    return _back(request, number)


@console_view("orders.cancel_order")
@require_POST
def order_cancel_rest_action(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    try:
        outcome = order_remainder_cancel(order=order, actor=request.user, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        order.refresh_from_db(fields=["status"])
        messages.success(
            request,
            _("%(u)s unit(s) not shipped were cancelled; order %(n)s is now %(s)s.")
            % {"u": outcome["units"], "n": number, "s": order.get_status_display()},
        )
    return _back(request, number)
