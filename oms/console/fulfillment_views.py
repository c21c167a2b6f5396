"""Fulfilment in the console: the stockout list by SKU (缺货), the dispatch view (orders waiting to go to the
warehouse and the shipments sent), and one order's fulfilment page — warehouse and courier decisions with
the rule that made them, transfers (转仓), shipments, stockouts — with the actions on it."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from oms.console.permissions import console_view
from oms.core.errors import ApplicationError
from oms.core.texts import error_render, label, stored_text_render, text_render
from oms.fulfillment.documents import packing_slips_pdf, picklist_pdf
from oms.fulfillment.models import Courier, ShipmentState, StockoutState
from oms.fulfillment.selectors import (
    couriers_active,
    dispatch_queue,
    order_fulfilment,
    order_outstanding,
    order_parcels,
    orders_for_print,
    pick_rows,
    shipment_list,
    slip_lines,
    stockout_list,
    stockouts_by_sku,
)
from oms.fulfillment.services.by_hand import SHIPPABLE, ParcelIn, order_ship_by_hand
from oms.fulfillment.services.courier import order_courier_set
from oms.fulfillment.services.dispatch import order_dispatch
from oms.fulfillment.services.parcels import order_remainder_cancel
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.services.stockouts import stockouts_resolve
from oms.fulfillment.services.tracking_import import ROW_CODES, RowProblem, tracking_import_file
from oms.fulfillment.services.transfer import order_warehouse_transfer
from oms.inventory.models import Warehouse
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
    waiting = Paginator(dispatch_queue(), 50).get_page(request.GET.get("waiting_page"))
    return render(
        request,
        "console/fulfillment/dispatch.html",
        {
            "waiting": waiting,
            "page": Paginator(shipment_list(state=state), 50).get_page(request.GET.get("page")),
            "state": state,
            "states": ShipmentState.choices,
            "can_dispatch": request.user.has_perm("fulfillment.dispatch_order"),
            "can_allocate": request.user.has_perm("fulfillment.allocate"),
            "can_ship": request.user.has_perm("fulfillment.ship_by_hand"),
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
            **_ship_form(request, order),
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
            **_ship_form(request, order),
        },
    )


def _ship_form(request: HttpRequest, order: Order) -> dict[str, Any]:
    """What the ship-by-hand form needs, when the operator may use it and the order can ship."""
    if not request.user.has_perm("fulfillment.ship_by_hand") or order.status not in SHIPPABLE:
        return {"can_ship": False}
    htmx = getattr(request, "htmx", None)
    current = htmx.current_url_abs_path if htmx else None
    return {
        "can_ship": True,
        "ship_lines": [ln for ln in order_outstanding(order=order) if ln["left"] > 0],
        "ship_couriers": couriers_active(),
        "ship_next": current or request.get_full_path(),
    }


def _back(request: HttpRequest, number: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = f"/orders/{number}/fulfilment/"
    return redirect(target)


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


@console_view("fulfillment.ship_by_hand")
@require_POST
def order_ship_action(request: HttpRequest, number: str) -> HttpResponse:
    """One parcel shipped by hand: the courier, the tracking number and the units of each line it carries
    (all that is left unless fewer are entered)."""
    order = get_object_or_404(Order, number=number)
    post = request.POST
    lines: list[dict[str, Any]] = []
    whole = True
    for ln in order_outstanding(order=order):
        if ln["left"] <= 0:
            continue
        raw = post.get(f"qty_{ln['line_no']}", str(ln["left"])).strip()
        qty = int(raw) if raw.isdigit() else -1
        if qty < 0:
            messages.error(request, _("Line %(n)s: enter a whole number of units.") % {"n": ln["line_no"]})
            return _back(request, number)
        whole = whole and qty == ln["left"]
        if qty:
            lines.append({"line": ln["line_no"], "quantity": qty})
    weight = post.get("weight_g", "").strip()
    try:
        outcome = order_ship_by_hand(
            order=order,
            courier=post.get("courier", ""),
            parcels=[
                ParcelIn(
                    post.get("tracking_number", ""),
                    None if whole else lines,
                    int(weight) if weight.isdigit() else None,
                )
            ],
            actor=request.user,
        )
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
    else:
        if outcome.applied:
            messages.success(
                request,
                _("Parcel %(t)s recorded; order %(n)s is now %(s)s.")
                % {"t": outcome.applied[0], "n": number, "s": outcome.order.get_status_display()},
            )
        else:
            messages.info(request, _("Parcel %(t)s was recorded before; nothing changed.") % {"t": outcome.repeated[0]})
    return _back(request, number)


MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@console_view("fulfillment.ship_by_hand")
def tracking_upload(request: HttpRequest) -> HttpResponse:
    """Upload a file of tracking numbers (批量导入运单号): every order that can ship ships; the rest are listed
    by file row and column."""
    context: dict[str, Any] = {}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a CSV or XLSX file."))
        elif upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
            messages.error(request, _("The file is larger than 5 MB; split it."))
        else:
            try:
                summary = tracking_import_file(
                    stream=io.BytesIO(upload.read()), filename=upload.name or "", actor=request.user
                )
            except ValueError as exc:
                messages.error(request, _("The file could not be read: %(error)s") % {"error": exc})
            else:
                context["summary"] = summary
                context["problems"] = [
                    (p, label("tracking_column", p.column), tracking_problem_text(p)) for p in summary.problems[:1000]
                ]
    return render(request, "console/fulfillment/tracking_upload.html", context)


def tracking_problem_text(problem: RowProblem) -> str:
    """A refused row in the reader's words: the file's own problems by their code, a service's refusal by its
    message's code."""
    if problem.code in ROW_CODES:
        return text_render(f"tracking_row.{problem.code}", problem.params)
    return stored_text_render(problem.message)


MAX_PRINT = 200


def _print_numbers(request: HttpRequest) -> list[str]:
    """``?numbers=N1,N2`` (or the parameter repeated, as a form of checkboxes sends it), at most 200."""
    out: list[str] = []
    for value in request.GET.getlist("numbers"):
        out += [n.strip() for n in value.split(",") if n.strip()]
    return list(dict.fromkeys(out))[:MAX_PRINT]


def _pdf(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}-{timezone.localtime():%Y%m%d-%H%M}.pdf"'
    return response


@console_view("orders.view_order", "fulfillment.view_shipment")
def picklist_print(request: HttpRequest) -> HttpResponse:
    """The pick list (拣货单) of the orders named, as a PDF: what each warehouse picks, by SKU."""
    orders = orders_for_print(numbers=_print_numbers(request))
    if not orders:
        raise Http404(_("Name the orders to print (?numbers=…)."))
    return _pdf(picklist_pdf(rows=pick_rows(orders=orders), orders=orders, printed_at=timezone.localtime()), "picklist")


@console_view("orders.view_order", "fulfillment.view_shipment")
def packing_slip_print(request: HttpRequest) -> HttpResponse:
    """A packing slip (装箱单) per order named, as one PDF; the receiver's phone and street only for operators
    who may see customers' contact data."""
    orders = orders_for_print(numbers=_print_numbers(request))
    if not orders:
        raise Http404(_("Name the orders to print (?numbers=…)."))
    content = packing_slips_pdf(
        orders=orders,
        lines=slip_lines(orders=orders),
        with_contact=request.user.has_perm("orders.view_customer"),
        printed_at=timezone.localtime(),
    )
    return _pdf(content, "packing-slips")
