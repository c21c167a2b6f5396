"""Split and merge in the console: the split dialog with exact live totals per group, merging from a
selection or a suggestion, un-merge, and the lineage graph drawn both ways (S7)."""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from oms.console.permissions import console_view
from oms.console.rendering import hold_label, status_label
from oms.core.domain.money import format_minor
from oms.core.errors import ApplicationError
from oms.core.texts import error_problems, error_render, label
from oms.orders.domain.split import plan_split, sum_amounts
from oms.orders.models import Order, OrderLine
from oms.review.models import Interception, InterceptionState
from oms.splitmerge.models import LineageKind
from oms.splitmerge.selectors import (
    SPLIT_MERGE_LABELS,
    merge_suggestions,
    order_lineage,
    order_merge_candidates,
    split_merge_status,
)
from oms.splitmerge.services.auto import STRATEGIES, order_auto_split
from oms.splitmerge.services.children import line_amounts
from oms.splitmerge.services.merge import order_unmerge, orders_merge
from oms.splitmerge.services.split import order_split

MAX_GROUPS = 6


def _groups_from_post(request: HttpRequest, lines: list[OrderLine], group_count: int) -> list[dict[int, int]]:
    """The plan on screen: the operator types what goes to orders 2…n; order 1 keeps the rest of each line,
    so moving a unit is one edit. A line given out beyond its quantity leaves order 1 a negative rest, which
    the plan refuses with the line named."""
    groups: list[dict[int, int]] = [{} for _ in range(group_count)]
    for line in lines:
        given = 0
        for g in range(1, group_count):
            raw = request.POST.get(f"q-{g}-{line.line_no}", "").strip()
            if raw in ("", "0"):
                continue
            try:
                groups[g][line.line_no] = int(raw)
            except ValueError:
                groups[g][line.line_no] = -1
            given += max(groups[g][line.line_no], 0)
        rest = line.quantity - given
        if rest:
            groups[0][line.line_no] = rest
    return groups


def _group_count(request: HttpRequest) -> int:
    try:
        return max(2, min(int(request.POST.get("groups", request.GET.get("groups", "2"))), MAX_GROUPS))
    except ValueError:
        return 2


def _holds_explained(order: Order) -> dict[str, Any]:
    """What a split does to holds (S6), for the dialog to say before the operator splits."""
    holds = list(Interception.objects.filter(order=order).exclude(state=InterceptionState.VOID).order_by("pk"))
    return {
        "reviewed": order.reviewed_at is not None,
        "released": sorted(
            {hold_label(h.reason_code, h.rule.name if h.rule else "") for h in holds if h.state == "released"}
        ),
        "open": sorted({hold_label(h.reason_code, h.rule.name if h.rule else "") for h in holds if h.state == "open"}),
    }


@console_view("orders.split")
def split_dialog(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    lines = list(OrderLine.objects.filter(order=order).select_related("sku").order_by("line_no"))
    group_count = _group_count(request)
    if request.method == "POST" and request.POST.get("action") == "split":
        groups = _groups_from_post(request, lines, group_count)
        try:
            children = order_split(
                order=order, groups=groups, actor=request.user, reason=request.POST.get("reason", "")
            )
        except ApplicationError as exc:
            messages.error(request, error_render(exc))
        else:
            messages.success(
                request, _("Order %(n)s split into %(c)s.") % {"n": number, "c": ", ".join(c.number for c in children)}
            )
            return redirect("console:order_detail", number=number)
    if request.method == "POST" and request.POST.get("action") == "auto":
        # An automatic strategy on demand: presale vs in-stock, category, weight limit, warehouse plan.
        try:
            weight = int(request.POST.get("max_weight_g", "") or 0)
        except ValueError:
            weight = -1
        try:
            children = order_auto_split(
                order=order, strategy=request.POST.get("strategy", ""), actor=request.user, max_weight_g=weight
            )
        except ApplicationError as exc:
            messages.error(request, error_render(exc))
        else:
            messages.success(
                request, _("Order %(n)s split into %(c)s.") % {"n": number, "c": ", ".join(c.number for c in children)}
            )
            return redirect("console:order_detail", number=number)
    posted = request.POST if request.method == "POST" else {}
    return render(
        request,
        "console/splitmerge/split.html",
        {
            "order": order,
            "lines": [
                {
                    "line": line,
                    "paid": format_minor(line.paid_minor, order.currency),
                    "moved": [posted.get(f"q-{g}-{line.line_no}", "") for g in range(1, group_count)],
                }
                for line in lines
            ],
            "groups": list(range(group_count)),
            "next_groups": min(group_count + 1, MAX_GROUPS),
            "strategies": [(code, label("split_strategy", code)) for code in STRATEGIES],
            "holds": _holds_explained(order),
        },
    )


@console_view("orders.split")
@require_POST
def split_preview(request: HttpRequest, number: str) -> HttpResponse:
    """Exact totals per group for the plan on screen, from the same domain function the split uses, and what
    order 1 keeps of each line. A group nothing was moved to yet is a hint, not an error."""
    order = get_object_or_404(Order, number=number)
    lines = list(OrderLine.objects.filter(order=order).order_by("line_no"))
    groups = _groups_from_post(request, lines, _group_count(request))
    context: dict[str, Any] = {
        "order": order,
        "rests": [(line.line_no, groups[0].get(line.line_no, 0)) for line in lines],
        "empty": [g + 1 for g, group in enumerate(groups) if not group],
    }
    if context["empty"] and all(q >= 0 for group in groups for q in group.values()):
        return render(request, "console/splitmerge/_split_preview.html", context)
    try:
        planned = plan_split({line.line_no: line_amounts(line) for line in lines}, groups)
    except ApplicationError as exc:
        context["errors"] = error_problems(exc)
    else:
        c = order.currency
        context["totals"] = [
            {k: format_minor(v, c) for k, v in sum_amounts([p.amounts for p in group]).items()}
            | {"units": sum(p.amounts.quantity for p in group)}
            for group in planned
        ]
    return render(request, "console/splitmerge/_split_preview.html", context)


def _merge_numbers(data: Any) -> list[str]:
    numbers = [n.strip() for n in data.getlist("orders") if n.strip()]
    numbers += [n.strip() for n in data.get("numbers", "").replace(",", " ").split() if n.strip()]
    return list(dict.fromkeys(numbers))[:50]


@console_view("orders.merge")
def merge_page(request: HttpRequest) -> HttpResponse:
    """Suggestions, and the confirmation of a chosen merge: the orders side by side, a required reason."""
    data = request.POST if request.method == "POST" else request.GET
    numbers = _merge_numbers(data)
    if request.method == "POST":
        reason = request.POST.get("reason", "").strip()
        if not reason:
            messages.error(request, _("Say why these orders are merged."))
        else:
            try:
                merged = orders_merge(
                    numbers=numbers,
                    actor=request.user,
                    reason=reason,
                    invoice_from=request.POST.get("invoice_from", "").strip(),
                )
            except ApplicationError as exc:
                messages.error(request, error_render(exc))
            else:
                messages.success(request, _("Merged into %(n)s.") % {"n": merged.number})
                return redirect("console:order_detail", number=merged.number)
    chosen = list(
        Order.objects.filter(number__in=numbers).select_related("channel", "customer").order_by("placed_at", "pk")
    )
    invoices = {(o.invoice_kind, o.invoice_title, o.invoice_tax_id) for o in chosen if o.invoice_kind != "none"}
    groups = [[(o, format_minor(o.payable_minor, o.currency)) for o in group] for group in merge_suggestions()[:100]]
    return render(
        request,
        "console/splitmerge/merge.html",
        {
            "groups": groups,
            "numbers": numbers,
            "chosen": [
                {
                    "order": o,
                    "status_label": status_label(o.status),
                    "payable": format_minor(o.payable_minor, o.currency),
                    "remarks": [r for r in (o.buyer_remark.strip(), o.seller_remark.strip()) if r],
                }
                for o in chosen
            ],
            "missing": sorted(set(numbers) - {o.number for o in chosen}),
            "invoice_choice": [o for o in chosen if o.invoice_kind != "none"] if len(invoices) > 1 else [],
            "reason": request.POST.get("reason", ""),
        },
    )


@console_view("orders.split", "orders.merge")
@require_POST
def unmerge_action(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    try:
        children = order_unmerge(order=order, actor=request.user, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        messages.error(request, error_render(exc))
    else:
        messages.success(request, _("Un-merged into %(c)s.") % {"c": ", ".join(c.number for c in children)})
    return redirect("console:order_detail", number=number)


NODE_W, NODE_H, GAP_X, GAP_Y = 200, 56, 60, 18


def _layout(graph: Any) -> dict[str, Any]:
    """Generations as columns (ancestors left, descendants right), the current order in its own column."""
    children_of: dict[str, list[str]] = defaultdict(list)
    parents_of: dict[str, list[str]] = defaultdict(list)
    for e in graph.edges:
        children_of[e["parent"]].append(e["child"])
        parents_of[e["child"]].append(e["parent"])
    depth = {graph.root: 0}
    queue: deque[str] = deque([graph.root])
    while queue:
        n = queue.popleft()
        for c in children_of[n]:
            if c not in depth:
                depth[c] = depth[n] + 1
                queue.append(c)
        for p in parents_of[n]:
            if p not in depth:
                depth[p] = depth[n] - 1
                queue.append(p)
    low = min(depth.values())
    columns: dict[int, list[str]] = defaultdict(list)
    for number in sorted(depth, key=lambda x: (depth[x], x)):
        columns[depth[number] - low].append(number)
    pos: dict[str, tuple[int, int]] = {}
    for col, numbers in columns.items():
        for row, number in enumerate(numbers):
            pos[number] = (col * (NODE_W + GAP_X) + 10, row * (NODE_H + GAP_Y) + 10)
    nodes = [
        {
            **graph.nodes[n],
            "payable": format_minor(graph.nodes[n]["payable_minor"], graph.nodes[n]["currency"]),
            "x": x,
            "y": y,
            "w": NODE_W,
            "h": NODE_H,
        }
        for n, (x, y) in pos.items()
    ]
    kinds = dict(LineageKind.choices)
    edges = [
        {
            "x1": pos[e["parent"]][0] + NODE_W,
            "y1": pos[e["parent"]][1] + NODE_H // 2,
            "x2": pos[e["child"]][0] - 4,
            "y2": pos[e["child"]][1] + NODE_H // 2,
            "label": kinds.get(e["kind"], e["kind"]),
            **e,
        }
        for e in graph.edges
    ]
    width = (max(columns) + 1) * (NODE_W + GAP_X) + 20
    height = max(len(v) for v in columns.values()) * (NODE_H + GAP_Y) + 20
    return {"nodes": nodes, "edges": edges, "width": width, "height": height}


@console_view("orders.view_order")
def lineage_panel(request: HttpRequest, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number)
    graph = order_lineage(order=order)
    status = split_merge_status(order=order)
    return render(
        request,
        "console/splitmerge/_lineage.html",
        {
            "order": order,
            "status": status,
            "status_label": SPLIT_MERGE_LABELS[status],
            "graph": _layout(graph) if graph.edges else None,
            "can_split": request.user.has_perm("orders.split")
            and order.status in ("pending_review", "pending_split", "pending_dispatch"),
            "merge_with": order_merge_candidates(order=order) if request.user.has_perm("orders.merge") else [],
            "can_unmerge": status == "merge_result"
            and order.status != "closed"
            and request.user.has_perm("orders.split")
            and request.user.has_perm("orders.merge"),
        },
    )
