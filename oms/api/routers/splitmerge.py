"""Split and merge API: split, merge, un-merge, lineage, merge suggestions (S1–S7)."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from oms.api.auth import require_perm
from oms.api.types import OrderUnitsByLine
from oms.core.domain.money import format_minor
from oms.core.errors import NotFound
from oms.orders.models import Order
from oms.splitmerge.selectors import merge_suggestions, order_lineage, split_merge_status
from oms.splitmerge.services.auto import STRATEGIES, order_auto_split, orders_auto_merge
from oms.splitmerge.services.merge import order_unmerge, orders_merge
from oms.splitmerge.services.split import order_split

router = Router(tags=["split and merge"])


class SplitIn(Schema):
    groups: list[OrderUnitsByLine] = Field(
        min_length=2, max_length=50, description="One object per new order: {line number: quantity}."
    )
    reason: str = Field("", max_length=300)


class MergeIn(Schema):
    orders: list[str] = Field(min_length=2, max_length=50)
    reason: str = Field("", max_length=300)
    invoice_from: str = Field("", max_length=32, description="Order whose invoice request applies, on conflict.")


class AutoSplitIn(Schema):
    strategy: str = Field(
        json_schema_extra={"enum": list(STRATEGIES)},
        description="warehouse (the plan allocation proposed), presale (presale apart from in-stock lines), "
        "weight or category",
    )
    max_weight_g: int | None = Field(None, ge=1, le=1_000_000)


class UnmergeIn(Schema):
    reason: str = Field("", max_length=300)


class OrderRef(Schema):
    number: str
    status: str
    payable: str
    currency: str


class LineageNode(Schema):
    number: str
    status: str
    status_label: str
    payable: str
    currency: str
    current: bool


class LineageEdge(Schema):
    parent: str
    child: str
    kind: str
    at: datetime
    operator: str


class LineageOut(Schema):
    order: str
    split_merge_status: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]


def _ref(o: Order) -> OrderRef:
    return OrderRef(
        number=o.number, status=o.status, payable=format_minor(o.payable_minor, o.currency), currency=o.currency
    )


def _order(number: str) -> Order:
    order = Order.objects.filter(number=number).first()
    if order is None:
        raise NotFound(f"No order {number}.")
    return order


@router.post("/orders/merge", response=OrderRef)
@require_perm("orders.merge")
def merge(request: HttpRequest, body: MergeIn) -> OrderRef:
    return _ref(
        orders_merge(numbers=body.orders, actor=request.user, reason=body.reason, invoice_from=body.invoice_from)
    )


@router.get("/orders/merge-suggestions", response=list[list[OrderRef]])
@require_perm("orders.merge")
def suggestions(request: HttpRequest, limit: int = 50) -> list[list[OrderRef]]:
    return [[_ref(o) for o in group] for group in merge_suggestions()[: max(1, min(limit, 500))]]


@router.post("/orders/{number}/split", response=list[OrderRef])
@require_perm("orders.split")
def split(request: HttpRequest, number: str, body: SplitIn) -> list[OrderRef]:
    return [
        _ref(o) for o in order_split(order=_order(number), groups=body.groups, actor=request.user, reason=body.reason)
    ]


@router.post("/orders/{number}/auto-split", response=list[OrderRef])
@require_perm("orders.split")
def auto_split(request: HttpRequest, number: str, body: AutoSplitIn) -> list[OrderRef]:
    children = order_auto_split(
        order=_order(number), strategy=body.strategy, actor=request.user, max_weight_g=body.max_weight_g
    )
    return [_ref(o) for o in children]


@router.post("/orders/auto-merge", response=list[OrderRef])
@require_perm("orders.merge")
def auto_merge(request: HttpRequest, max_orders: int = 5) -> list[OrderRef]:
    return [_ref(o) for o in orders_auto_merge(actor=request.user, max_orders=max(2, min(max_orders, 20)))]


@router.post("/orders/{number}/unmerge", response=list[OrderRef])
@require_perm("orders.split", "orders.merge")
def unmerge(request: HttpRequest, number: str, body: UnmergeIn) -> list[OrderRef]:
    return [_ref(o) for o in order_unmerge(order=_order(number), actor=request.user, reason=body.reason)]


@router.get("/orders/{number}/lineage", response=LineageOut)
@require_perm("orders.view_order")
def lineage(request: HttpRequest, number: str) -> dict[str, Any]:
    order = _order(number)
    graph = order_lineage(order=order)
    return {
        "order": order.number,
        "split_merge_status": split_merge_status(order=order),
        "nodes": [{**n, "payable": format_minor(n["payable_minor"], n["currency"])} for n in graph.nodes.values()],
        "edges": graph.edges,
    }
