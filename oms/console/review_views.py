"""Review in the console: the interception queue (拦截队列) with bulk release, the rule editor with live
validation and a dry run on a chosen order, and review actions on one order."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from oms.console.permissions import console_view
from oms.console.rendering import hold_label
from oms.core.domain.money import format_minor
from oms.core.errors import ApplicationError, ValidationFailed
from oms.core.rules import RuleParseError, compile_condition
from oms.core.texts import error_problems, error_render
from oms.orders.domain.status import STATUS_LABELS, Status
from oms.orders.models import Order
from oms.review.domain.facts import ORDER_FACTS
from oms.review.models import Interception, InterceptionState, Rule, RuleKind
from oms.review.selectors import interception_list
from oms.review.services import (
    RULE_PARAM_CHECKS,
    interceptions_release,
    order_force_review,
    order_review,
    order_review_dry_run,
    rule_save,
)

# Release notes reviewers write most; the field offers them (any other text may be typed).
NOTE_PRESETS = (
    gettext_lazy("Remark read, nothing to change"),
    gettext_lazy("Checked with the buyer"),
    gettext_lazy("Address confirmed"),
    gettext_lazy("Finance approved"),
    gettext_lazy("Not a duplicate: ships separately"),
)


def _queue_row(hold: Interception) -> dict[str, Any]:
    """What a reviewer decides on without opening the order: who, how much, what the remark says."""
    order = hold.order
    customer = order.customer
    return {
        "hold": hold,
        "order": order,
        "status_label": STATUS_LABELS[Status(order.status)][0],
        "buyer": (customer.nickname or customer.name) if customer else "",
        "amount": format_minor(order.payable_minor, order.currency),
        "remarks": [r for r in (order.buyer_remark.strip(), order.seller_remark.strip()) if r],
    }


@console_view("review.view_interception")
def interception_queue(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", InterceptionState.OPEN)
    if state not in InterceptionState.values:
        state = InterceptionState.OPEN
    reason_code = request.GET.get("reason", "").strip()[:32]
    order_number = request.GET.get("order", "").strip()[:32]
    page = Paginator(interception_list(state=state, reason_code=reason_code, order_number=order_number), 50)
    current = page.get_page(request.GET.get("page"))
    context = {
        "page": current,
        "rows": [_queue_row(hold) for hold in current],
        "note_presets": NOTE_PRESETS,
        "state": state,
        "reason": reason_code,
        "order_number": order_number,
        "states": InterceptionState.choices,
        "reasons": Rule.objects.filter(kind=RuleKind.REVIEW).order_by("priority").values_list("code", "name"),
        "can_release": request.user.has_perm("review.release_interception"),
    }
    template = "console/review/_queue_table.html" if request.htmx else "console/review/queue.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@console_view("review.release_interception")
@require_POST
def interception_release(request: HttpRequest) -> HttpResponse:
    try:
        # A row's own button releases that row alone; the toolbar's releases every ticked row.
        only = request.POST.get("only")
        ids = [int(only)] if only else [int(x) for x in request.POST.getlist("ids")]
    except ValueError:
        ids = []
    if not ids:
        messages.error(request, _("Select at least one interception."))
        return redirect(request.POST.get("next") or "console:interceptions")
    try:
        outcomes = interceptions_release(interception_ids=ids, actor=request.user, note=request.POST.get("note", ""))
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
    else:
        passed = sum(1 for o in outcomes if o.passed)
        moved = Order.objects.filter(pk__in=[o.order.pk for o in outcomes if o.passed]).values_list("number", "status")
        messages.success(
            request,
            _("Released %(n)s interception(s); %(p)s order(s) passed review.") % {"n": len(ids), "p": passed}
            + "".join(f" {number} → {STATUS_LABELS[Status(status)][0]}" for number, status in moved),
        )
    return redirect(request.POST.get("next") or "console:interceptions")


@console_view("review.view_rule")
def rule_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", RuleKind.REVIEW)
    rules = Rule.objects.filter(kind=kind).order_by("priority", "id")
    return render(
        request,
        "console/review/rules.html",
        {
            "rules": rules,
            "kind": kind,
            "kinds": RuleKind.choices,
            "can_edit": request.user.has_perm("review.edit_rules"),
        },
    )


def _rule_form_data(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    try:
        priority = int(post.get("priority", "100"))
    except ValueError:
        priority = -1
    return {
        "kind": post.get("kind", RuleKind.REVIEW),
        "code": post.get("code", "").strip(),
        "name": post.get("name", "").strip(),
        "condition": post.get("condition", ""),
        "reason": post.get("reason", "").strip(),
        "priority": priority,
        "enabled": post.get("enabled") == "on",
    }


def _params_text(params: Any) -> str:
    return json.dumps(params or {}, ensure_ascii=False, indent=2)


def _params_errors(kind: str, text: str) -> tuple[Any, list[str]]:
    """The parameters typed in the editor, parsed, and what is wrong with them for a rule of ``kind``: JSON,
    an object, then the kind's own check (`RULE_PARAM_CHECKS`: warehouse and courier targets), as one line
    per field."""
    text = text.strip()
    try:
        params = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        return None, [
            _("Not valid JSON: %(msg)s (line %(line)s, column %(col)s).")
            % {"msg": exc.msg, "line": exc.lineno, "col": exc.colno}
        ]
    if not isinstance(params, dict):
        return None, [_('Parameters are a JSON object, e.g. {"warehouse": "HZ01"}.')]
    check = RULE_PARAM_CHECKS.get(kind)
    if check is not None:
        try:
            check(kind=kind, params=params)
        except ValidationFailed as exc:
            return params, error_problems(exc)
    return params, []


@console_view("review.view_rule")
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk) if pk else None
    errors: dict[str, list[str]] = {}
    form: dict[str, Any] = (
        {f: getattr(rule, f) for f in ("kind", "code", "name", "condition", "reason", "priority", "enabled")}
        if rule
        else {"kind": RuleKind.REVIEW, "priority": 100, "enabled": True, "condition": ""}
    )
    form["params_text"] = _params_text(rule.params if rule else {})
    if request.method == "POST":
        if not request.user.has_perm("review.edit_rules"):
            messages.error(request, _("You may not edit rules."))
            return redirect("console:rules")
        form = _rule_form_data(request)
        # A form without the field (an older page) keeps the rule's parameters.
        form["params_text"] = request.POST.get("params", _params_text(rule.params if rule else {}))
        params, params_errors = _params_errors(str(form["kind"]), form["params_text"])
        if params_errors:
            errors = {"params": params_errors}
        else:
            try:
                saved = rule_save(rule=rule, data={**form, "params": params}, actor=request.user)
            except RuleParseError as exc:
                errors = {"condition": [exc.message]}
            except ValidationFailed as exc:
                fields = [d for d in exc.details if d.field.startswith("params")]
                errors = {"params": error_problems(exc)} if fields else {"general": [error_render(exc)]}
            except ApplicationError as exc:
                errors = {"general": [error_render(exc)]}
            except Exception as exc:  # Django's ValidationError from full_clean
                errors = getattr(exc, "message_dict", {"general": [str(exc)]})
            else:
                messages.success(request, _("Rule %(name)s saved.") % {"name": saved.name})
                return redirect("console:rules")
    return render(
        request,
        "console/review/rule_edit.html",
        {
            "rule": rule,
            "form": form,
            "errors": errors,
            "facts": ORDER_FACTS,
            "kinds": RuleKind.choices,
            "can_edit": request.user.has_perm("review.edit_rules"),
        },
    )


@console_view("review.view_rule")
def rule_params_validate(request: HttpRequest) -> HttpResponse:
    """The editor's live check of the parameters (htmx), for the kind chosen in the form."""
    data = request.POST if request.method == "POST" else request.GET
    kind = data.get("kind", RuleKind.REVIEW)
    _params, errors = _params_errors(kind if kind in RuleKind.values else RuleKind.REVIEW, data.get("params", ""))
    return render(request, "console/review/_params_validation.html", {"errors": errors})


@console_view("review.view_rule")
def rule_validate(request: HttpRequest) -> HttpResponse:
    """The editor's live check (htmx): ✓ or the error with a caret under its position."""
    condition = request.GET.get("condition", request.POST.get("condition", ""))
    context: dict[str, Any] = {"condition": condition, "valid": True}
    try:
        compile_condition(condition, ORDER_FACTS)
    except RuleParseError as exc:
        context.update(valid=False, message=exc.message, position=exc.position)
    return render(request, "console/review/_validation.html", context)


@console_view("review.view_rule", "orders.view_order")
def rule_dry_run(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("number", "").strip()
    condition = request.GET.get("condition", "").strip() or None
    order = Order.objects.filter(number=number).first()
    context: dict[str, Any] = {"number": number, "order": order}
    if order is not None:
        try:
            context["result"] = order_review_dry_run(order=order, condition=condition)
        except RuleParseError as exc:
            context["result"] = order_review_dry_run(order=order)
            context["draft_error"] = exc.message
    return render(request, "console/review/_dry_run.html", context)


@console_view("orders.review")
@require_POST
def order_review_action(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    try:
        if request.POST.get("force"):
            if not request.user.has_perm("review.release_interception"):
                raise ApplicationError(_("You may not force review."), code="permission_denied")
            order_force_review(order=order, actor=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("Order %(n)s passed review (forced).") % {"n": number})
        else:
            outcome = order_review(order=order, actor=request.user)
            if outcome.passed:
                messages.success(request, _("Order %(n)s passed review.") % {"n": number})
            else:
                messages.warning(
                    request,
                    _("Order %(n)s is held: %(codes)s")
                    % {"n": number, "codes": _(", ").join(hold_label(c) for c in outcome.open_codes)},
                )
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
    return redirect(request.POST.get("next") or "console:interceptions")


@console_view("orders.view_order")
def order_holds_panel(request: HttpRequest, number: str) -> HttpResponse:
    """The order's review state and holds, for its detail page: review, release, force review."""
    order = get_object_or_404(Order, number=number)
    holds = list(interception_list(state="", order_number=number))
    return render(
        request,
        "console/review/_order_panel.html",
        {
            "order": order,
            "holds": holds,
            "open_ids": [h.pk for h in holds if h.state == InterceptionState.OPEN],
            "can_review": request.user.has_perm("orders.review")
            and order.status == "pending_review"
            and order.reviewed_at is None,
            "can_release": request.user.has_perm("review.release_interception"),
        },
    )
