"""Exchanges (换货): the replacements a case sends, priced with the return (domain ``price_exchange``), and the
exchange order made once the goods are back and inspected.

Settling an exchange: the original's kept lines get their new figures (a line version), the exchange order is made
through orders (``order_exchange_create``: stock reserved, pending payment while the buyer owes the difference),
the money the return freed is carried to it (``payment_carry``), what is left over is owed back to the buyer
(refunded like any case), and the two orders are linked in the lineage graph through ``LINKED_ORDER_HOOKS``
(split/merge owns the lineage; registered in ``oms.wiring``) — reissue orders are linked the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from oms.aftersales.domain.exchange import Exchange, Replacement, price_exchange
from oms.aftersales.domain.recalculate import Policy
from oms.aftersales.models import Case, CaseReplacement
from oms.aftersales.services.facts import OrderView
from oms.catalog.models import Sku
from oms.core.actors import Actor
from oms.core.domain.limits import MAX_ORDER_LINE_QUANTITY, MAX_UNIT_PRICE_MINOR
from oms.core.errors import FieldError, ValidationFailed
from oms.orders.models import Order
from oms.orders.services.exchange import ExchangeLine, order_exchange_create
from oms.orders.services.payments import payment_carry


@dataclass(frozen=True)
class ReplacementRequest:
    replaces: int  # the order line no it takes the place of (a line the case returns)
    sku_code: str
    quantity: int
    unit_price_minor: int | None = None  # default: the replaced line's price, when it is the same SKU


class LinkedOrderHook(Protocol):
    """An order made by a case for an order that lives on (``kind``: exchange or reissue) is linked to it.
    Runs in the case's transaction with the original locked. Registered in `oms.wiring`."""

    def __call__(self, *, parent: Order, child: Order, kind: str, actor: Actor, reason: str) -> object: ...


LINKED_ORDER_HOOKS: list[LinkedOrderHook] = []


def linked_order_announce(*, case: Case, parent: Order, child: Order, actor: Actor) -> None:
    for hook in LINKED_ORDER_HOOKS:
        hook(parent=parent, child=child, kind=case.kind, actor=actor, reason=f"售后 {case.number}")


def replacements_resolve(
    view: OrderView, returning: Sequence[int], asked: Sequence[ReplacementRequest]
) -> tuple[list[Replacement], list[Sku]]:
    """The replacements as the domain takes them (line positions, prices), with their SKUs; refuses, naming the
    field, a line the case does not return, an unknown SKU, units or a price out of range, a missing price."""
    by_no = {ln.line_no: i for i, ln in enumerate(view.lines)}
    skus = {s.code: s for s in Sku.objects.filter(code__in=[r.sku_code for r in asked])}
    errors: list[FieldError] = []
    out: list[Replacement] = []
    out_skus: list[Sku] = []
    if not asked:
        errors.append(FieldError("replacements", "An exchange sends at least one replacement.", "required"))
    for i, r in enumerate(asked):
        field = f"replacements[{i}]"
        position = by_no.get(r.replaces)
        sku = skus.get(r.sku_code)
        if position is None or not returning[position]:
            errors.append(FieldError(f"{field}.replaces", "Name a line this case returns.", "not_returned"))
        if sku is None:
            errors.append(FieldError(f"{field}.sku", f"No SKU {r.sku_code!r}.", "unknown_sku"))
        if not 0 < r.quantity <= MAX_ORDER_LINE_QUANTITY:
            errors.append(
                FieldError(f"{field}.quantity", f"From 1 to {MAX_ORDER_LINE_QUANTITY} units.", "out_of_range")
            )
        price = r.unit_price_minor
        if price is None and position is not None and sku is not None and view.lines[position].sku_id == sku.pk:
            price = view.lines[position].unit_price_minor
        if price is None:
            errors.append(FieldError(f"{field}.unit_price", "Give the replacement's price.", "required"))
        elif not 0 <= price <= MAX_UNIT_PRICE_MINOR:
            errors.append(FieldError(f"{field}.unit_price", "A price from 0 within the limit.", "out_of_range"))
        if position is not None and sku is not None and price is not None:
            out.append(Replacement(position, price, r.quantity))
            out_skus.append(sku)
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid.", details=errors)
    return out, out_skus


def replacements_save(case: Case, view: OrderView, replacements: Sequence[Replacement], skus: Sequence[Sku]) -> None:
    CaseReplacement.objects.bulk_create(
        [
            CaseReplacement(
                case=case,
                replaces=view.lines[r.replaces],
                sku=sku,
                quantity=r.quantity,
                unit_price_minor=r.unit_price_minor,
            )
            for r, sku in zip(replacements, skus, strict=True)
        ]
    )


def exchange_of_case(case: Case, view: OrderView) -> tuple[Exchange, list[CaseReplacement]]:
    """The case's exchange priced on the order's figures now."""
    units = dict(case.lines.values_list("line_id", "quantity"))
    returning = [units.get(ln.pk, 0) for ln in view.lines]
    position = {ln.pk: i for i, ln in enumerate(view.lines)}
    rows = list(case.replacements.select_related("sku").order_by("pk"))
    replacements = [Replacement(position[r.replaces_id], r.unit_price_minor, r.quantity) for r in rows]
    policy = Policy(case.method, case.shipping_rule, case.gift_rule)
    return price_exchange(view.facts, returning, replacements, policy), rows


def exchange_order_make(
    *, order: Order, case: Case, exchange: Exchange, rows: list[CaseReplacement], actor: Actor
) -> Order:
    """The exchange order for the case's replacements at what the exchange priced them, paid from the original as
    far as the return freed money, linked both ways. The caller holds the original's lock."""
    for row, paid in zip(rows, exchange.replacement_paid, strict=True):
        row.paid_minor = paid
    CaseReplacement.objects.bulk_update(rows, ["paid_minor"])
    made = order_exchange_create(
        original=order,
        lines=[ExchangeLine(r.sku, r.quantity, r.unit_price_minor, r.paid_minor) for r in rows],
        owed_minor=exchange.owed_minor,
        source=case.number,
        actor=actor,
    )
    payment_carry(source=order, target=made, amount_minor=exchange.carried_minor, reference=case.number, actor=actor)
    linked_order_announce(case=case, parent=order, child=made, actor=actor)
    return made
