"""The daily rollups stay equal to a full recompute (an independent one, in Python over every row) after any
sequence of intake, payments, refunds, cancellations, splits and merges, refreshed incrementally; split and
merged orders never count the same sales or cash twice."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.channels.models import Channel, ChannelWarehouse
from oms.core.errors import ApplicationError
from oms.orders.models import Order, Payment
from oms.orders.services.cancel import order_cancel
from oms.orders.services.payments import payment_record
from oms.reports.services.rollups import rollups_rebuild, rollups_refresh
from oms.reports.tests.rollup_check import assert_rollups_match, living_sales_orders
from oms.splitmerge.services.merge import orders_merge
from oms.splitmerge.services.split import order_split
from oms.testing.fulfillment import World

_ids = itertools.count(1)
BUYER = {"platform_buyer_id": "rollup-buyer", "nickname": "小王", "phone": "13700137000"}
PROVINCES = ("浙江", "广东")
LINES = ([("TEA-001", 2), ("NUT-002", 1)], [("CUP-003", 3)], [("TEA-001", 1), ("CUP-003", 1), ("RICE-10", 2)])

step = st.one_of(
    st.tuples(
        st.just("new"), st.integers(0, 3), st.integers(0, 1), st.integers(0, 1), st.integers(0, 2), st.booleans()
    ),
    st.tuples(st.just("pay"), st.integers(0, 30), st.integers(1, 50_00)),
    st.tuples(st.just("refund"), st.integers(0, 30), st.integers(1, 50_00)),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("split"), st.integers(0, 30)),
    st.tuples(st.just("merge"), st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.just("refresh")),
)


class Scenario:
    def __init__(self, world: World, jd: Channel) -> None:
        self.world, self.channels, self.n = world, [world.channel, jd], 0
        self.done: list[str] = []

    def living(self, index: int) -> Order | None:
        orders = sorted(living_sales_orders().values(), key=lambda o: o.pk)
        return orders[index % len(orders)] if orders else None

    def run(self, s: tuple[Any, ...]) -> None:
        self.n += 1
        if s[0] == "new":
            self.do_new(*s[1:])  # intake of a good order never fails
            return
        try:
            getattr(self, f"do_{s[0]}")(*s[1:])
            self.done.append(s[0])
        except ApplicationError:
            pass  # refused (not allowed in the order's state): nothing was written

    def do_new(self, day: int, channel: int, province: int, lines: int, paid: bool) -> None:
        when = f"2026-01-{12 + day:02d}T{9 + channel:02d}:30:00+08:00"
        payment = {"method": "alipay", "transaction_id": f"RP{next(_ids)}", "paid_at": when} if paid else None
        receiver = {
            "name": "王小明",
            "phone": "13700137000",
            "province": PROVINCES[province],
            "city": "杭州市",
            "district": "西湖区",
            "address": "文三路 1 号",
            "postcode": "310000",
        }
        self.world.order(
            LINES[lines],
            channel=self.channels[channel].code,
            placed_at=when,
            payment=payment,
            buyer=BUYER,
            receiver=receiver,
            order_discount="1.01",
            shipping="6.00",
        )

    def do_pay(self, index: int, amount: int) -> None:
        order = self.living(index)
        if order is not None:
            payment_record(
                order=order,
                method="wechat_pay",
                transaction_id=f"WX{next(_ids)}",
                amount_minor=amount,
                paid_at=None,
                actor=self.world.actor,
            )

    def do_refund(self, index: int, amount: int) -> None:
        order = self.living(index)
        if order is not None and order.received_minor - order.refunded_minor > 0:
            payment_record(
                order=order,
                method="alipay",
                transaction_id=f"RF{next(_ids)}",
                amount_minor=min(amount, order.received_minor - order.refunded_minor),
                paid_at=None,
                actor=self.world.actor,
                kind="refund",
            )

    def do_cancel(self, index: int) -> None:
        order = self.living(index)
        if order is not None:
            order_cancel(order=order, actor=self.world.actor, reason="买家取消")

    def do_split(self, index: int) -> None:
        order = self.living(index)
        if order is None:
            return
        lines = list(order.lines.order_by("line_no"))
        if len(lines) >= 2:
            groups = [{lines[0].line_no: lines[0].quantity}, {ln.line_no: ln.quantity for ln in lines[1:]}]
        elif lines[0].quantity >= 2:
            groups = [{lines[0].line_no: 1}, {lines[0].line_no: lines[0].quantity - 1}]
        else:
            return
        order_split(order=order, groups=groups, actor=self.world.actor)

    def do_merge(self, i: int, j: int) -> None:
        a, b = self.living(i), self.living(j)
        if a is not None and b is not None and a.pk != b.pk:
            orders_merge(numbers=[a.number, b.number], actor=self.world.actor)

    def do_refresh(self) -> None:
        rollups_refresh()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=14))
def test_incremental_rollups_equal_a_full_recompute(world: World, settings: Any, steps: list[tuple[Any, ...]]) -> None:
    settings.OMS_REPORTS = {**settings.OMS_REPORTS, "ROLLUP_LAG_S": 0}
    for code in ("TEA-001", "NUT-002", "CUP-003", "RICE-10"):
        world.receive(world.hz, code, 200)
    jd, _ = Channel.objects.get_or_create(
        code="JD", defaults={"name": "京东自营", "platform": "jd", "classification": "online"}
    )
    ChannelWarehouse.objects.get_or_create(channel=jd, warehouse=world.hz)
    scenario = Scenario(world, jd)
    for s in steps:
        scenario.run(s)
    rollups_refresh()
    assert_rollups_match()
    # Money counted once: the living orders' paid and refunded add up to the real payment records exactly,
    # however the orders were split and merged (the carried bookkeeping rows never add to it).
    living = living_sales_orders().values()
    real = Payment.objects.exclude(method="carried")
    assert sum(o.received_minor for o in living) == sum(p.amount_minor for p in real.filter(kind="payment"))
    assert sum(o.refunded_minor for o in living) == sum(p.amount_minor for p in real.filter(kind="refund"))


def test_a_rebuild_equals_the_incremental_figures(world: World) -> None:
    world.order([("TEA-001", 2)])
    rollups_refresh()
    world.order([("CUP-003", 1)], placed_at="2026-01-10T08:00:00+08:00")
    first = rollups_refresh()
    assert first.sales_days and not first.rebuilt
    assert_rollups_match()
    rollups_rebuild()
    assert_rollups_match()
