"""Bulk actions on the orders ticked in the order list: review, cancel, seller remark, warehouse, courier,
dispatch, export; merge goes to its confirmation page. Each order goes through the same service its own page
uses, in its own transaction, so one refusal never undoes the others; the message says what happened to each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from oms.console.permissions import console_view
from oms.console.rendering import hold_label
from oms.core.errors import ApplicationError
from oms.core.texts import error_render
from oms.fulfillment.services.courier import order_courier_set
from oms.fulfillment.services.dispatch import order_dispatch
from oms.fulfillment.services.transfer import order_warehouse_transfer
from oms.orders.models import Order
from oms.orders.services.cancel import order_cancel
from oms.orders.services.remarks import order_remarks_update
from oms.reports.services.exports import export_request
from oms.review.services import order_review

MAX_BULK = 200


@dataclass(frozen=True)
class BulkAction:
    perm: str
    run: Callable[[Order, HttpRequest], str | None]  # None: done; a text: why it was not (a hold)
    needs: str = ""  # the POST field the action needs (a reason, a remark, a target)


def _review(order: Order, request: HttpRequest) -> str | None:
    outcome = order_review(order=order, actor=request.user)
    return None if outcome.passed else _("held") + ": " + _(", ").join(hold_label(c) for c in outcome.open_codes)


def _cancel(order: Order, request: HttpRequest) -> None:
    order_cancel(order=order, actor=request.user, reason=request.POST.get("reason", ""))


def _remark(order: Order, request: HttpRequest) -> None:
    order_remarks_update(order=order, actor=request.user, seller_remark=request.POST.get("seller_remark", ""))


def _warehouse(order: Order, request: HttpRequest) -> None:
    order_warehouse_transfer(
        order=order,
        to_warehouse=request.POST.get("warehouse", ""),
        actor=request.user,
        reason=request.POST.get("reason", "") or _("bulk warehouse change"),
    )


def _courier(order: Order, request: HttpRequest) -> None:
    order_courier_set(
        order=order,
        courier_code=request.POST.get("courier", ""),
        actor=request.user,
        reason=request.POST.get("reason", "") or _("bulk courier change"),
    )


def _dispatch(order: Order, request: HttpRequest) -> None:
    order_dispatch(order=order, actor=request.user)


ACTIONS: dict[str, BulkAction] = {
    "review": BulkAction("orders.review", _review),
    "cancel": BulkAction("orders.cancel_order", _cancel, needs="reason"),
    "remark": BulkAction("orders.edit_remarks", _remark, needs="seller_remark"),
    "warehouse": BulkAction("fulfillment.transfer_warehouse", _warehouse, needs="warehouse"),
    "courier": BulkAction("fulfillment.assign_courier", _courier, needs="courier"),
    "dispatch": BulkAction("fulfillment.dispatch_order", _dispatch),
}


def _back(request: HttpRequest) -> HttpResponse:
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else "console:orders")


@console_view("orders.view_order")
@require_POST
def orders_bulk(request: HttpRequest) -> HttpResponse:
    numbers = list(dict.fromkeys(n.strip() for n in request.POST.getlist("numbers") if n.strip()))[:MAX_BULK]
    action = request.POST.get("action", "")
    if not numbers:
        messages.error(request, _("Tick at least one order."))
        return _back(request)
    if action == "merge":
        if not request.user.has_perm("orders.merge"):
            messages.error(request, _("You may not merge orders."))
            return _back(request)
        return redirect(f"/merge/?{urlencode({'orders': numbers}, doseq=True)}")
    if action == "export":
        return _export(request, numbers)
    spec = ACTIONS.get(action)
    if spec is None:
        messages.error(request, _("Choose an action."))
        return _back(request)
    if not request.user.has_perm(spec.perm):
        messages.error(request, _("You may not do this."))
        return _back(request)
    if spec.needs and not request.POST.get(spec.needs, "").strip():
        messages.error(request, _("This action needs a value: fill in the field beside its button."))
        return _back(request)
    done, refused = _run(spec, numbers, request)
    if done:
        messages.success(
            request, _("Done for %(n)s order(s): %(numbers)s") % {"n": len(done), "numbers": ", ".join(done)}
        )
    for line in refused:
        messages.warning(request, line)
    return _back(request)


def _run(spec: BulkAction, numbers: list[str], request: HttpRequest) -> tuple[list[str], list[str]]:
    orders = {o.number: o for o in Order.objects.filter(number__in=numbers)}
    done: list[str] = []
    refused: list[str] = []
    for number in numbers:
        order = orders.get(number)
        if order is None:
            refused.append(_("%(n)s: no such order.") % {"n": number})
            continue
        try:
            why = spec.run(order, request)
        except ApplicationError as exc:
            refused.append(f"{number}: {error_render(exc)}")
        else:
            if why:
                refused.append(f"{number}: {why}")
            else:
                done.append(number)
    return done, refused


def _export(request: HttpRequest, numbers: list[str]) -> HttpResponse:
    try:
        job: Any = export_request(
            operator=request.user,
            list_name="orders",
            fmt=request.POST.get("format", "xlsx"),
            params={"numbers": ",".join(numbers)},
            language="en" if request.LANGUAGE_CODE == "en" else "zh-hans",
        )
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
        return _back(request)
    messages.success(request, _("Export queued: %(rows)s rows.") % {"rows": job.total_rows})
    return redirect("console:exports")
