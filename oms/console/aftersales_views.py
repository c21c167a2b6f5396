"""After-sales in the console (售后): the queue with filters and counts, 申请售后 from an order with the refund
recalculated live, and a case page with its explanation and the actions the operator's role may take."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from oms.aftersales.domain import states
from oms.aftersales.domain.exchange import Exchange
from oms.aftersales.explain import explain_render
from oms.aftersales.models import KIND_CHOICES, REASON_CHOICES, STATUS_CHOICES
from oms.aftersales.selectors import CaseFilters, case_counts, case_get, case_list
from oms.aftersales.services.cases import (
    CaseRequest,
    case_act,
    case_create,
    case_inspect,
    case_preview,
    case_receive,
    case_refund,
)
from oms.aftersales.services.exchange import ReplacementRequest
from oms.aftersales.services.facts import order_facts
from oms.console.permissions import console_view
from oms.core.domain.money import format_minor, parse_minor
from oms.core.errors import ApplicationError
from oms.orders.models import Order
from oms.orders.services.payments import PAYMENT_METHODS


def _int(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return None


@console_view("aftersales.view_case")
def aftersales_queue(request: HttpRequest) -> HttpResponse:
    g = request.GET
    filters = CaseFilters(
        kind=g.get("kind", "")[:16],
        status=g.get("status", "")[:16],
        channel=g.get("channel", "")[:32],
        reason=g.get("reason", "")[:24],
        older_than_days=_int(g.get("age")),
        order=g.get("order", "").strip()[:32],
    )
    cases = case_list(filters=filters)
    for c in cases:
        c.refund_text = format_minor(c.refund_minor, c.currency)  # type: ignore[attr-defined]
    context = {
        "cases": cases,
        "counts": [
            (code, label, n)
            for (code, label), n in zip(STATUS_CHOICES, case_counts(filters=filters).values(), strict=True)
        ],
        "filters": filters,
        "kinds": KIND_CHOICES,
        "statuses": STATUS_CHOICES,
        "reasons": REASON_CHOICES,
    }
    template = "console/aftersales/_queue_table.html" if request.htmx else "console/aftersales/queue.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def _replacements(request: HttpRequest, order: Order, units: dict[int, int]) -> tuple[ReplacementRequest, ...]:
    """An exchange sends, per line it returns, the SKU typed beside it, as many units (its price typed, else the
    line's for the same SKU); a price that is not an amount is refused naming its field."""
    p = request.POST
    out = []
    for line_no, n in sorted(units.items()):
        sku = p.get(f"x_sku_{line_no}", "").strip()[:64]
        if not sku:
            continue
        price = p.get(f"x_price_{line_no}", "").strip()[:20]
        minor = parse_minor(price, order.currency, field=f"x_price_{line_no}") if price else None
        out.append(ReplacementRequest(replaces=line_no, sku_code=sku, quantity=n, unit_price_minor=minor))
    return tuple(out)


def _case_request(request: HttpRequest, order: Order) -> CaseRequest:
    p = request.POST
    units: dict[int, int] = {}
    for ln in order.lines.all():
        n = _int(p.get(f"units_{ln.line_no}"))
        if n:
            units[ln.line_no] = n
    kind = p.get("kind", "")
    return CaseRequest(
        kind=kind,
        reason_code=p.get("reason_code", ""),
        units=units,
        note=p.get("note", "")[:500],
        evidence=tuple(e.strip() for e in p.get("evidence", "").splitlines() if e.strip()),
        request_key=p.get("request_key", "")[:64],
        method=p.get("method", ""),
        override_reason=p.get("override_reason", "")[:300],
        replacements=_replacements(request, order, units) if kind == states.EXCHANGE else (),
    )


@console_view("aftersales.add_case", "orders.view_order")
def aftersales_new(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    error: ApplicationError | None = None
    if request.method == "POST":
        try:
            case, _created = case_create(order=order, req=_case_request(request, order), actor=request.user)
        except ApplicationError as exc:
            error = exc
        else:
            messages.success(request, _("After-sales case %(n)s opened.") % {"n": case.number})
            return redirect("console:aftersales_case", number=case.number)
    view = order_facts(order=order)
    rows = [
        {
            "line": ln,
            "has": cur.quantity,
            "paid": format_minor(cur.paid_minor, order.currency),
            "value": request.POST.get(f"units_{ln.line_no}", "0"),
            "x_sku": request.POST.get(f"x_sku_{ln.line_no}", ""),
            "x_price": request.POST.get(f"x_price_{ln.line_no}", ""),
        }
        for ln, cur in zip(view.lines, view.facts.current, strict=True)
    ]
    context = {
        "order": order,
        "rows": rows,
        "kinds": KIND_CHOICES,
        "reasons": REASON_CHOICES,
        "error": error,
        "post": request.POST,
        "can_override": request.user.has_perm("aftersales.override_policy"),
    }
    return render(request, "console/aftersales/new.html", context, status=422 if error else 200)


@console_view("aftersales.add_case", "orders.view_order")
@require_POST
def aftersales_preview(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    context: dict[str, Any] = {"order": order}
    try:
        result = case_preview(order=order, req=_case_request(request, order), actor=request.user)
    except ApplicationError as exc:
        context["error"] = exc
    else:
        steps = [{"code": s.code, "params": dict(s.params)} for s in result.steps]
        blocking = [{"code": s.code, "params": dict(s.params)} for s in result.blocking]
        context.update(
            refund=format_minor(result.refund_minor, order.currency),
            owed=format_minor(result.owed_minor, order.currency) if isinstance(result, Exchange) else "",
            explanation=explain_render(steps, order.currency),
            blocking=explain_render(blocking, order.currency),
        )
    return render(request, "console/aftersales/_preview.html", context)


@console_view("aftersales.view_case")
def aftersales_case(request: HttpRequest, number: str) -> HttpResponse:
    case = case_get(number=number)
    if case.status == states.INSPECTED and not case.receipt_document_id:
        messages.info(request, _("The goods are being taken into stock; the refund follows."))
    allowed = [
        a for a in states.actions_allowed(case.kind, case.status) if request.user.has_perm(states.ACTION_PERMISSIONS[a])
    ]
    context = {
        "case": case,
        "order": case.order,
        "lines": list(case.lines.select_related("line").order_by("line__line_no")),
        "refund": format_minor(case.refund_minor, case.currency),
        "settled": format_minor(case.settled_minor, case.currency),
        "owed": format_minor(case.owed_minor, case.currency),
        "replacements": [
            {
                "replaces": r.replaces,
                "sku": r.sku,
                "quantity": r.quantity,
                "unit_price": format_minor(r.unit_price_minor, case.currency),
                "paid_minor": r.paid_minor,
                "paid": format_minor(r.paid_minor, case.currency),
            }
            for r in case.replacements.select_related("replaces", "sku").order_by("pk")
        ],
        "explanation": explain_render(case.explanation, case.currency),
        "blocking": explain_render(case.blocking, case.currency),
        "events": list(case.events.all()),
        "allowed": allowed,
        "payment_methods": PAYMENT_METHODS,
    }
    return render(request, "console/aftersales/case.html", context)


def _counts(request: HttpRequest, prefix: str, lines: list[Any]) -> dict[int, int]:
    out: dict[int, int] = {}
    for cl in lines:
        n = _int(request.POST.get(f"{prefix}_{cl.line.line_no}"))
        if n:
            out[cl.line.line_no] = n
    return out


@console_view("aftersales.view_case")
@require_POST
def aftersales_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    if action not in states.ACTION_PERMISSIONS:
        raise PermissionDenied
    if not request.user.has_perm(states.ACTION_PERMISSIONS[action]):
        raise PermissionDenied
    case = case_get(number=number)
    lines = list(case.lines.select_related("line"))
    note = request.POST.get("note", "")[:500]
    try:
        if action == states.RECEIVE:
            case_receive(case, units=_counts(request, "received", lines), actor=request.user, note=note)
        elif action == states.INSPECT:
            good, bad = _counts(request, "good", lines), _counts(request, "defective", lines)
            case_inspect(case, good=good, defective=bad, actor=request.user)
        elif action == states.REFUND:
            case_refund(
                case,
                method=request.POST.get("method", ""),
                transaction_id=request.POST.get("transaction_id", "").strip()[:64],
                actor=request.user,
            )
        else:
            case_act(case, action, actor=request.user, note=note)
    except ApplicationError as exc:
        details = "; ".join(f"{d.field}: {d.message}" for d in exc.details)
        messages.error(request, f"{exc.message} {details}".strip())
    else:
        messages.success(request, _("Done: %(action)s.") % {"action": action})
    return redirect("console:aftersales_case", number=number)
