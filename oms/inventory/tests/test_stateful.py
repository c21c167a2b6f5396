"""Hypothesis drives random sequences of receipts, counts, defective marking, reservations, warehouse
allocation, releases, shipments, transfers and returns; after every step the ledger must equal the counters,
every invariant must hold, and every grant must have been exactly what was free."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from oms.accounts.models import Operator
from oms.channels.models import AllocationRule, ChannelStock
from oms.core.errors import Conflict, ValidationFailed
from oms.inventory.models import DocumentStatus, StockDocument, StockItem
from oms.inventory.services import documents as docs
from oms.inventory.services.reservations import (
    ReserveRequest,
    WarehouseReserveRequest,
    available_to_sell,
    channel_reserve,
    reservations_consume,
    reservations_release,
    warehouse_reserve,
)
from oms.inventory.services.verify import stock_verify
from oms.inventory.tests.factories import make_bundle, make_channel, make_sku, make_warehouse

QTY = st.integers(min_value=1, max_value=8)


class StockMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example runs in its own transaction, rolled back at teardown, so examples do not see each other.
        # Marked like a TestCase block so the services' durable transactions may nest in it.
        self._tx = transaction.atomic()
        self._tx._from_testcase = True  # type: ignore[attr-defined]
        self._tx.__enter__()
        self.in_transit: list[int] = []
        self.actor = Operator.objects.get(username="boss")
        self.w = [make_warehouse(), make_warehouse()]
        self.c = [make_channel(warehouses=self.w), make_channel(warehouses=[self.w[1]])]
        AllocationRule.objects.create(channel=self.c[0], ratio_bp=6000, priority=10)
        AllocationRule.objects.create(channel=self.c[1], ratio_bp=10_000, min_quantity=2, safety_stock=1, priority=20)
        self.s = [make_sku(), make_sku(), make_sku()]
        self.bundle = make_bundle([(self.s[0], 2), (self.s[1], 1)])
        self.sellable = [*self.s, self.bundle]
        self.next_ref = 1
        self.open_refs: list[tuple[int, int]] = []  # (ref id, channel index)
        self.allocated: set[int] = set()
        self.lost_stock = False

    def _ref(self) -> int:
        self.next_ref += 1
        return self.next_ref

    @rule(w=st.integers(0, 1), s=st.integers(0, 2), q=QTY)
    def receive(self, w: int, s: int, q: int) -> None:
        docs.stock_receipt_create(warehouse_id=self.w[w].pk, lines=[docs.DocLine(self.s[s].pk, q)], actor=self.actor)

    @rule(w=st.integers(0, 1), s=st.integers(0, 2), counted=st.integers(0, 10))
    def count(self, w: int, s: int, counted: int) -> None:
        item = StockItem.objects.filter(warehouse=self.w[w], sku=self.s[s]).first()
        reserved = item.reserved if item else 0
        try:
            docs.stock_count_create(
                warehouse_id=self.w[w].pk, lines=[docs.DocLine(self.s[s].pk, counted)], actor=self.actor
            )
        except ValidationFailed:
            assert counted < reserved
        else:
            assert counted >= reserved
            if item and counted < item.on_hand:
                self.lost_stock = True

    @rule(w=st.integers(0, 1), s=st.integers(0, 2), q=QTY)
    def mark_defective(self, w: int, s: int, q: int) -> None:
        item = StockItem.objects.filter(warehouse=self.w[w], sku=self.s[s]).first()
        free = item.on_hand - item.reserved if item else 0
        try:
            docs.stock_defective_mark(
                warehouse_id=self.w[w].pk, lines=[docs.DocLine(self.s[s].pk, q)], actor=self.actor
            )
        except Conflict:
            assert q > free
        else:
            assert q <= free
            self.lost_stock = True

    @rule(c=st.integers(0, 1), k=st.integers(0, 3), q=QTY, refuse=st.booleans())
    def reserve(self, c: int, k: int, q: int, refuse: bool) -> None:
        sku = self.sellable[k]
        before = available_to_sell(channel_id=self.c[c].pk, sku_ids=[sku.pk])[sku.pk]
        ref = self._ref()
        try:
            with transaction.atomic():
                out = channel_reserve(
                    requests=[ReserveRequest("order_line", ref, self.c[c].pk, sku.pk, q)], refuse_when_short=refuse
                )
        except Conflict:
            assert refuse and q > before
            return
        assert out[0].reserved == min(q, before)
        assert out[0].short == q - out[0].reserved
        if out[0].reserved:
            self.open_refs.append((ref, c))

    @precondition(lambda self: self.open_refs)
    @rule(data=st.data(), w=st.integers(0, 1))
    def allocate_warehouse(self, data: Any, w: int) -> None:
        ref, _c = data.draw(st.sampled_from(self.open_refs))
        if ref in self.allocated:
            return
        from oms.inventory.models import Reservation

        rows = Reservation.objects.filter(ref_id=ref, scope="channel", state="active")
        requests = [WarehouseReserveRequest("order_line", ref, self.w[w].pk, r.sku_id, r.quantity) for r in rows]
        try:
            with transaction.atomic():
                warehouse_reserve(requests=requests)
        except Conflict:
            return
        self.allocated.add(ref)

    @precondition(lambda self: self.open_refs)
    @rule(data=st.data())
    def cancel(self, data: Any) -> None:
        ref, c = data.draw(st.sampled_from(self.open_refs))
        with transaction.atomic():
            assert reservations_release(ref_type="order_line", ref_ids=[ref], reason="cancel") > 0
        self.open_refs.remove((ref, c))
        self.allocated.discard(ref)

    @precondition(lambda self: self.allocated)
    @rule(data=st.data())
    def ship(self, data: Any) -> None:
        ref = data.draw(st.sampled_from(sorted(self.allocated)))
        with transaction.atomic():
            assert reservations_consume(ref_type="order_line", ref_ids=[ref]) > 0
        self.open_refs = [(r, c) for r, c in self.open_refs if r != ref]
        self.allocated.discard(ref)

    @rule(src=st.integers(0, 1), s=st.integers(0, 2), q=QTY, ship=st.booleans(), receive=st.booleans())
    def transfer(self, src: int, s: int, q: int, ship: bool, receive: bool) -> None:
        try:
            doc = docs.stock_transfer_create(
                source_id=self.w[src].pk,
                dest_id=self.w[1 - src].pk,
                lines=[docs.DocLine(self.s[s].pk, q)],
                actor=self.actor,
            )
        except Conflict:
            return
        if ship:
            docs.stock_transfer_ship(document_id=doc.pk, actor=self.actor)
            if receive:
                docs.stock_transfer_receive(document_id=doc.pk, actor=self.actor)
            else:
                self.in_transit.append(doc.pk)
        else:
            docs.stock_document_cancel(document_id=doc.pk, actor=self.actor, reason="changed plan")

    @rule(s=st.integers(0, 2), q=QTY, defective=st.booleans(), receive=st.booleans())
    def return_to_warehouse(self, s: int, q: int, defective: bool, receive: bool) -> None:
        try:
            doc = docs.stock_return_create(
                channel_id=self.c[1].pk,
                source_id=self.w[1].pk,
                dest_id=self.w[0].pk,
                lines=[docs.DocLine(self.s[s].pk, q, is_defective=defective)],
                actor=self.actor,
            )
        except (Conflict, ValidationFailed):
            return
        docs.stock_return_ship(document_id=doc.pk, actor=self.actor)
        if receive:
            docs.stock_return_receive(document_id=doc.pk, actor=self.actor)
        else:
            self.in_transit.append(doc.pk)

    @precondition(lambda self: self.in_transit)
    @rule()
    def receive_in_transit(self) -> None:
        doc = StockDocument.objects.get(pk=self.in_transit.pop(0))
        assert doc.status == DocumentStatus.SHIPPED
        if doc.doc_type == "transfer":
            docs.stock_transfer_receive(document_id=doc.pk, actor=self.actor)
        else:
            docs.stock_return_receive(document_id=doc.pk, actor=self.actor)

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._tx.__exit__(None, None, None)

    @invariant()
    def ledger_equals_counters(self) -> None:
        report = stock_verify()
        assert report.drift == []
        if not self.lost_stock:
            assert report.over_committed == []
        for item in StockItem.objects.all():
            assert 0 <= item.reserved_transfer <= item.reserved <= item.on_hand
            assert item.defective >= 0 and item.in_transit >= 0
        for cs in ChannelStock.objects.all():
            assert 0 <= cs.sales_reserved + cs.return_reserved <= cs.quota
            assert cs.pushed <= max(cs.available, 0)


@pytest.mark.django_db
def test_stock_state_machine(admin_operator: Any) -> None:
    run_state_machine_as_test(StockMachine, settings=settings(max_examples=25, stateful_step_count=30, deadline=None))
