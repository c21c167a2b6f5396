"""What the fulfilment services share: locking orders, loading rules and master data as domain snapshots.
Writing orders (transitions, short lines, courier, warehouse) is orders' own: `oms.orders.services`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from oms.catalog.models import BundleComponent
from oms.core.actors import Actor, actor_name
from oms.core.bulk import bulk_insert_columns, ids_in
from oms.core.rules import ConditionMemo, compile_condition, condition_matches, prepare_facts
from oms.fulfillment.domain.allocation import LineNeed, WarehouseOption
from oms.fulfillment.models import AllocationDecision
from oms.inventory.models import Warehouse
from oms.orders.lock_objects import orders_for_update
from oms.orders.models import Order, OrderLine
from oms.orders.services.stock_link import REF_TYPE
from oms.review.domain.facts import ORDER_FACTS
from oms.review.models import Interception, InterceptionState, Rule
from oms.review.selectors import order_facts_many

__all__ = ["REF_TYPE"]

Recipe = tuple[tuple[int, int], ...]


def lock_orders(pks: Iterable[int], *, related: bool = True) -> dict[int, Order]:
    """Lock the orders (primary-key order) and read them with their channel and customer (unless not
    ``related``: the pipeline's batches need neither), in two statements: FOR UPDATE cannot take the
    nullable side of a join."""
    ids = sorted(set(pks))
    if not ids:
        return {}
    list(orders_for_update(pks=ids).values_list("pk", flat=True))
    rows = Order.objects.filter(ids_in("pk", ids)).order_by("pk")
    return {o.pk: o for o in (rows.select_related("channel", "customer") if related else rows)}


def open_holds(order_ids: Sequence[int]) -> set[int]:
    """Orders among ``order_ids`` with an open interception: they go no further until it is released."""
    if not order_ids:
        return set()
    return set(
        Interception.objects.filter(ids_in("order_id", order_ids), state=InterceptionState.OPEN).values_list(
            "order_id", flat=True
        )
    )


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    condition: Any  # the compiled condition of `oms.core.rules`


def enabled_rules(kind: str) -> list[CompiledRule]:
    """The enabled rules of ``kind`` in priority order, each condition compiled once for the whole batch."""
    return [
        CompiledRule(r, compile_condition(r.condition, ORDER_FACTS))
        for r in Rule.objects.filter(kind=kind, enabled=True).order_by("priority", "id")
    ]


def matching_rules(
    rules: Sequence[CompiledRule], facts: dict[str, Any], memo: ConditionMemo | None = None
) -> list[Rule]:
    """The rules whose condition holds for one order, in priority order. A batch passes one ``memo`` for all
    its orders: each condition runs once per distinct set of facts it reads."""
    prepared = prepare_facts(facts)
    check = memo.matches if memo is not None else condition_matches
    return [c.rule for c in rules if check(c.condition, prepared)]


def facts_when_needed(
    orders: Sequence[Order], rules: Sequence[CompiledRule], facts: dict[int, dict[str, Any]] | None
) -> dict[int, dict[str, Any]]:
    """Order facts only when there are rules to evaluate (they cost a few queries per batch)."""
    if not rules or not orders:
        return facts or {}
    missing = [o for o in orders if not facts or o.pk not in facts]
    out = dict(facts or {})
    if missing:
        out.update(order_facts_many(orders=missing))
    return out


def facts_for_rules(orders: Sequence[Order]) -> dict[int, dict[str, Any]]:
    """Facts for the orders when any warehouse or courier rule is enabled (else none are needed)."""
    if not orders or not Rule.objects.filter(kind__in=["warehouse", "courier"], enabled=True).exists():
        return {}
    # Facts read each order's channel and customer: fetch them along with the orders.
    return order_facts_many(
        orders=list(Order.objects.filter(ids_in("pk", [o.pk for o in orders])).select_related("channel", "customer"))
    )


def order_lines(order_ids: Sequence[int]) -> dict[int, list[OrderLine]]:
    by_order: dict[int, list[OrderLine]] = defaultdict(list)
    for line in (
        OrderLine.objects.filter(ids_in("order_id", order_ids))
        .select_related("sku")
        .only(
            "id",
            "order_id",
            "line_no",
            "sku_id",
            "quantity",
            "name",
            "short_quantity",
            "sku__code",
            "sku__is_bundle",
            "sku__weight_g",
        )
        .order_by("order_id", "line_no")
    ):
        by_order[line.order_id].append(line)
    return by_order


class LineRow(NamedTuple):
    """What allocation reads of an order line: a tuple, not a model instance (a batch has thousands)."""

    pk: int
    order_id: int
    sku_id: int | None
    quantity: int
    short_quantity: int
    is_bundle: bool


def order_line_rows(order_ids: Sequence[int]) -> dict[int, list[LineRow]]:
    by_order: dict[int, list[LineRow]] = defaultdict(list)
    for row in (
        OrderLine.objects.filter(ids_in("order_id", order_ids))
        .order_by("order_id", "line_no")
        .values_list("id", "order_id", "sku_id", "quantity", "short_quantity", "sku__is_bundle")
    ):
        line = LineRow(*row[:5], bool(row[5]))
        by_order[line.order_id].append(line)
    return by_order


def recipes_for(lines: Iterable[OrderLine]) -> dict[int, Recipe]:
    """Stocked components per SKU id: itself for a plain SKU, the recipe for a bundle (组合装)."""
    return recipes_of({ln.sku_id: ln.sku is not None and ln.sku.is_bundle for ln in lines if ln.sku_id is not None})


def recipes_of(skus: dict[int, bool]) -> dict[int, Recipe]:
    """`recipes_for` from SKU id → whether it is a bundle."""
    recipes: dict[int, Recipe] = {}
    bundles: list[int] = []
    for sku_id, is_bundle in skus.items():
        if is_bundle:
            bundles.append(sku_id)
            recipes[sku_id] = ()
        else:
            recipes[sku_id] = ((sku_id, 1),)
    if bundles:
        parts: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for b, c, q in BundleComponent.objects.filter(bundle_id__in=bundles).values_list(
            "bundle_id", "component_id", "quantity"
        ):
            parts[b].append((c, q))
        for b in bundles:
            recipes[b] = tuple(sorted(parts[b]))
    return recipes


def line_needs(lines: Sequence[OrderLine | LineRow], recipes: dict[int, Recipe]) -> tuple[LineNeed, ...]:
    return tuple(LineNeed(ln.pk, recipes[ln.sku_id], ln.quantity) for ln in lines if ln.sku_id is not None)


def warehouse_options() -> list[WarehouseOption]:
    return [
        WarehouseOption(
            id=w.pk,
            code=w.code,
            province=w.province,
            coverage_provinces=tuple(w.coverage_provinces or ()),
            coverage_cities=tuple(w.coverage_cities or ()),
            priority=w.priority,
        )
        for w in Warehouse.objects.filter(is_active=True).order_by("priority", "code")
    ]


class DecisionRows:
    """Allocation decisions of one kind gathered column by column and written in one statement (a batch
    records thousands; no model instance each)."""

    COLUMNS = ("order_id", "outcome", "warehouse_id", "courier_id", "rule_id", "rule_code", "reason", "plan")

    def __init__(self, kind: str, actor: Actor) -> None:
        self.kind = kind
        self.who = actor_name(actor)
        self.columns: dict[str, list[Any]] = {name: [] for name in (*self.COLUMNS, "cost_minor")}

    def add(self, *, order_id: int, outcome: str, reason: str, plan: dict[str, Any], **ids: Any) -> None:
        row = {"order_id": order_id, "outcome": outcome, "reason": reason[:300], "plan": plan, "rule_code": "", **ids}
        for name, values in self.columns.items():
            values.append(row.get(name))

    def insert(self, now: datetime) -> None:
        count = len(self.columns["order_id"])
        values = {"kind": self.kind, "actor_name": self.who, "created_at": now, **self.columns}
        bulk_insert_columns(AllocationDecision, count, values)
