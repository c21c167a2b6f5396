"""A Hypothesis state machine over intake, split (by line and quantity), merge, un-merge, cancel,
pipeline, transfer warehouse, ship, and payments and refunds named after an original (routed to its
living descendants once it is replaced), on PostgreSQL. After every step, for each original order:
its money summed over its living descendants equals the original to the cent (received and refunded
including what reached them since); its remarks, invoice
request and platform order ids are reachable from them; and stock holds (counters equal the ledger,
nothing negative)."""

from __future__ import annotations

import contextlib
import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from oms.channels.models import ChannelStock
from oms.core.errors import ApplicationError
from oms.fulfillment.models import Shipment
from oms.fulfillment.services.dispatch import order_dispatch
from oms.fulfillment.services.pipeline import orders_advance
from oms.fulfillment.services.transfer import order_warehouse_transfer
from oms.fulfillment.services.wms import wms_callback_receive
from oms.inventory.models import StockItem
from oms.inventory.services.verify import stock_verify
from oms.orders.domain.payments import refunded_in_full
from oms.orders.models import Order, OrderLine
from oms.orders.services.cancel import order_cancel
from oms.orders.services.payments import payment_record
from oms.review.models import Interception
from oms.review.services import interceptions_release
from oms.splitmerge.models import LineOrigin, OrderLineage
from oms.splitmerge.services.merge import order_unmerge, orders_merge
from oms.splitmerge.services.split import order_split
from oms.testing.fulfillment import World, signed_callback

MONEY = (
    "goods_minor",
    "line_discount_minor",
    "order_discount_minor",
    "shipping_minor",
    "payable_minor",
    "received_minor",
)
LINE_MONEY = ("gross_minor", "line_discount_minor", "order_discount_minor", "shipping_minor", "paid_minor")
CODES = ("TEA-001", "NUT-002", "CUP-003")
_seq = itertools.count(1)


@dataclass(frozen=True)
class Original:
    number: str
    money: tuple[int, ...]
    buyer_remark: str
    invoice_title: str
    platform_ids: tuple[str, ...]


def _leaves(number: str) -> list[Order]:
    """The living descendants: follow lineage from the order to the orders nothing replaced."""
    order = Order.objects.get(number=number)
    frontier, leaves, seen = [order], [], {order.pk}
    while frontier:
        o = frontier.pop()
        children = [link.child for link in OrderLineage.objects.filter(parent=o).select_related("child")]
        if not children:
            leaves.append(o)
        for c in children:
            if c.pk not in seen:
                seen.add(c.pk)
                frontier.append(c)
    return leaves


def machine_for(world: World) -> type[RuleBasedStateMachine]:
    class SplitMergeMachine(RuleBasedStateMachine):
        originals = Bundle("originals")

        def __init__(self) -> None:
            super().__init__()
            self.tracked: list[Original] = []
            # Paid or refunded since intake under an original's number, as far as it reached living orders.
            self.received: dict[str, int] = defaultdict(int)
            self.refunded: dict[str, int] = defaultdict(int)

        def _living(self, statuses: tuple[str, ...]) -> list[Order]:
            numbers = {leaf.number for o in self.tracked for leaf in _leaves(o.number)}
            return list(Order.objects.filter(number__in=numbers, status__in=statuses).order_by("pk"))

        @rule(
            target=originals,
            lines=st.lists(
                st.tuples(st.sampled_from(CODES), st.integers(1, 4)), min_size=1, max_size=3, unique_by=lambda t: t[0]
            ),
            buyer=st.sampled_from(["b1", "b2"]),
            discount=st.integers(0, 500),
            shipping=st.integers(0, 900),
        )
        def intake(self, lines: list[tuple[str, int]], buyer: str, discount: int, shipping: int) -> str:
            n = next(_seq)
            order = world.order(
                lines,
                buyer={"platform_buyer_id": buyer, "phone": "13900139000"},
                buyer_remark=f"remark-{n}",
                invoice={"kind": "personal", "title": f"title-{buyer}"},
                order_discount=f"{min(discount, sum(q for _c, q in lines) * 1000 - 1) / 100:.2f}",
                shipping=f"{shipping / 100:.2f}",
            )
            self.tracked.append(
                Original(
                    order.number,
                    tuple(getattr(order, a) for a in MONEY),
                    order.buyer_remark,
                    order.invoice_title,
                    tuple(order.platform_order_ids),
                )
            )
            return order.number

        @initialize(target=originals)
        def opening_orders(self) -> str:
            # Two orders of one buyer to one address (mergeable) and one of another buyer.
            self.intake([("TEA-001", 3), ("NUT-002", 2)], "b1", 120, 600)
            self.intake([("CUP-003", 2)], "b1", 0, 0)
            return self.intake([("TEA-001", 1), ("CUP-003", 1)], "b2", 50, 800)

        @precondition(lambda self: bool(self.tracked))
        @rule(data=st.data())
        def split(self, data: Any) -> None:
            candidates = self._living(("pending_review", "pending_split", "pending_dispatch"))
            if not candidates:
                return
            order = data.draw(st.sampled_from(candidates))
            lines = list(order.lines.order_by("line_no"))
            units = sum(ln.quantity for ln in lines)
            if units < 2:
                return
            groups: list[dict[int, int]] = [{}, {}]
            for ln in lines:
                first = data.draw(st.integers(0, ln.quantity))
                if first:
                    groups[0][ln.line_no] = first
                if ln.quantity - first:
                    groups[1][ln.line_no] = ln.quantity - first
            with contextlib.suppress(ApplicationError):
                order_split(order=order, groups=groups, actor=world.actor)
                event("split")

        @precondition(lambda self: bool(self.tracked))
        @rule(data=st.data())
        def merge(self, data: Any) -> None:
            candidates = self._living(("pending_review", "pending_split", "pending_dispatch"))
            by_buyer: dict[Any, list[Order]] = defaultdict(list)
            for o in candidates:
                by_buyer[o.customer_id].append(o)
            pairs = [v for v in by_buyer.values() if len(v) >= 2]
            if not pairs:
                return
            group = data.draw(st.sampled_from(pairs))
            chosen = data.draw(st.lists(st.sampled_from(group), min_size=2, max_size=3, unique_by=lambda o: o.pk))
            with contextlib.suppress(ApplicationError):
                orders_merge(numbers=[o.number for o in chosen], actor=world.actor)
                event("merge")

        @precondition(lambda self: bool(self.tracked))
        @rule(data=st.data())
        def unmerge(self, data: Any) -> None:
            merged_ids = set(OrderLineage.objects.filter(kind="merge").values_list("child_id", flat=True))
            candidates = [
                o for o in self._living(("pending_review", "pending_split", "pending_dispatch")) if o.pk in merged_ids
            ]
            if candidates:
                with contextlib.suppress(ApplicationError):
                    order_unmerge(order=data.draw(st.sampled_from(candidates)), actor=world.actor)
                    event("unmerge")

        @precondition(lambda self: bool(self.tracked))
        @rule(data=st.data())
        def cancel(self, data: Any) -> None:
            candidates = self._living(("pending_review", "pending_split", "pending_dispatch"))
            if candidates:
                order_cancel(order=data.draw(st.sampled_from(candidates)), actor=world.actor, reason="state machine")

        @precondition(lambda self: bool(self.tracked))
        @rule(data=st.data(), refund=st.booleans(), amount=st.integers(1, 5_000))
        def money_named_after_an_original(self, data: Any, refund: bool, amount: int) -> None:
            """A late payment or a refund callback naming an original, replaced by now or not."""
            original = data.draw(st.sampled_from(self.tracked))
            order = Order.objects.get(number=original.number)
            result = payment_record(
                order=order,
                method="alipay",
                transaction_id=f"SM-{next(_seq)}",
                amount_minor=amount,
                paid_at=None,
                actor=world.actor,
                kind="refund" if refund else "payment",
            )
            replaced = OrderLineage.objects.filter(parent=order).exists()
            reached = sum(share for _o, share in result.routed) if replaced else amount
            (self.refunded if refund else self.received)[original.number] += reached
            event("routed" if result.routed else "not routed")

        @precondition(lambda self: bool(self.tracked))
        @rule()
        def advance(self) -> None:
            """An operator releases the holds of orders waiting for review, then the pipeline moves them on."""
            # An order refunded in full keeps its hold: releasing it is refused (409), it is cancelled instead.
            living = [o for o in self._living(("pending_review",)) if not refunded_in_full(o.payment_status)]
            holds = list(Interception.objects.filter(order__in=living, state="open").values_list("pk", flat=True))
            if holds:
                interceptions_release(interception_ids=holds, actor=world.actor, note="state machine")
            orders_advance(orders=self._living(("pending_review",)), actor=world.actor, buffer_minutes=0)

        @precondition(lambda self: bool(self.tracked))
        @rule(data=st.data())
        def transfer(self, data: Any) -> None:
            candidates = [o for o in self._living(("pending_dispatch",)) if o.final_warehouse_id]
            if candidates:
                order = data.draw(st.sampled_from(candidates))
                target = world.gz if order.final_warehouse_id == world.hz.pk else world.hz
                with contextlib.suppress(ApplicationError):
                    order_warehouse_transfer(order=order, to_warehouse=target, actor=world.actor, reason="machine")
                    event("transfer")

        @precondition(lambda self: bool(self.tracked))
        @rule(data=st.data())
        def ship(self, data: Any) -> None:
            candidates = self._living(("pending_dispatch",))
            if not candidates:
                return
            order = data.draw(st.sampled_from(candidates))
            try:
                order_dispatch(order=order, actor=world.actor)
            except ApplicationError:
                return
            shipment = Shipment.objects.filter(order=order).order_by("-id").first()
            assert shipment is not None
            for body in (
                {"type": "accepted", "shipment": shipment.number},
                {"type": "shipped", "shipment": shipment.number, "tracking_number": f"T{shipment.pk}"},
            ):
                raw, headers = signed_callback(body)
                wms_callback_receive(warehouse_code=shipment.warehouse.code, headers=headers, body=raw)
            event("ship")

        @invariant()
        def money_remarks_invoices_and_ids_survive(self) -> None:
            tracked = {o.number: o for o in self.tracked}
            line_sums: dict[str, list[int]] = {n: [0, 0, 0, 0, 0] for n in tracked}
            leaves_of: dict[str, set[str]] = {}
            for original in self.tracked:
                leaves = _leaves(original.number)
                leaves_of[original.number] = {o.number for o in leaves}
                assert any(original.buyer_remark in o.buyer_remark for o in leaves)
                assert any(o.invoice_title == original.invoice_title for o in leaves)
                assert set(original.platform_ids) <= {pid for o in leaves for pid in o.platform_order_ids}
            # Per original: every living line, traced back through its origins to an original line,
            # adds up to that original's line money (merges copy lines whole; splits divide them).
            living = {n for ns in leaves_of.values() for n in ns}
            for line in OrderLine.objects.filter(order__number__in=living).select_related("order"):
                root = line
                while origin := LineOrigin.objects.filter(line=root).select_related("source_line__order").first():
                    root = origin.source_line
                sums = line_sums[root.order.number]
                for i, col in enumerate(LINE_MONEY):
                    sums[i] += getattr(line, col)
            for number, original in tracked.items():
                assert tuple(line_sums[number]) == original.money[:5], (number, line_sums[number], original.money)
            # Money received follows the orders: within each group of originals that share descendants,
            # what the living orders received equals what the originals received.
            groups: list[tuple[set[str], set[str]]] = []
            for number, leaves in leaves_of.items():
                joined = [g for g in groups if g[1] & leaves]
                merged = ({number} | {n for g in joined for n in g[0]}, set(leaves) | {n for g in joined for n in g[1]})
                groups = [g for g in groups if g not in joined] + [merged]
            for originals, leaves in groups:
                living_orders = list(Order.objects.filter(number__in=leaves))
                got = sum(o.received_minor for o in living_orders)
                assert got == sum(tracked[n].money[5] + self.received[n] for n in originals)
                assert sum(o.refunded_minor for o in living_orders) == sum(self.refunded[n] for n in originals)

        @invariant()
        def stock_is_exact(self) -> None:
            report = stock_verify()
            assert report.drift == []
            assert not StockItem.objects.filter(on_hand__lt=0).exists()
            assert not StockItem.objects.filter(reserved__lt=0).exists()
            assert not ChannelStock.objects.filter(sales_reserved__lt=0).exists()

    return SplitMergeMachine


@pytest.mark.postgres
def test_split_merge_state_machine(world: World) -> None:
    for wh, qty in ((world.hz, 40), (world.gz, 40)):
        for code in CODES:
            world.receive(wh, code, qty)
    run_state_machine_as_test(
        machine_for(world),
        settings=settings(
            max_examples=20,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
